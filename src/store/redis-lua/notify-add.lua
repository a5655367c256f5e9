-- ARGV (after the fencing epoch, see includes/fence.lua): id, runId, the delivery as JSON, its state, how many to keep.
-- Records a delivery and removes the oldest finished ones past the bound.
--- @include "fence"
local id, run, json, state, keep = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
local seq = redis.call('INCR', KEY_NOTIFICATIONS_SEQ)
redis.call('HSET', KEY_NOTIFICATIONS, id, json)
redis.call('ZADD', KEY_NOTIFICATIONS_ORDER, seq, id)
redis.call('ZADD', PREFIX_NOTIFICATIONS_RUN .. run, seq, id)
if state == 'pending' then redis.call('ZADD', KEY_NOTIFICATIONS_PENDING, seq, id) end
local over = redis.call('ZCARD', KEY_NOTIFICATIONS_ORDER) - keep
if over > 0 then
  for _, old in ipairs(redis.call('ZRANGE', KEY_NOTIFICATIONS_ORDER, 0, over - 1)) do
    if not redis.call('ZSCORE', KEY_NOTIFICATIONS_PENDING, old) then
      local stored = redis.call('HGET', KEY_NOTIFICATIONS, old)
      if stored then redis.call('ZREM', PREFIX_NOTIFICATIONS_RUN .. cjson.decode(stored).runId, old) end
      redis.call('HDEL', KEY_NOTIFICATIONS, old)
      redis.call('ZREM', KEY_NOTIFICATIONS_ORDER, old)
    end
  end
end
return 1
