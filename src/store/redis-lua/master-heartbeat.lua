-- ARGV: master id, address (JSON), ttl in ms. Records that this master is up until the ttl runs
-- out, by the server's clock, and returns { id, address, id, address, … } of the other masters
-- whose records have not expired; expired ones are deleted. One hash for every master, so that
-- the store's key names stay the same as masters come and go.
--- @include "keys"
local id, address, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('HSET', KEY_MASTERS, id, (now + ttl) .. ' ' .. address)
local others = {}
local all = redis.call('HGETALL', KEY_MASTERS)
for i = 1, #all, 2 do
  local other, value = all[i], all[i + 1]
  if other ~= id then
    local expires, at = string.match(value, '^(%d+) (.*)$')
    if expires and tonumber(expires) > now then
      others[#others + 1] = other
      others[#others + 1] = at
    else
      redis.call('HDEL', KEY_MASTERS, other)
    end
  end
end
return others
