-- stats: ARGV prefix pool
-- The public figures of a pool (struct rq_pool_stats, in its order): graders online and
-- their capacity, jobs queued, running (leased, expired leases not yet reaped included)
-- and waiting for a retry, the age of the oldest queued job (-1 when none), then the
-- retried, dead and finished counts of the current minute and the 59 before it, then the
-- finished count of each of those 60 minutes, the current one first.
-- Cost: O(graders of the pool + log of its queue + 60).
local pool = ARGV[2]
local MINUTES = 60
local now = clock()

-- Graders present (expired ones dropped first) and the sum of their capacities.
local function online()
    prune_graders(pool, now)
    local graders = redis.call('ZRANGE', k_graders(pool), 0, -1)
    local capacity = 0
    for _, grader in ipairs(graders) do
        capacity = capacity + (tonumber(redis.call('HGET', k_capacity(pool), grader)) or 0)
    end
    return #graders, capacity
end

-- How long the job that entered the queue first has waited in it (its order score).
local function oldest_age()
    local first = redis.call('ZRANGE', k_order(pool), 0, 0, 'WITHSCORES')
    if #first == 0 then
        return -1
    end
    return math.max(0, now - tonumber(first[2]))
end

local graders, capacity = online()
local out = { graders, capacity, redis.call('ZCARD', k_order(pool)),
    redis.call('ZCARD', k_leases(pool)), redis.call('ZCARD', k_pool_delayed(pool)),
    oldest_age(), 0, 0, 0 }
local minute = math.floor(now / 60000)
for i = 0, MINUTES - 1 do
    local h = redis.call('HMGET', k_stats(pool, minute - i), 'retried', 'dead', 'finished')
    local finished = tonumber(h[3]) or 0
    out[7] = out[7] + (tonumber(h[1]) or 0)
    out[8] = out[8] + (tonumber(h[2]) or 0)
    out[9] = out[9] + finished
    out[10 + i] = finished
end
return out
