-- presence: ARGV prefix grader ttl_ms capacity pool...
-- Marks a grader as online in each of its pools until ttl_ms from now (Redis's clock), with
-- the capacity it announced, or as gone from them when ttl_ms is 0. Every broker sees the
-- graders of every broker. The keys outlive their longest presence: a short one never
-- shortens them.
local grader = ARGV[2]
local ttl = tonumber(ARGV[3])
local capacity = tonumber(ARGV[4])
if grader == nil or grader == '' or ttl == nil or ttl < 0 or capacity == nil or capacity < 0
    or #ARGV < 5 then
    return redis.error_reply('bad presence arguments')
end

local function keep_for(key, ms)
    if redis.call('PTTL', key) < ms then
        redis.call('PEXPIRE', key, ms)
    end
end

local now = clock()
for i = 5, #ARGV do
    local key, caps = k_graders(ARGV[i]), k_capacity(ARGV[i])
    if ttl == 0 then
        redis.call('ZREM', key, grader)
        redis.call('HDEL', caps, grader)
    else
        redis.call('ZADD', key, now + ttl, grader)
        redis.call('HSET', caps, grader, capacity)
        keep_for(key, ttl * 2)
        keep_for(caps, ttl * 2)
    end
end
return 1
