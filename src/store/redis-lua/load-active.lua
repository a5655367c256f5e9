-- Every RUNNING run, oldest first: { runId, run hash, job order, specs hash, jobs hash } each.
--- @include "keys"
local out = {}
for k, id in ipairs(redis.call('ZRANGE', PREFIX_RUNS_STATUS .. 'RUNNING', 0, -1)) do
  local rk = PREFIX_RUN .. id
  out[k] = { id, redis.call('HGETALL', rk), redis.call('LRANGE', rk .. RUN_PART_ORDER, 0, -1), redis.call('HGETALL', rk .. RUN_PART_SPECS), redis.call('HGETALL', rk .. RUN_PART_JOBS) }
end
return out
