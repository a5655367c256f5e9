-- ARGV: index zset, 'desc' or 'asc', a status the runs must have ('' for any), limit (-1: none),
-- and for 'desc' optionally a position (createdAt, runId): only runs strictly after it in
-- newest-first order. Runs of one createdAt come in reverse byte order of their ids, as
-- ZREVRANGE orders equal scores. Returns { runId, run hash } per run, in index order.
--- @include "keys"
local index, dir, status, limit = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local afterAt, afterId = ARGV[5], ARGV[6]
local out = {}
if limit == 0 then return out end
local top = afterAt or '+inf'
local start, chunk = 0, 256
while true do
  local ids
  if dir == 'desc' then ids = redis.call('ZREVRANGEBYSCORE', index, top, '-inf', 'WITHSCORES', 'LIMIT', start, chunk) else ids = redis.call('ZRANGE', index, start, start + chunk - 1, 'WITHSCORES') end
  if #ids == 0 then return out end
  for k = 1, #ids, 2 do
    local id = ids[k]
    local rk = PREFIX_RUN .. id
    local past = afterAt and tonumber(ids[k + 1]) == tonumber(afterAt) and id >= afterId
    if not past and (status == '' or redis.call('HGET', rk, 'status') == status) then
      out[#out + 1] = { id, redis.call('HGETALL', rk) }
      if limit > 0 and #out >= limit then return out end
    end
  end
  start = start + chunk
end
