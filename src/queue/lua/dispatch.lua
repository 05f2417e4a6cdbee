-- dispatch: ARGV prefix pool grader lease_ms running_event
-- Takes the next job of the pool, round robin over the participants with queued work,
-- and leases it to the grader with a new fencing token. Entries that are no longer queued
-- are dropped on the way. Returns false when nothing is queued, else
-- {id, participant, attempt, token, deadline (0: no limit), payload}.
local pool, grader, lease_ms, event = ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
if json_members(event) == nil then
    return bad_event()
end
local ring, order = k_ring(pool), k_order(pool)
for _ = 1, 1000 do
    local participant = redis.call('LPOP', ring)
    if not participant then
        return false
    end
    local list = k_plist(pool, participant)
    local id = redis.call('LPOP', list)
    if redis.call('LLEN', list) > 0 then
        redis.call('RPUSH', ring, participant)
    end
    if id then
        local sub = k_sub(id)
        local queued = redis.call('ZSCORE', order, id)
        redis.call('ZREM', order, id)
        if queued and redis.call('HGET', sub, 'state') == 'QUEUED' then
            local now = clock()
            local attempt = redis.call('HINCRBY', sub, 'attempt', 1)
            local token = redis.call('INCR', K_TOKEN)
            local h = redis.call('HMGET', sub, 'time_limit_ms', 'payload')
            local limit = tonumber(h[1]) or 0
            local deadline = 0
            if limit > 0 then
                deadline = now + limit
            end
            local till = lease_end(now, lease_ms, now, limit)
            redis.call('HSET', sub, 'state', 'RUNNING', 'token', token, 'grader', grader,
                'started_at', now, 'lease_until', till, 'message', '')
            redis.call('ZADD', k_leases(pool), till, id)
            emit(id, event)
            return { id, participant, attempt, token, deadline, h[2] }
        end
    end
end
return false
