-- ARGV (after the fencing epoch, see includes/fence.lua): runId. Removes a finished run, its jobs, attempts, steps, index entries, gate decisions and notification deliveries;
-- the totals are lifetime counts and stay. 1 when removed, 0 when there is no such run.
--- @include "fence"
--- @include "keys"
--- @include "errors"
--- @include "agent-index"
local id = ARGV[1]
local rk = PREFIX_RUN .. id
local h = redis.call('HMGET', rk, 'status', 'createdAt', 'tags', 'agent', 'request')
if not h[2] then return 0 end
if h[5] then redis.call('HDEL', KEY_REQUESTS, h[5]) end
if h[1] == 'RUNNING' then return redis.error_reply(COMMIT_ERROR .. ' run ' .. id .. ' is still running: cancel it first') end
redis.call('ZREM', KEY_RUNS, id)
redis.call('ZREM', KEY_RUNS_FINISHED, id)
redis.call('ZREM', PREFIX_RUNS_STATUS .. h[1], id)
if h[3] then for _, t in ipairs(cjson.decode(h[3])) do redis.call('ZREM', PREFIX_RUNS_TAG .. t, id) end end
if h[4] then leaveAgent(h[4], id) end
for _, job in ipairs(redis.call('LRANGE', rk .. RUN_PART_ORDER, 0, -1)) do
  redis.call('ZREM', PREFIX_JOB .. job, id)
  redis.call('DEL', PREFIX_ATTEMPTS .. id .. '/' .. job)
  redis.call('DEL', rk .. RUN_PART_STEPS .. job)
end
local decisions = redis.call('LRANGE', KEY_DECISIONS, 0, -1)
local kept, dropped = {}, false
for _, d in ipairs(decisions) do
  if cjson.decode(d).runId == id then dropped = true else kept[#kept + 1] = d end
end
if dropped then
  redis.call('DEL', KEY_DECISIONS)
  for k = 1, #kept, 1000 do redis.call('RPUSH', KEY_DECISIONS, unpack(kept, k, math.min(k + 999, #kept))) end
end
local nk = PREFIX_NOTIFICATIONS_RUN .. id
for _, n in ipairs(redis.call('ZRANGE', nk, 0, -1)) do
  redis.call('HDEL', KEY_NOTIFICATIONS, n)
  redis.call('ZREM', KEY_NOTIFICATIONS_ORDER, n)
  redis.call('ZREM', KEY_NOTIFICATIONS_PENDING, n)
end
redis.call('DEL', nk)
redis.call('DEL', rk, rk .. RUN_PART_SPECS, rk .. RUN_PART_JOBS, rk .. RUN_PART_ORDER)
return 1
