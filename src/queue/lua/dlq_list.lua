-- dlq_list: ARGV prefix max
-- Returns up to max ids of dead-lettered submissions, oldest first.
local out = {}
for _, entry in ipairs(redis.call('XRANGE', K_DLQ, '-', '+', 'COUNT', tonumber(ARGV[2]))) do
    local fields = entry[2]
    for i = 1, #fields, 2 do
        if fields[i] == 'sub' then
            out[#out + 1] = fields[i + 1]
        end
    end
end
return out
