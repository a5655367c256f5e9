-- Every RUNNING run, oldest first: { runId, run hash, job order, specs hash, jobs hash } each.
--- @include "keys"
local out = {}
for k, id in ipairs(redis.call('ZRANGE', PREFIX.runsStatus .. 'RUNNING', 0, -1)) do
  local rk = PREFIX.run .. id
  out[k] = { id, redis.call('HGETALL', rk), redis.call('LRANGE', rk .. RUN_PART.order, 0, -1), redis.call('HGETALL', rk .. RUN_PART.specs), redis.call('HGETALL', rk .. RUN_PART.jobs) }
end
return out
