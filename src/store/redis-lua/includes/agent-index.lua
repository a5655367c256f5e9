--- @include "keys"
-- Takes a run out of its agent run's index; the agent run is then ranked by its latest run left,
-- or leaves titan:agents with its last run.
local function leaveAgent(agent, id)
  local ak = PREFIX_RUNS_AGENT .. agent
  redis.call('ZREM', ak, id)
  local top = redis.call('ZRANGE', ak, -1, -1, 'WITHSCORES')
  if #top == 0 then redis.call('ZREM', KEY_AGENTS, agent) else redis.call('ZADD', KEY_AGENTS, top[2], agent) end
end
