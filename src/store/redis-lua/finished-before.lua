-- ARGV: cutoff, limit. Finished runs that finished before the cutoff, oldest finish first.
--- @include "keys"
return redis.call('ZRANGEBYSCORE', KEY_RUNS_FINISHED, '-inf', '(' .. ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
