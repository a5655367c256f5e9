--- @include "keys"
--- @include "errors"
-- Fencing: ARGV[1] is the lease epoch the writing master holds ('' for a store that is not fenced),
-- taken off before the script reads its own arguments. A write is applied only while that epoch
-- is still the latest one granted: once another master acquired the lease, it fails here, before
-- anything is written.
local FENCE = table.remove(ARGV, 1)
if FENCE ~= '' then
  local granted = redis.call('GET', KEY_LEASE_EPOCH)
  if granted ~= FENCE then return redis.error_reply(FENCED_ERROR .. ' ' .. (granted or '')) end
end
