-- Layout 1 → 2: adds titan:runs:finished, built from the runs stored so far.
--- @include "keys"
if redis.call('GET', KEY.schema) ~= '1' then return 0 end
for _, id in ipairs(redis.call('ZRANGE', KEY.runs, 0, -1)) do
  local h = redis.call('HMGET', PREFIX.run .. id, 'status', 'finishedAt')
  if h[1] and h[1] ~= 'RUNNING' and h[2] then redis.call('ZADD', KEY.runsFinished, h[2], id) end
end
redis.call('SET', KEY.schema, '2')
return 1
