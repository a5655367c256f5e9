-- ARGV (after the fencing epoch, see includes/fence.lua): id, the delivery as JSON, its state.
-- 1 when recorded, 0 when the delivery is gone (its run was deleted).
--- @include "fence"
if redis.call('HEXISTS', KEY_NOTIFICATIONS, ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEY_NOTIFICATIONS, ARGV[1], ARGV[2])
if ARGV[3] ~= 'pending' then redis.call('ZREM', KEY_NOTIFICATIONS_PENDING, ARGV[1]) end
return 1
