-- ARGV: trigger name, how many deliveries to keep, the delivery as JSON.
-- Pushes it first in the trigger's list and trims the list to the newest `keep`.
--- @include "fence"
local key = PREFIX_TRIGGER .. ARGV[1] .. ':deliveries'
redis.call('LPUSH', key, ARGV[3])
redis.call('LTRIM', key, 0, tonumber(ARGV[2]) - 1)
return 1
