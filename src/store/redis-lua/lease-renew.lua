-- ARGV: holder id, epoch, address (JSON), ttl in ms. Extends the lease if that holder still has
-- it at that epoch. A lease that expired while nobody else took it (the epoch counter is still
-- that epoch: say the holder could not reach the server for a while) is taken again as it was,
-- since no other master can have written meanwhile. 1 when renewed, 0 when another master
-- acquired it since.
--- @include "keys"
local id, epoch, address, ttl = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local lease = redis.call('GET', KEY_LEASE)
if lease then
  if string.sub(lease, 1, #epoch + #id + 2) ~= epoch .. ' ' .. id .. ' ' then return 0 end
  redis.call('PEXPIRE', KEY_LEASE, ttl)
  return 1
end
if redis.call('GET', KEY_LEASE_EPOCH) ~= epoch then return 0 end
redis.call('SET', KEY_LEASE, epoch .. ' ' .. id .. ' ' .. address, 'PX', ttl)
return 1
