-- dlq_requeue: ARGV prefix id
-- Queues a dead-lettered submission again with its attempts reset: its dead-letter
-- entries go, and so does its outbox entry (its ERROR is no longer final).
-- Returns 1, or 0 when it is not in the dead-letter queue.
local id = ARGV[2]
local sub = k_sub(id)
local h = redis.call('HMGET', sub, 'state', 'pool', 'participant')
if h[1] ~= 'ERROR' then
    return 0
end
if dlq_remove(id) == 0 then
    return 0
end
queue_again(sub, id, h[2], h[3], clock(), 'queued again from the dead-letter queue')
return 1
