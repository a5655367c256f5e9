-- ARGV (after the fencing epoch, see includes/fence.lua): runId, jobId, name, the record as JSON.
-- Stores the record unless a COMPLETED one is there (never overwritten); returns what is stored.
--- @include "fence"
local key = PREFIX_RUN .. ARGV[1] .. RUN_PART_STEPS .. ARGV[2]
local stored = redis.call('HGET', key, ARGV[3])
if stored and cjson.decode(stored).status == 'COMPLETED' then return stored end
redis.call('HSET', key, ARGV[3], ARGV[4])
return ARGV[4]
