-- ARGV (after the fencing epoch, see includes/fence.lua): runId, jobId, name, attempt.
-- Raises a COMPLETED step's cachedIn to the attempt that took its result; anything else is left alone.
--- @include "fence"
local key = PREFIX_RUN .. ARGV[1] .. RUN_PART_STEPS .. ARGV[2]
local stored = redis.call('HGET', key, ARGV[3])
if not stored then return 0 end
local step = cjson.decode(stored)
local attempt = tonumber(ARGV[4])
if step.status ~= 'COMPLETED' or (step.cachedIn ~= cjson.null and step.cachedIn >= attempt) then return 0 end
step.cachedIn = attempt
redis.call('HSET', key, ARGV[3], cjson.encode(step))
return 1
