-- Helpers shared by every queue script; prepended to each one at build time.
-- ARGV[1] is the key prefix; every key is built here, from the layout in src/queue/rq.h.
-- Scripts validate their arguments before their first write: Redis does not roll back a
-- script that fails half way.

local P = ARGV[1]

local function k_sub(id)
    return P .. 'sub:' .. id
end

local function k_events(id)
    return P .. 'ev:' .. id
end

local function k_plist(pool, participant)
    return P .. 'pool:' .. pool .. ':p:' .. participant
end

local function k_ring(pool)
    return P .. 'pool:' .. pool .. ':ring'
end

local function k_order(pool)
    return P .. 'pool:' .. pool .. ':order'
end

local function k_leases(pool)
    return P .. 'pool:' .. pool .. ':leases'
end

-- Graders online in a pool (presence.lua): grader id -> expiry (ms).
local function k_graders(pool)
    return P .. 'pool:' .. pool .. ':graders'
end

-- The capacities the graders of a pool announced (presence.lua): grader id -> jobs at once.
local function k_capacity(pool)
    return P .. 'pool:' .. pool .. ':capacity'
end

-- The pool's share of "delayed": submission id -> due time of its retry (ms).
local function k_pool_delayed(pool)
    return P .. 'pool:' .. pool .. ':delayed'
end

-- The pool's counters of one minute (stats.lua): finished, retried, dead.
local function k_stats(pool, minute)
    return P .. 'pool:' .. pool .. ':stats:' .. string.format('%d', minute)
end

local K_POOLS = P .. 'pools'
local K_DELAYED = P .. 'delayed'
local K_TOKEN = P .. 'token'
local K_OUTBOX = P .. 'outbox'
local K_DLQ = P .. 'dlq'
local K_STALE = P .. 'stale'
local CHANNEL = P .. 'events'

local EVENTS_KEPT = 1000
local STALE_KEPT = 10000
-- A minute's counters outlive the hour the status page shows.
local STATS_KEPT_S = 7200

-- Redis's clock: milliseconds since the epoch, and the microseconds of the current second.
local function clock()
    local t = redis.call('TIME')
    local us = tonumber(t[2])
    return tonumber(t[1]) * 1000 + math.floor(us / 1000), us
end

-- Counts transitions of a pool's jobs in the counters of the current minute of `now` (ms):
-- each further argument is a field to bump ('finished', 'retried' or 'dead').
-- The expiry is set when a field is first bumped in that minute (at most three times a
-- minute), not at every job.
local function count_stat(pool, now, ...)
    local key = k_stats(pool, math.floor(now / 60000))
    for _, field in ipairs({ ... }) do
        if redis.call('HINCRBY', key, field, 1) == 1 then
            redis.call('EXPIRE', key, STATS_KEPT_S)
        end
    end
end

-- A retry waits in "delayed" until due (ms), and in its pool's share of it.
local function delay_job(pool, id, due)
    redis.call('ZADD', K_DELAYED, due, id)
    redis.call('ZADD', k_pool_delayed(pool), due, id)
end

-- The retry is due or cancelled: out of "delayed" (and its pool's share, when pool is known).
local function undelay_job(pool, id)
    redis.call('ZREM', K_DELAYED, id)
    if pool then
        redis.call('ZREM', k_pool_delayed(pool), id)
    end
end

-- Drops the graders of a pool whose presence expired (at or before now), with their
-- capacities.
local function prune_graders(pool, now)
    local key = k_graders(pool)
    local gone = redis.call('ZRANGEBYSCORE', key, '-inf', now)
    for _, grader in ipairs(gone) do
        redis.call('HDEL', k_capacity(pool), grader)
    end
    redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
end

-- ISO 8601 UTC with milliseconds. Days since 1970-01-01 become a proleptic Gregorian
-- date by counting 400-year eras of 146097 days, with years starting on March 1st so
-- that the leap day falls at the end of a year.
local function iso_time(ms)
    local secs = math.floor(ms / 1000)
    local days = math.floor(secs / 86400)
    local sod = secs - days * 86400
    local z = days + 719468
    local era = math.floor(z / 146097)
    local doe = z - era * 146097
    local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524)
        - math.floor(doe / 146096)) / 365)
    local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
    local mp = math.floor((5 * doy + 2) / 153)
    local day = doy - math.floor((153 * mp + 2) / 5) + 1
    local month = mp < 10 and mp + 3 or mp - 9
    local year = yoe + era * 400
    if month <= 2 then
        year = year + 1
    end
    return string.format('%04d-%02d-%02dT%02d:%02d:%02d.%03dZ', year, month, day,
        math.floor(sod / 3600), math.floor(sod % 3600 / 60), sod % 60, ms % 1000)
end

-- The members of a JSON object's text, without its braces ('' when it is empty), or nil
-- when the text is not an object. The text itself was checked by the broker.
local function json_members(obj)
    local body = string.match(obj, '^%s*{(.*)}%s*$')
    if body == nil then
        return nil
    end
    if string.find(body, '^%s*$') then
        return ''
    end
    return body
end

-- The object with one more member, given as its JSON text ("key":value), at its end.
local function json_with(obj, member)
    local body = json_members(obj)
    if body == '' then
        return '{' .. member .. '}'
    end
    return '{' .. body .. ',' .. member .. '}'
end

