-- ARGV: prefix, runId (''), how many at most. Returns the artifacts' JSON in key order.
--- @include "keys"
local prefix, run, want = ARGV[1], ARGV[2], tonumber(ARGV[3])
local index = KEY_ARTIFACT_KEYS
if run ~= '' then index = PREFIX_ARTIFACTS_RUN .. run end
local min, max = '-', '+'
if prefix ~= '' then min, max = '[' .. prefix, '[' .. prefix .. '\255' end
local out = {}
if want <= 0 then return out end
for _, key in ipairs(redis.call('ZRANGEBYLEX', index, min, max, 'LIMIT', 0, want)) do
  local json = redis.call('HGET', KEY_ARTIFACTS, key)
  if json then out[#out + 1] = json end
end
return out
