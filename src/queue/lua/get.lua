-- get: ARGV prefix id
-- Returns false for an unknown submission, else {state, result, message, attempt}.
local h = redis.call('HMGET', k_sub(ARGV[2]), 'state', 'result', 'message', 'attempt')
if not h[1] then
    return false
end
return { h[1], h[2] or '', h[3] or '', tonumber(h[4]) or 0 }
