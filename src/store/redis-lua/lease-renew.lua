-- ARGV: holder id, epoch, ttl in ms. Extends the lease if that holder still has it at that
-- epoch: 1, else 0 (it expired, or another holder took it).
--- @include "keys"
local id, epoch, ttl = ARGV[1], ARGV[2], ARGV[3]
local lease = redis.call('GET', KEY_LEASE)
if not lease or string.sub(lease, 1, #epoch + #id + 2) ~= epoch .. ' ' .. id .. ' ' then return 0 end
redis.call('PEXPIRE', KEY_LEASE, ttl)
return 1
