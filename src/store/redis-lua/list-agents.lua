-- ARGV: limit. Returns { agentRunId, runs, active, firstAt, lastAt } per agent run, latest first.
--- @include "keys"
local out = {}
local limit = tonumber(ARGV[1])
if limit <= 0 then return out end
local agents = redis.call('ZREVRANGE', KEY_AGENTS, 0, limit - 1, 'WITHSCORES')
for k = 1, #agents, 2 do
  local agent = agents[k]
  local runs = redis.call('ZRANGE', PREFIX_RUNS_AGENT .. agent, 0, -1, 'WITHSCORES')
  local active = 0
  for r = 1, #runs, 2 do
    if redis.call('HGET', PREFIX_RUN .. runs[r], 'status') == 'RUNNING' then active = active + 1 end
  end
  out[#out + 1] = { agent, tostring(#runs / 2), tostring(active), runs[2] or agents[k + 1], agents[k + 1] }
end
return out
