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
local found = {}
local start = '-'
while true do
    local batch = redis.call('XRANGE', K_DLQ, start, '+', 'COUNT', 500)
    for _, entry in ipairs(batch) do
        local fields = entry[2]
        for i = 1, #fields, 2 do
            if fields[i] == 'sub' and fields[i + 1] == id then
                found[#found + 1] = entry[1]
            end
        end
    end
    if #batch < 500 then
        break
    end
    start = '(' .. batch[#batch][1]
end
if #found == 0 then
    return 0
end
local now = clock()
redis.call('XDEL', K_DLQ, unpack(found))
redis.call('SREM', K_OUTBOX, id)
redis.call('HSET', sub, 'state', 'QUEUED', 'attempt', 0, 'grader', '', 'message', '',
    'result', '', 'lease_until', 0)
push_queue(h[2], h[3], id, now, false)
emit(id, make_event('INFO', 'queued again from the dead-letter queue', nil, now,
    { position = fair_position(h[2], h[3], id) }))
return 1
