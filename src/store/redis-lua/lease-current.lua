-- Returns { lease, ms left } ("<epoch> <holder id> <address JSON>"), or nil when nobody holds it.
--- @include "keys"
local lease = redis.call('GET', KEY_LEASE)
if not lease then return false end
return { lease, redis.call('PTTL', KEY_LEASE) }
