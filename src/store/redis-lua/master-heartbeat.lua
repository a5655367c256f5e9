-- ARGV: master id, address (JSON), ttl in ms. Records that this master is up until the ttl runs
-- out (PX, by the server's clock) and returns { id, address, id, address, … } of the other masters
-- whose records have not expired; the ids of expired ones leave the set.
--- @include "keys"
local id, address, ttl = ARGV[1], ARGV[2], ARGV[3]
redis.call('SET', PREFIX_MASTER .. id, address, 'PX', ttl)
redis.call('SADD', KEY_MASTERS, id)
local others = {}
for _, other in ipairs(redis.call('SMEMBERS', KEY_MASTERS)) do
  if other ~= id then
    local at = redis.call('GET', PREFIX_MASTER .. other)
    if at then
      others[#others + 1] = other
      others[#others + 1] = at
    else
      redis.call('SREM', KEY_MASTERS, other)
    end
  end
end
return others
