-- regrade: ARGV prefix id
-- Grades an ended submission again (COMPLETE, ERROR or TIMEOUT; not CANCELLED), its
-- attempts reset: an organiser fixed the grader. Returns the state it had, or the state
-- that prevented it ('QUEUED', 'RUNNING', 'CANCELLED', 'UNKNOWN') prefixed with 'no:'.
local id = ARGV[2]
local sub = k_sub(id)
local h = redis.call('HMGET', sub, 'state', 'pool', 'participant')
local state = h[1]
if not state then
    return 'no:UNKNOWN'
end
if state ~= 'DONE' and state ~= 'ERROR' and state ~= 'TIMEOUT' then
    return 'no:' .. state
end
dlq_remove(id)
queue_again(sub, id, h[2], h[3], clock(), 're-grading requested by an organiser')
return state
