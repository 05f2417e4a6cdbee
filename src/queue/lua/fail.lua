-- fail: ARGV prefix id token retryable(0/1) message base_ms cap_ms
-- A grader's failure, with the current lease's token. Retryable with attempts left: the
-- job waits in "delayed" for min(cap, base * 2^(attempt-1)) ms times a jitter in
-- [0.5, 1) taken from the microseconds of Redis's clock, and an INFO event says so; counted
-- as retried. Otherwise: ERROR, outbox, dead letter, ERROR event (counted as dead, finished).
-- Returns {1, 'QUEUED', retry_in_ms}, {1, 'ERROR', 0}, or {0, state, 0} when fenced.
local id, token, retryable, message = ARGV[2], ARGV[3], ARGV[4] == '1', ARGV[5]
local base, cap = tonumber(ARGV[6]), tonumber(ARGV[7])
local sub = k_sub(id)
local now, us = clock()
local h = redis.call('HMGET', sub, 'state', 'token', 'pool', 'attempt', 'max_attempts')
if h[1] ~= 'RUNNING' or h[2] ~= token then
    record_stale('fail', id, token, h[1], h[2], now)
    return { 0, h[1] or 'UNKNOWN', 0 }
end
local pool, attempt, max_attempts = h[3], tonumber(h[4]), tonumber(h[5])
if message == '' then
    message = 'the grader reported a failure'
end
if not retryable or attempt >= max_attempts then
    local reason = 'failed: ' .. message
    if retryable then
        reason = 'failed on every attempt: ' .. message
    end
    dead_letter(id, pool, attempt, reason, message, now)
    return { 1, 'ERROR', 0 }
end
local delay = math.min(cap, base * 2 ^ (attempt - 1))
delay = math.floor(delay * (0.5 + 0.5 * (us % 1000) / 1000))
redis.call('HSET', sub, 'state', 'QUEUED', 'grader', '', 'lease_until', 0, 'message', message)
redis.call('ZREM', k_leases(pool), id)
delay_job(pool, id, now + delay)
count_stat(pool, now, 'retried')
local text = string.format('retrying in %.1f s (attempt %d of %d)', delay / 1000,
    attempt + 1, max_attempts)
emit(id, make_event('INFO', text, { retry_in_ms = delay, attempt = attempt + 1,
    max_attempts = max_attempts, reason = message }, now))
return { 1, 'QUEUED', delay }
