-- presence: ARGV prefix grader ttl_ms pool...
-- Marks a grader as online in each of its pools until ttl_ms from now (Redis's clock), or
-- as gone from them when ttl_ms is 0. Every broker sees the graders of every broker.
local grader = ARGV[2]
local ttl = tonumber(ARGV[3])
if grader == nil or grader == '' or ttl == nil or ttl < 0 or #ARGV < 4 then
    return redis.error_reply('bad presence arguments')
end
local now = clock()
for i = 4, #ARGV do
    local key = k_graders(ARGV[i])
    if ttl == 0 then
        redis.call('ZREM', key, grader)
    else
        redis.call('ZADD', key, now + ttl, grader)
        redis.call('PEXPIRE', key, ttl * 2)
    end
end
return 1