local function bad_event()
    return redis.error_reply('ERR rq: the event is not a JSON object')
end

local function num(s)
    return string.format('%d', s)
end

-- Appends an event to the submission's stream and publishes it to every broker.
local function emit(id, event)
    local seq = redis.call('HINCRBY', k_sub(id), 'seq', 1)
    redis.call('XADD', k_events(id), 'MAXLEN', '~', EVENTS_KEPT, '*', 'seq', seq, 'event', event)
    local body = json_members(event)
    local head = '{"submission_id":' .. id .. ',"seq":' .. num(seq)
    if body ~= '' then
        head = head .. ','
    end
    redis.call('PUBLISH', CHANNEL, head .. body .. '}')
    return seq
end

-- Event types that end a submission: their percent is 100.
local FINAL_TYPES = { COMPLETE = true, ERROR = true, TIMEOUT = true, CANCELLED = true }

-- An event the scripts write themselves (the same fields as the broker's events).
local function make_event(kind, message, data, now, extra)
    local ev = { type = kind, message = message, at = iso_time(now) }
    ev.percent = FINAL_TYPES[kind] and 100 or 0
    if data == nil then
        ev.data = cjson.null
    else
        ev.data = data
    end
    if extra ~= nil then
        for k, v in pairs(extra) do
            ev[k] = v
        end
    end
    return cjson.encode(ev)
end

-- Jobs queued ahead of a queued submission in its pool, under round robin: each turn of
-- the ring gives one job to every participant in it, in ring order. The submission is the
-- k-th of its participant, so it leaves in turn k, after min(len, k) jobs of every other
-- participant, one more of those ahead of it in the ring that still have work in turn k,
-- and its participant's own k earlier jobs. -1 when it is not queued in the pool.
local function fair_position(pool, participant, id)
    local k = redis.call('LPOS', k_plist(pool, participant), id)
    if not k then
        return -1
    end
    local pos = k
    local ahead = true
    for _, other in ipairs(redis.call('LRANGE', k_ring(pool), 0, -1)) do
        if other == participant then
            ahead = false
        else
            local len = redis.call('LLEN', k_plist(pool, other))
            pos = pos + math.min(len, k)
            if ahead and len > k then
                pos = pos + 1
            end
        end
    end
    return pos
end

-- Queues a submission at the tail (new work) or the head (work given back) of its
-- participant's list. A participant is in the ring exactly when its list is not empty.
-- The time it (re)entered the queue is its score in the pool's order: a job queued again
-- starts waiting anew (stats.lua's age of the oldest queued job).
local function push_queue(pool, participant, id, now, at_head)
    local list = k_plist(pool, participant)
    local push = at_head and 'LPUSH' or 'RPUSH'
    if redis.call(push, list, id) == 1 then
        redis.call(push, k_ring(pool), participant)
    end
    redis.call('ZADD', k_order(pool), now, id)
end

-- Deletes the dead-letter entries of a submission; returns how many there were.
local function dlq_remove(id)
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
    if #found > 0 then
        redis.call('XDEL', K_DLQ, unpack(found))
    end
    return #found
end

-- Queues a submission that had ended again, its attempts reset (dead-letter requeue,
-- re-grade): no longer final, so it leaves the outbox.
local function queue_again(sub, id, pool, participant, now, message)
    redis.call('SREM', K_OUTBOX, id)
    redis.call('HSET', sub, 'state', 'QUEUED', 'attempt', 0, 'grader', '', 'message', '',
        'result', '', 'lease_until', 0)
    push_queue(pool, participant, id, now, false)
    emit(id, make_event('INFO', message, nil, now,
        { position = fair_position(pool, participant, id) }))
end

local function remove_queued(pool, participant, id)
    local list = k_plist(pool, participant)
    redis.call('LREM', list, 0, id)
    if redis.call('LLEN', list) == 0 then
        redis.call('LREM', k_ring(pool), 0, participant)
    end
    redis.call('ZREM', k_order(pool), id)
end

-- A lease ends lease_ms from now, but never after the job's time limit: the janitor then
-- finds it at its deadline. started and limit in ms; limit 0 means no limit.
local function lease_end(now, lease_ms, started, limit)
    local till = now + lease_ms
    if limit > 0 and till > started + limit then
        till = started + limit
    end
    return till
end

-- A call carrying a token that is not the current lease's: refused, kept for audit.
local function record_stale(op, id, token, state, current, now)
    redis.call('XADD', K_STALE, 'MAXLEN', '~', STALE_KEPT, '*', 'op', op, 'sub', id,
        'token', token, 'state', state or 'UNKNOWN', 'current_token', current or '',
        'at', now)
end

-- Ends a running or failed job for good: ERROR, outbox, dead-letter entry, ERROR event;
-- counted as dead and finished.
local function dead_letter(id, pool, attempts, reason, message, now)
    count_stat(pool, now, 'dead', 'finished')
    redis.call('HSET', k_sub(id), 'state', 'ERROR', 'message', message, 'lease_until', 0)
    redis.call('ZREM', k_leases(pool), id)
    redis.call('SADD', K_OUTBOX, id)
    redis.call('XADD', K_DLQ, '*', 'sub', id, 'pool', pool, 'attempts', attempts,
        'reason', reason)
    emit(id, make_event('ERROR', message, { attempts = attempts, reason = reason }, now))
end
