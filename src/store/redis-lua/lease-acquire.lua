-- ARGV: holder id, holder address (JSON), ttl in ms.
-- Returns { 1, epoch } when this holder now has the lease, with a new epoch from the counter (a
-- holder that takes it again gets a new one too, fencing its own earlier writes), or
-- { 0, lease, ms left } when another holder has it. The lease expires by the server's clock (PX).
--- @include "keys"
local id, address, ttl = ARGV[1], ARGV[2], ARGV[3]
local lease = redis.call('GET', KEY_LEASE)
if lease and string.match(lease, '^%d+ (%S+) ') ~= id then
  return { 0, lease, redis.call('PTTL', KEY_LEASE) }
end
local epoch = redis.call('INCR', KEY_LEASE_EPOCH)
redis.call('SET', KEY_LEASE, epoch .. ' ' .. id .. ' ' .. address, 'PX', ttl)
return { 1, epoch }
