-- ARGV (after the fencing epoch, see includes/fence.lua): id, previous id ('' for none), then the sections, each a count followed by its entries:
--   runs:      runId name agent('') status createdAt finishedAt('') requestId('') startedBy('') flowJSON('') notifyJSON('') tagsJSON('') nTags tag…
--   new jobs:  runId jobId spec state
--   updates:   runId jobId state
--   attempts:  runId jobId attempt JSON
--   decisions: runId jobId JSON
-- Returns 'OK', or 'DUP' when the batch of that id was already applied.
--- @include "fence"
--- @include "keys"
--- @include "errors"
--- @include "agent-index"
local id, prev = ARGV[1], ARGV[2]
local last = redis.call('GET', KEY_COMMIT)
if last == id then return 'DUP' end
if (last or '') ~= prev then
  return redis.error_reply(DIVERGED_ERROR .. ' ' .. (last or ''))
end
local i = 3
local function nxt() local v = ARGV[i]; i = i + 1; return v end
local function fail(where, why) return redis.error_reply(COMMIT_ERROR .. ' store commit failed at ' .. where .. ': ' .. why) end
local function status(state) return string.match(state, '^(%S+)') end

local runs = {}
for r = 1, tonumber(nxt()) do
  local run = { id = nxt(), name = nxt(), agent = nxt(), status = nxt(), createdAt = nxt(), finishedAt = nxt(), request = nxt(), startedBy = nxt(), flow = nxt(), notify = nxt(), tagsJson = nxt(), tags = {} }
  for t = 1, tonumber(nxt()) do run.tags[t] = nxt() end
  runs[r] = run
end
local newJobs = {}
for k = 1, tonumber(nxt()) do newJobs[k] = { run = nxt(), job = nxt(), spec = nxt(), state = nxt() } end
local updates = {}
for k = 1, tonumber(nxt()) do updates[k] = { run = nxt(), job = nxt(), state = nxt() } end
local attempts = {}
for k = 1, tonumber(nxt()) do attempts[k] = { run = nxt(), job = nxt(), n = nxt(), json = nxt() } end
local decisions = {}
for k = 1, tonumber(nxt()) do decisions[k] = { run = nxt(), job = nxt(), json = nxt() } end

-- Check everything before writing anything.
local runKnown, jobKnown = {}, {}
for _, run in ipairs(runs) do runKnown[run.id] = true end
local function runExists(r)
  if runKnown[r] == nil then runKnown[r] = redis.call('EXISTS', PREFIX_RUN .. r) == 1 end
  return runKnown[r]
end
local function jobExists(r, j)
  local k = r .. '/' .. j
  if jobKnown[k] == nil then jobKnown[k] = redis.call('HEXISTS', PREFIX_RUN .. r .. RUN_PART_JOBS, j) == 1 end
  return jobKnown[k]
end
for _, nj in ipairs(newJobs) do
  local where = 'new job ' .. nj.run .. '/' .. nj.job
  if not runExists(nj.run) then return fail(where, 'no such run ' .. nj.run) end
  if jobExists(nj.run, nj.job) then return fail(where, 'the job is already stored') end
  jobKnown[nj.run .. '/' .. nj.job] = true
end
for _, u in ipairs(updates) do
  if not jobExists(u.run, u.job) then return fail('job ' .. u.run .. '/' .. u.job, 'no such job') end
end
for _, a in ipairs(attempts) do
  if not jobExists(a.run, a.job) then return fail('attempt ' .. a.run .. '/' .. a.job .. '#' .. a.n, 'no such job') end
end
for _, d in ipairs(decisions) do
  if not jobExists(d.run, d.job) then return fail('decision on ' .. d.run .. '/' .. d.job, 'no such job') end
end

-- Write, in order: runs, new jobs, job updates, attempts, decisions.
local totals = { submitted = 0, completed = 0, dead = 0, attempts = 0, retried = 0 }
local function tally(s, d)
  if s == 'COMPLETED' then totals.completed = totals.completed + d elseif s == 'DEAD' then totals.dead = totals.dead + d end
end
local function setOrDel(key, field, value)
  if value == '' then redis.call('HDEL', key, field) else redis.call('HSET', key, field, value) end
end

