-- ARGV: runId. Returns { job order, specs hash, jobs hash } read at one instant.
--- @include "keys"
local rk = PREFIX_RUN .. ARGV[1]
return { redis.call('LRANGE', rk .. RUN_PART_ORDER, 0, -1), redis.call('HGETALL', rk .. RUN_PART_SPECS), redis.call('HGETALL', rk .. RUN_PART_JOBS) }
