-- ARGV: "<kind>:<name>", the identity's body. Returns 1 when added, 0 when one of that name exists.
--- @include "fence"
return redis.call('HSETNX', KEY_IDENTITIES, ARGV[1], ARGV[2])
