-- reap: ARGV prefix max_jobs
-- The janitor's pass, over every pool: a running job past its time limit becomes TIMEOUT;
-- one whose lease expired is queued again at the head of its participant's queue, or
-- dead-lettered when it used all its attempts; delayed retries that are due are queued
-- again. Returns {id, state now, grader that held it, ...} for each job changed.
-- Counted: TIMEOUT as finished, a lease expiry queued again as retried, a dead letter as
-- dead and finished; a due retry was counted when it was scheduled (fail.lua).
local max_jobs = tonumber(ARGV[2])
local now = clock()
local out = {}
local seen = 0

local function expired(pool, id)
    local sub = k_sub(id)
    local h = redis.call('HMGET', sub, 'state', 'attempt', 'max_attempts', 'started_at',
        'time_limit_ms', 'grader', 'participant')
    redis.call('ZREM', k_leases(pool), id)
    if h[1] ~= 'RUNNING' then
        return nil
    end
    local attempt, max_attempts = tonumber(h[2]), tonumber(h[3])
    local started, limit = tonumber(h[4]), tonumber(h[5])
    local grader = h[6] or ''
    if limit > 0 and now >= started + limit then
        local text = string.format('the job ran past its time limit of %.1f s', limit / 1000)
        redis.call('HSET', sub, 'state', 'TIMEOUT', 'message', text, 'lease_until', 0)
        redis.call('SADD', K_OUTBOX, id)
        count_stat(pool, now, 'finished')
        emit(id, make_event('TIMEOUT', text, { time_limit_ms = limit, attempt = attempt }, now))
        return 'TIMEOUT', grader
    end
    if attempt >= max_attempts then
        local text = string.format('the grader stopped responding on all %d attempts', attempt)
        dead_letter(id, pool, attempt, 'lease expired', text, now)
        return 'ERROR', grader
    end
    redis.call('HSET', sub, 'state', 'QUEUED', 'grader', '', 'lease_until', 0)
    push_queue(pool, h[7], id, now, true)
    count_stat(pool, now, 'retried')
    local text = string.format('the grader stopped responding; the job is queued again '
        .. '(attempt %d of %d was lost)', attempt, max_attempts)
    emit(id, make_event('INFO', text, { attempt = attempt, max_attempts = max_attempts }, now,
        { position = fair_position(pool, h[7], id) }))
    return 'QUEUED', grader
end

local function due(id)
    local sub = k_sub(id)
    local h = redis.call('HMGET', sub, 'state', 'pool', 'participant', 'attempt', 'max_attempts')
    undelay_job(h[2], id)
    if h[1] ~= 'QUEUED' then
        return nil
    end
    push_queue(h[2], h[3], id, now, true)
    local next_attempt = tonumber(h[4]) + 1
    local text = string.format('queued again for attempt %d of %s', next_attempt, h[5])
    emit(id, make_event('INFO', text, { attempt = next_attempt }, now,
        { position = fair_position(h[2], h[3], id) }))
    return 'QUEUED', ''
end

local function add(id, state, grader)
    if state then
        out[#out + 1] = id
        out[#out + 1] = state
        out[#out + 1] = grader
    end
end

for _, pool in ipairs(redis.call('SMEMBERS', K_POOLS)) do
    if seen >= max_jobs then
        break
    end
    local ids = redis.call('ZRANGEBYSCORE', k_leases(pool), '-inf', now, 'LIMIT', 0,
        max_jobs - seen)
    for _, id in ipairs(ids) do
        seen = seen + 1
        add(id, expired(pool, id))
    end
end
if seen < max_jobs then
    local ids = redis.call('ZRANGEBYSCORE', K_DELAYED, '-inf', now, 'LIMIT', 0, max_jobs - seen)
    for _, id in ipairs(ids) do
        add(id, due(id))
    end
end
return out
