-- position: ARGV prefix pool id
-- Returns the jobs queued ahead of the submission in the pool, or -1 when it is not queued
-- there.
local pool, id = ARGV[2], ARGV[3]
local h = redis.call('HMGET', k_sub(id), 'state', 'pool', 'participant')
if h[1] ~= 'QUEUED' or h[2] ~= pool then
    return -1
end
return fair_position(pool, h[3], id)
