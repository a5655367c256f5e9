-- ARGV: "<kind>:<name>". Returns 1 when it was there.
--- @include "fence"
return redis.call('HDEL', KEY_IDENTITIES, ARGV[1])
