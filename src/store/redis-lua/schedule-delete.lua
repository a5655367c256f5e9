-- ARGV: name. Returns 1 when it was there.
--- @include "fence"
return redis.call('HDEL', KEY_SCHEDULES, ARGV[1])
