-- depth: ARGV prefix pool
-- Returns the number of jobs queued in the pool (delayed retries not included).
return redis.call('ZCARD', k_order(ARGV[2]))
