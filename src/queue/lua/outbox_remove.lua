-- outbox_remove: ARGV prefix id
-- Removes a submission from the outbox once the registry has its result. Returns 1 or 0.
return redis.call('SREM', K_OUTBOX, ARGV[2])
