-- enqueue: ARGV prefix pool id participant payload max_attempts time_limit_ms event
-- Queues a new submission (idempotent by id) and appends its ENQUEUED event with the
-- queue position. Returns {existing (0/1), position (-1 when not queued)}.
local pool, id, participant = ARGV[2], ARGV[3], ARGV[4]
local event = ARGV[8]
if json_members(event) == nil then
    return bad_event()
end
local sub = k_sub(id)
if redis.call('EXISTS', sub) == 1 then
    local h = redis.call('HMGET', sub, 'state', 'pool', 'participant')
    local pos = -1
    if h[1] == 'QUEUED' then
        pos = fair_position(h[2], h[3], id)
    end
    return { 1, pos }
end
local now = clock()
redis.call('HSET', sub, 'pool', pool, 'participant', participant, 'state', 'QUEUED',
    'attempt', 0, 'max_attempts', ARGV[6], 'token', 0, 'grader', '', 'payload', ARGV[5],
    'time_limit_ms', ARGV[7], 'started_at', 0, 'lease_until', 0, 'seq', 0, 'result', '',
    'message', '')
redis.call('SADD', K_POOLS, pool)
push_queue(pool, participant, id, now, false)
local pos = fair_position(pool, participant, id)
emit(id, json_with(event, '"position":' .. num(pos)))
return { 0, pos }
