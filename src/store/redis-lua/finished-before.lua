-- ARGV: cutoff, limit. Finished runs that finished before the cutoff, oldest finish first.
--- @include "keys"
return redis.call('ZRANGEBYSCORE', KEY.runsFinished, '-inf', '(' .. ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
