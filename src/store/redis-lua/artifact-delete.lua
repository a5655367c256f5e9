-- ARGV (after the fencing epoch, see includes/fence.lua): key. Returns { deleted ('1'/'0'), orphaned sha256 or '' }.
--- @include "fence"
--- @include "keys"
local H, REFS = KEY_ARTIFACTS, KEY_ARTIFACT_REFS
local key = ARGV[1]
local old = redis.call('HGET', H, key)
if not old then return { '0', '' } end
local o = cjson.decode(old)
redis.call('HDEL', H, key)
redis.call('ZREM', KEY_ARTIFACT_KEYS, key)
if type(o.runId) == 'string' then redis.call('ZREM', PREFIX_ARTIFACTS_RUN .. o.runId, key) end
local orphan = ''
if redis.call('HINCRBY', REFS, o.sha256, -1) <= 0 then
  redis.call('HDEL', REFS, o.sha256)
  orphan = o.sha256
end
return { '1', orphan }
