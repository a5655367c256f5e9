-- ARGV: holder id, epoch. Gives the lease up if that holder still has it at that epoch; the
-- epoch counter stays, so the next holder's epoch is greater still. 1 when released, else 0.
--- @include "keys"
local id, epoch = ARGV[1], ARGV[2]
local lease = redis.call('GET', KEY_LEASE)
if not lease or string.sub(lease, 1, #epoch + #id + 2) ~= epoch .. ' ' .. id .. ' ' then return 0 end
redis.call('DEL', KEY_LEASE)
return 1
