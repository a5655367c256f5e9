-- Layout 1 → 2: adds titan:runs:finished, built from the runs stored so far.
--- @include "keys"
if redis.call('GET', KEY_SCHEMA) ~= '1' then return 0 end
for _, id in ipairs(redis.call('ZRANGE', KEY_RUNS, 0, -1)) do
  local h = redis.call('HMGET', PREFIX_RUN .. id, 'status', 'finishedAt')
  if h[1] and h[1] ~= 'RUNNING' and h[2] then redis.call('ZADD', KEY_RUNS_FINISHED, h[2], id) end
end
redis.call('SET', KEY_SCHEMA, '2')
return 1
