-- ARGV: key. The members of a set key (none for a string or an absent key).
--- @include "keys"
local m = redis.call('HGET', KEY_KV_META, ARGV[1])
if not m or string.sub(m, 1, 4) ~= 'set|' then return {} end
return redis.call('SMEMBERS', PREFIX_BUS .. ARGV[1])
