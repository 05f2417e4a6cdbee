-- online: ARGV prefix pool
-- Returns how many graders are online in the pool, on any broker (presence not expired).
local key = k_graders(ARGV[2])
local now = clock()
redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
return redis.call('ZCARD', key)
