-- ARGV: jobId, runId ('' for the newest run that has it). Returns { runId, spec, state } or nil.
--- @include "keys"
local job, run = ARGV[1], ARGV[2]
if run == '' then
  run = redis.call('ZREVRANGE', PREFIX_JOB .. job, 0, 0)[1]
  if not run then return false end
end
local rk = PREFIX_RUN .. run
local spec = redis.call('HGET', rk .. RUN_PART_SPECS, job)
if not spec then return false end
return { run, spec, redis.call('HGET', rk .. RUN_PART_JOBS, job) }