for _, run in ipairs(runs) do
  local key = PREFIX_RUN .. run.id
  local old = redis.call('HMGET', key, 'status', 'agent', 'createdAt', 'tags')
  -- createdAt never changes once stored.
  local created = old[3] or run.createdAt
  local score = tonumber(created)
  redis.call('HSET', key, 'name', run.name, 'status', run.status, 'createdAt', created)
  setOrDel(key, 'agent', run.agent)
  setOrDel(key, 'finishedAt', run.finishedAt)
  setOrDel(key, 'tags', run.tagsJson)
  setOrDel(key, 'flow', run.flow)
  setOrDel(key, 'notify', run.notify)
  if not old[3] then redis.call('ZADD', KEY_RUNS, score, run.id) end
  if not old[3] and run.request ~= '' then
    redis.call('HSET', key, 'request', run.request)
    redis.call('HSET', KEY_REQUESTS, run.request, run.id)
  end
  if not old[3] and run.startedBy ~= '' then redis.call('HSET', key, 'startedBy', run.startedBy) end
  if old[1] ~= run.status then
    if old[1] then redis.call('ZREM', PREFIX_RUNS_STATUS .. old[1], run.id) end
    redis.call('ZADD', PREFIX_RUNS_STATUS .. run.status, score, run.id)
  end
  if run.status ~= 'RUNNING' and run.finishedAt ~= '' then
    redis.call('ZADD', KEY_RUNS_FINISHED, run.finishedAt, run.id)
  else
    redis.call('ZREM', KEY_RUNS_FINISHED, run.id)
  end
  local keep = {}
  for _, t in ipairs(run.tags) do keep[t] = true end
  if old[4] then
    for _, t in ipairs(cjson.decode(old[4])) do
      if not keep[t] then redis.call('ZREM', PREFIX_RUNS_TAG .. t, run.id) end
    end
  end
  for t in pairs(keep) do redis.call('ZADD', PREFIX_RUNS_TAG .. t, score, run.id) end
  local oldAgent = old[2] or ''
  if oldAgent ~= run.agent then
    if oldAgent ~= '' then leaveAgent(oldAgent, run.id) end
    if run.agent ~= '' then
      redis.call('ZADD', PREFIX_RUNS_AGENT .. run.agent, score, run.id)
      local cur = redis.call('ZSCORE', KEY_AGENTS, run.agent)
      if not cur or tonumber(cur) < score then redis.call('ZADD', KEY_AGENTS, score, run.agent) end
    end
  end
end

for _, nj in ipairs(newJobs) do
  local rk = PREFIX_RUN .. nj.run
  local s = status(nj.state)
  redis.call('HSET', rk .. RUN_PART_SPECS, nj.job, nj.spec)
  redis.call('HSET', rk .. RUN_PART_JOBS, nj.job, nj.state)
  redis.call('RPUSH', rk .. RUN_PART_ORDER, nj.job)
  redis.call('ZADD', PREFIX_JOB .. nj.job, redis.call('HGET', rk, 'createdAt'), nj.run)
  redis.call('HINCRBY', rk, 'n:' .. s, 1)
  totals.submitted = totals.submitted + 1
  tally(s, 1)
end

for _, u in ipairs(updates) do
  local rk = PREFIX_RUN .. u.run
  local was = status(redis.call('HGET', rk .. RUN_PART_JOBS, u.job))
  local s = status(u.state)
  redis.call('HSET', rk .. RUN_PART_JOBS, u.job, u.state)
  if was ~= s then
    redis.call('HINCRBY', rk, 'n:' .. was, -1)
    redis.call('HINCRBY', rk, 'n:' .. s, 1)
    tally(was, -1)
    tally(s, 1)
  end
end

for _, a in ipairs(attempts) do
  if redis.call('HSET', PREFIX_ATTEMPTS .. a.run .. '/' .. a.job, a.n, a.json) == 1 then
    totals.attempts = totals.attempts + 1
    if tonumber(a.n) > 1 then totals.retried = totals.retried + 1 end
  end
end

for _, d in ipairs(decisions) do redis.call('LPUSH', KEY_DECISIONS, d.json) end

for field, n in pairs(totals) do
  if n ~= 0 then redis.call('HINCRBY', KEY_TOTALS, field, n) end
end
redis.call('SET', KEY_COMMIT, id)
return 'OK'
