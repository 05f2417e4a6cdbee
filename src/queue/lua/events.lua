-- events: ARGV prefix id after_seq
-- The submission's events with seq > after_seq, in order: {seq, event, seq, event, ...}.
local after = tonumber(ARGV[3])
local out = {}
for _, entry in ipairs(redis.call('XRANGE', k_events(ARGV[2]), '-', '+')) do
    local fields = entry[2]
    local seq, event
    for i = 1, #fields, 2 do
        if fields[i] == 'seq' then
            seq = tonumber(fields[i + 1])
        elseif fields[i] == 'event' then
            event = fields[i + 1]
        end
    end
    if seq and event and seq > after then
        out[#out + 1] = seq
        out[#out + 1] = event
    end
end
return out
