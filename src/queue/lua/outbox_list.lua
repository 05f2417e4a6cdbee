-- outbox_list: ARGV prefix max
-- Returns up to max submission ids whose final result is not yet in the registry.
return redis.call('SRANDMEMBER', K_OUTBOX, tonumber(ARGV[2]))
