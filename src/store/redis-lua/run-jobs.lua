-- ARGV: runId. Returns { job order, specs hash, jobs hash } read at one instant.
--- @include "keys"
local rk = PREFIX.run .. ARGV[1]
return { redis.call('LRANGE', rk .. RUN_PART.order, 0, -1), redis.call('HGETALL', rk .. RUN_PART.specs), redis.call('HGETALL', rk .. RUN_PART.jobs) }
