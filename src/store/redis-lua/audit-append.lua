-- ARGV: batch id, how many entries to keep, then each entry as JSON (without its number).
-- Numbers them from titan:audit:seq, stores each as "<seq> <JSON>" scored by its number, and trims
-- the log to the newest `keep`. A batch already applied (titan:audit:batches) adds nothing.
--- @include "fence"
local id, keep = ARGV[1], tonumber(ARGV[2])
if redis.call('ZSCORE', KEY_AUDIT_BATCHES, id) then return 0 end
local seq
for i = 3, #ARGV do
  seq = redis.call('INCR', KEY_AUDIT_SEQ)
  redis.call('ZADD', KEY_AUDIT, seq, seq .. ' ' .. ARGV[i])
end
if seq == nil then return 0 end
redis.call('ZADD', KEY_AUDIT_BATCHES, seq, id)
local floor = seq - keep
if floor > 0 then
  redis.call('ZREMRANGEBYSCORE', KEY_AUDIT, '-inf', floor)
  redis.call('ZREMRANGEBYSCORE', KEY_AUDIT_BATCHES, '-inf', floor)
end
return 1
