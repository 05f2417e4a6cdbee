-- online: ARGV prefix pool
-- Returns how many graders are online in the pool, on any broker (presence not expired).
local pool = ARGV[2]
prune_graders(pool, clock())
return redis.call('ZCARD', k_graders(pool))
