-- complete: ARGV prefix id token result event
-- With the current lease's token: records the result, ends the lease, puts the submission
-- in the outbox and appends the COMPLETE event. Returns 1, or 0 when fenced (recorded in
-- the stream "stale"; nothing else changes). Counted as finished.
local id, token, result, event = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
if json_members(event) == nil then
    return bad_event()
end
local sub = k_sub(id)
local now = clock()
local h = redis.call('HMGET', sub, 'state', 'token', 'pool')
if h[1] ~= 'RUNNING' or h[2] ~= token then
    record_stale('complete', id, token, h[1], h[2], now)
    return 0
end
redis.call('HSET', sub, 'state', 'DONE', 'result', result, 'lease_until', 0)
redis.call('ZREM', k_leases(h[3]), id)
redis.call('SADD', K_OUTBOX, id)
count_stat(h[3], now, 'finished')
emit(id, event)
return 1
