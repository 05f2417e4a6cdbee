-- progress: ARGV prefix id token lease_ms event
-- With the current lease's token: extends the lease (never past the time limit) and
-- appends the event (none when event is empty: a renewal only). Returns 1, or 0 when fenced
-- (recorded in the stream "stale").
local id, token, lease_ms, event = ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
if event ~= '' and json_members(event) == nil then
    return bad_event()
end
local sub = k_sub(id)
local now = clock()
local h = redis.call('HMGET', sub, 'state', 'token', 'pool', 'started_at', 'time_limit_ms')
if h[1] ~= 'RUNNING' or h[2] ~= token then
    record_stale('progress', id, token, h[1], h[2], now)
    return 0
end
local till = lease_end(now, lease_ms, tonumber(h[4]), tonumber(h[5]))
redis.call('HSET', sub, 'lease_until', till)
redis.call('ZADD', k_leases(h[3]), till, id)
if event ~= '' then
    emit(id, event)
end
return 1
