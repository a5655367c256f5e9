-- ARGV: name. Removes the trigger and its deliveries; returns 1 when it was there.
--- @include "fence"
redis.call('DEL', PREFIX_TRIGGER .. ARGV[1] .. ':deliveries')
return redis.call('HDEL', KEY_TRIGGERS, ARGV[1])
