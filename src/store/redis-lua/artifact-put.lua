-- ARGV (after the fencing epoch, see includes/fence.lua): key, sha256, runId (''), JSON. Returns the content hash no key references any more, or nil.
--- @include "fence"
--- @include "keys"
local H, REFS = KEY_ARTIFACTS, KEY_ARTIFACT_REFS
local key, sha, run, json = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local old = redis.call('HGET', H, key)
local orphan = false
if old then
  local o = cjson.decode(old)
  if type(o.runId) == 'string' and o.runId ~= run then redis.call('ZREM', PREFIX_ARTIFACTS_RUN .. o.runId, key) end
  if o.sha256 ~= sha then
    redis.call('HINCRBY', REFS, sha, 1)
    if redis.call('HINCRBY', REFS, o.sha256, -1) <= 0 then
      redis.call('HDEL', REFS, o.sha256)
      orphan = o.sha256
    end
  end
else
  redis.call('HINCRBY', REFS, sha, 1)
end
redis.call('HSET', H, key, json)
redis.call('ZADD', KEY_ARTIFACT_KEYS, 0, key)
if run ~= '' then redis.call('ZADD', PREFIX_ARTIFACTS_RUN .. run, 0, key) end
return orphan
