-- note: ARGV prefix id event
-- Appends a broker-made event (WAITING) to a submission that is still queued. Returns 1, or
-- 0 when it is no longer queued (the note would be stale).
local id, event = ARGV[2], ARGV[3]
if json_members(event) == nil then
    return bad_event()
end
local state = redis.call('HGET', k_sub(id), 'state')
if state ~= 'QUEUED' then
    return 0
end
emit(id, event)
return 1
