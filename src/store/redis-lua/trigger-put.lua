-- ARGV: name, the record as JSON.
--- @include "fence"
redis.call('HSET', KEY_TRIGGERS, ARGV[1], ARGV[2])
return 1
