-- release: ARGV prefix id token
-- A grader that disconnected cleanly gives its job back: queued again at the head of its
-- participant's queue, the attempt not counted. Returns 1, or 0 when fenced.
local id, token = ARGV[2], ARGV[3]
local sub = k_sub(id)
local now = clock()
local h = redis.call('HMGET', sub, 'state', 'token', 'pool', 'participant')
if h[1] ~= 'RUNNING' or h[2] ~= token then
    record_stale('release', id, token, h[1], h[2], now)
    return 0
end
local pool, participant = h[3], h[4]
redis.call('HINCRBY', sub, 'attempt', -1)
redis.call('HSET', sub, 'state', 'QUEUED', 'grader', '', 'lease_until', 0)
redis.call('ZREM', k_leases(pool), id)
push_queue(pool, participant, id, now, true)
local pos = fair_position(pool, participant, id)
emit(id, make_event('INFO', 'the grader gave the job back; it is queued again', nil, now,
    { position = pos }))
return 1
