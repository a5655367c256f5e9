-- ARGV: key, value.
--- @include "fence"
redis.call('HSET', KEY_META, ARGV[1], ARGV[2])
return 1
