-- cancel: ARGV prefix id message
-- Cancels a queued (or delayed) or running submission: CANCELLED event, outbox. Final
-- submissions are left as they are. Counted as finished only when it was running (a grader
-- worked on it; a job cancelled in the queue is no throughput). Returns {state before, grader
-- that held it or ''}.
local id, message = ARGV[2], ARGV[3]
local sub = k_sub(id)
local h = redis.call('HMGET', sub, 'state', 'pool', 'participant', 'grader')
local state = h[1]
if not state then
    return { 'UNKNOWN', '' }
end
local grader = ''
if state == 'QUEUED' then
    remove_queued(h[2], h[3], id)
    undelay_job(h[2], id)
elseif state == 'RUNNING' then
    grader = h[4] or ''
    redis.call('ZREM', k_leases(h[2]), id)
else
    return { state, '' }
end
if message == '' then
    message = 'cancelled'
end
local now = clock()
redis.call('HSET', sub, 'state', 'CANCELLED', 'message', message, 'lease_until', 0)
redis.call('SADD', K_OUTBOX, id)
if state == 'RUNNING' then
    count_stat(h[2], now, 'finished')
end
emit(id, make_event('CANCELLED', message, nil, now))
return { state, grader }
