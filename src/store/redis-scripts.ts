/**
 * The Lua scripts of the Redis store. A script runs alone on the server (nothing interleaves with
 * it) and reaches the AOF as one MULTI/EXEC, so each write script is one all-or-nothing
 * transaction. Redis does not roll a script back when it fails half-way, so every write script
 * checks everything first and only then writes. Keys are derived inside the scripts (they take no
 * KEYS): this needs a standalone server (Redis, Valkey, KeyDB), not Redis Cluster.
 *
 * Layout (engine state under `titan:`, the data bus under `user:` as Titan stored it):
 *   titan:schema                       layout version
 *   titan:commit                       id of the last applied commit batch
 *   titan:meta                         hash: meta key → value
 *   titan:run:<run>                    hash: name status createdAt [agent finishedAt tags request startedBy] n:<STATUS>…
 *   titan:run:<run>:specs              hash: job → "<createdAt> <spec JSON>" (immutable)
 *   titan:run:<run>:jobs               hash: job → "<STATUS> <JSON of the mutable fields>"
 *   titan:run:<run>:order              list: job ids in insertion order
 *   titan:runs                         zset: run by createdAt
 *   titan:runs:finished                zset: finished run by finishedAt (retention)
 *   titan:runs:status:<STATUS>         zset: run by createdAt
 *   titan:runs:tag:<tag>               zset: run by createdAt
 *   titan:runs:agent:<agent>           zset: run by createdAt
 *   titan:agents                       zset: agent run by its latest run's createdAt
 *   titan:job:<job>                    zset: run by createdAt, for every run that has a job of that id
 *   titan:attempts:<run>/<job>         hash: attempt number → JSON
 *   titan:decisions                    list: JSON, newest first
 *   titan:totals                       hash: submitted completed dead attempts retried
 *   titan:requests                     hash: client request id → the run its submission created
 *   titan:schedules                    hash: name → JSON
 *   titan:kv:meta                      hash: bus key → "<string|set>|<version>|<expiresAt or empty>"
 *   titan:kv:keys                      zset (score 0): live bus keys, for prefix listing in byte order
 *   titan:kv:expiring                  zset: bus key by expiresAt
 *   titan:kv:revision                  the version counter of the data bus
 *   user:<key>                         the bus key's value (a string) or members (a set)
 *   titan:artifacts                    hash: artifact key → JSON
 *   titan:artifacts:keys               zset (score 0): artifact keys in byte order
 *   titan:artifacts:run:<run>          zset (score 0): the run's artifact keys
 *   titan:artifacts:refs               hash: sha256 → how many keys reference the content
 */

/** Layout version written to titan:schema; a store with a newer one is refused. */
export const REDIS_SCHEMA_VERSION = 2;

/** Layout 1 → 2: adds titan:runs:finished, built from the runs stored so far. */
export const MIGRATE_1_TO_2_LUA = `
if redis.call('GET', 'titan:schema') ~= '1' then return 0 end
for _, id in ipairs(redis.call('ZRANGE', 'titan:runs', 0, -1)) do
  local h = redis.call('HMGET', 'titan:run:' .. id, 'status', 'finishedAt')
  if h[1] and h[1] ~= 'RUNNING' and h[2] then redis.call('ZADD', 'titan:runs:finished', h[2], id) end
end
redis.call('SET', 'titan:schema', '2')
return 1
`;

/** Marks the errors a commit script raises on purpose (the batch is invalid; nothing was written). */
export const COMMIT_ERROR = 'TITANCOMMIT';
/** The commit script's error when titan:commit is not the commit this store wrote last. */
export const DIVERGED_ERROR = 'TITANDIVERGED';

/**
 * ARGV: id, previous id ('' for none), then the sections, each a count followed by its entries:
 *   runs:      runId name agent('') status createdAt finishedAt('') requestId('') startedBy('') tagsJSON('') nTags tag…
 *   new jobs:  runId jobId spec state
 *   updates:   runId jobId state
 *   attempts:  runId jobId attempt JSON
 *   decisions: runId jobId JSON
 * Returns 'OK', or 'DUP' when the batch of that id was already applied.
 */
export const COMMIT_LUA = `
local P = 'titan:'
local id, prev = ARGV[1], ARGV[2]
local last = redis.call('GET', P .. 'commit')
if last == id then return 'DUP' end
if (last or '') ~= prev then
  return redis.error_reply('${DIVERGED_ERROR} ' .. (last or ''))
end
local i = 3
local function nxt() local v = ARGV[i]; i = i + 1; return v end
local function fail(where, why) return redis.error_reply('${COMMIT_ERROR} store commit failed at ' .. where .. ': ' .. why) end
local function status(state) return string.match(state, '^(%S+)') end

local runs = {}
for r = 1, tonumber(nxt()) do
  local run = { id = nxt(), name = nxt(), agent = nxt(), status = nxt(), createdAt = nxt(), finishedAt = nxt(), request = nxt(), startedBy = nxt(), tagsJson = nxt(), tags = {} }
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
  if runKnown[r] == nil then runKnown[r] = redis.call('EXISTS', P .. 'run:' .. r) == 1 end
  return runKnown[r]
end
local function jobExists(r, j)
  local k = r .. '/' .. j
  if jobKnown[k] == nil then jobKnown[k] = redis.call('HEXISTS', P .. 'run:' .. r .. ':jobs', j) == 1 end
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
  local key = P .. 'run:' .. run.id
  local old = redis.call('HMGET', key, 'status', 'agent', 'createdAt', 'tags')
  -- createdAt never changes once stored.
  local created = old[3] or run.createdAt
  local score = tonumber(created)
  redis.call('HSET', key, 'name', run.name, 'status', run.status, 'createdAt', created)
  setOrDel(key, 'agent', run.agent)
  setOrDel(key, 'finishedAt', run.finishedAt)
  setOrDel(key, 'tags', run.tagsJson)
  if not old[3] then redis.call('ZADD', P .. 'runs', score, run.id) end
  if not old[3] and run.request ~= '' then
    redis.call('HSET', key, 'request', run.request)
    redis.call('HSET', P .. 'requests', run.request, run.id)
  end
  if not old[3] and run.startedBy ~= '' then redis.call('HSET', key, 'startedBy', run.startedBy) end
  if old[1] ~= run.status then
    if old[1] then redis.call('ZREM', P .. 'runs:status:' .. old[1], run.id) end
    redis.call('ZADD', P .. 'runs:status:' .. run.status, score, run.id)
  end
  if run.status ~= 'RUNNING' and run.finishedAt ~= '' then
    redis.call('ZADD', P .. 'runs:finished', run.finishedAt, run.id)
  else
    redis.call('ZREM', P .. 'runs:finished', run.id)
  end
  local keep = {}
  for _, t in ipairs(run.tags) do keep[t] = true end
  if old[4] then
    for _, t in ipairs(cjson.decode(old[4])) do
      if not keep[t] then redis.call('ZREM', P .. 'runs:tag:' .. t, run.id) end
    end
  end
  for t in pairs(keep) do redis.call('ZADD', P .. 'runs:tag:' .. t, score, run.id) end
  local oldAgent = old[2] or ''
  if oldAgent ~= run.agent then
    if oldAgent ~= '' then
      local ak = P .. 'runs:agent:' .. oldAgent
      redis.call('ZREM', ak, run.id)
      local top = redis.call('ZRANGE', ak, -1, -1, 'WITHSCORES')
      if #top == 0 then redis.call('ZREM', P .. 'agents', oldAgent) else redis.call('ZADD', P .. 'agents', top[2], oldAgent) end
    end
    if run.agent ~= '' then
      redis.call('ZADD', P .. 'runs:agent:' .. run.agent, score, run.id)
      local cur = redis.call('ZSCORE', P .. 'agents', run.agent)
      if not cur or tonumber(cur) < score then redis.call('ZADD', P .. 'agents', score, run.agent) end
    end
  end
end

for _, nj in ipairs(newJobs) do
  local rk = P .. 'run:' .. nj.run
  local s = status(nj.state)
  redis.call('HSET', rk .. ':specs', nj.job, nj.spec)
  redis.call('HSET', rk .. ':jobs', nj.job, nj.state)
  redis.call('RPUSH', rk .. ':order', nj.job)
  redis.call('ZADD', P .. 'job:' .. nj.job, redis.call('HGET', rk, 'createdAt'), nj.run)
  redis.call('HINCRBY', rk, 'n:' .. s, 1)
  totals.submitted = totals.submitted + 1
  tally(s, 1)
end

for _, u in ipairs(updates) do
  local rk = P .. 'run:' .. u.run
  local was = status(redis.call('HGET', rk .. ':jobs', u.job))
  local s = status(u.state)
  redis.call('HSET', rk .. ':jobs', u.job, u.state)
  if was ~= s then
    redis.call('HINCRBY', rk, 'n:' .. was, -1)
    redis.call('HINCRBY', rk, 'n:' .. s, 1)
    tally(was, -1)
    tally(s, 1)
  end
end

for _, a in ipairs(attempts) do
  if redis.call('HSET', P .. 'attempts:' .. a.run .. '/' .. a.job, a.n, a.json) == 1 then
    totals.attempts = totals.attempts + 1
    if tonumber(a.n) > 1 then totals.retried = totals.retried + 1 end
  end
end

for _, d in ipairs(decisions) do redis.call('LPUSH', P .. 'decisions', d.json) end

for field, n in pairs(totals) do
  if n ~= 0 then redis.call('HINCRBY', P .. 'totals', field, n) end
end
redis.call('SET', P .. 'commit', id)
return 'OK'
`;

/** ARGV: cutoff, limit. Finished runs that finished before the cutoff, oldest finish first. */
export const FINISHED_BEFORE_LUA = `
return redis.call('ZRANGEBYSCORE', 'titan:runs:finished', '-inf', '(' .. ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
`;

/**
 * ARGV: runId. Removes a finished run, its jobs, attempts, index entries and gate decisions;
 * the totals are lifetime counts and stay. 1 when removed, 0 when there is no such run.
 */
export const DELETE_RUN_LUA = `
local P, id = 'titan:', ARGV[1]
local rk = P .. 'run:' .. id
local h = redis.call('HMGET', rk, 'status', 'createdAt', 'tags', 'agent', 'request')
if not h[2] then return 0 end
if h[5] then redis.call('HDEL', P .. 'requests', h[5]) end
if h[1] == 'RUNNING' then return redis.error_reply('${COMMIT_ERROR} run ' .. id .. ' is still running: cancel it first') end
redis.call('ZREM', P .. 'runs', id)
redis.call('ZREM', P .. 'runs:finished', id)
redis.call('ZREM', P .. 'runs:status:' .. h[1], id)
if h[3] then for _, t in ipairs(cjson.decode(h[3])) do redis.call('ZREM', P .. 'runs:tag:' .. t, id) end end
if h[4] then
  local ak = P .. 'runs:agent:' .. h[4]
  redis.call('ZREM', ak, id)
  local top = redis.call('ZRANGE', ak, -1, -1, 'WITHSCORES')
  if #top == 0 then redis.call('ZREM', P .. 'agents', h[4]) else redis.call('ZADD', P .. 'agents', top[2], h[4]) end
end
for _, job in ipairs(redis.call('LRANGE', rk .. ':order', 0, -1)) do
  redis.call('ZREM', P .. 'job:' .. job, id)
  redis.call('DEL', P .. 'attempts:' .. id .. '/' .. job)
end
local decisions = redis.call('LRANGE', P .. 'decisions', 0, -1)
local kept, dropped = {}, false
for _, d in ipairs(decisions) do
  if cjson.decode(d).runId == id then dropped = true else kept[#kept + 1] = d end
end
if dropped then
  redis.call('DEL', P .. 'decisions')
  for k = 1, #kept, 1000 do redis.call('RPUSH', P .. 'decisions', unpack(kept, k, math.min(k + 999, #kept))) end
end
redis.call('DEL', rk, rk .. ':specs', rk .. ':jobs', rk .. ':order')
return 1
`;

/** Every RUNNING run, oldest first: { runId, run hash, job order, specs hash, jobs hash } each. */
export const LOAD_ACTIVE_LUA = `
local out = {}
for k, id in ipairs(redis.call('ZRANGE', 'titan:runs:status:RUNNING', 0, -1)) do
  local rk = 'titan:run:' .. id
  out[k] = { id, redis.call('HGETALL', rk), redis.call('LRANGE', rk .. ':order', 0, -1), redis.call('HGETALL', rk .. ':specs'), redis.call('HGETALL', rk .. ':jobs') }
end
return out
`;

/** ARGV: runId. Returns { job order, specs hash, jobs hash } read at one instant. */
export const RUN_JOBS_LUA = `
local rk = 'titan:run:' .. ARGV[1]
return { redis.call('LRANGE', rk .. ':order', 0, -1), redis.call('HGETALL', rk .. ':specs'), redis.call('HGETALL', rk .. ':jobs') }
`;

/**
 * ARGV: index zset, 'desc' or 'asc', a status the runs must have ('' for any), limit (-1: none),
 * and for 'desc' optionally a position (createdAt, runId): only runs strictly after it in
 * newest-first order. Runs of one createdAt come in reverse byte order of their ids, as
 * ZREVRANGE orders equal scores. Returns { runId, run hash } per run, in index order.
 */
export const LIST_RUNS_LUA = `
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
    local rk = 'titan:run:' .. id
    local past = afterAt and tonumber(ids[k + 1]) == tonumber(afterAt) and id >= afterId
    if not past and (status == '' or redis.call('HGET', rk, 'status') == status) then
      out[#out + 1] = { id, redis.call('HGETALL', rk) }
      if limit > 0 and #out >= limit then return out end
    end
  end
  start = start + chunk
end
`;

/** ARGV: limit. Returns { agentRunId, runs, active, firstAt, lastAt } per agent run, latest first. */
export const LIST_AGENTS_LUA = `
local out = {}
local limit = tonumber(ARGV[1])
if limit <= 0 then return out end
local agents = redis.call('ZREVRANGE', 'titan:agents', 0, limit - 1, 'WITHSCORES')
for k = 1, #agents, 2 do
  local agent = agents[k]
  local runs = redis.call('ZRANGE', 'titan:runs:agent:' .. agent, 0, -1, 'WITHSCORES')
  local active = 0
  for r = 1, #runs, 2 do
    if redis.call('HGET', 'titan:run:' .. runs[r], 'status') == 'RUNNING' then active = active + 1 end
  end
  out[#out + 1] = { agent, tostring(#runs / 2), tostring(active), runs[2] or agents[k + 1], agents[k + 1] }
end
return out
`;

/** ARGV: jobId, runId ('' for the newest run that has it). Returns { runId, spec, state } or nil. */
export const FIND_JOB_LUA = `
local job, run = ARGV[1], ARGV[2]
if run == '' then
  run = redis.call('ZREVRANGE', 'titan:job:' .. job, 0, 0)[1]
  if not run then return false end
end
local rk = 'titan:run:' .. run
local spec = redis.call('HGET', rk .. ':specs', job)
if not spec then return false end
return { run, spec, redis.call('HGET', rk .. ':jobs', job) }
`;

// ---- the data bus ---------------------------------------------------------------------------------

/** Shared by the data bus scripts: the key's stored state, or nil. */
const KV_COMMON = `
local M, KEYS_Z, EXP_Z, REV = 'titan:kv:meta', 'titan:kv:keys', 'titan:kv:expiring', 'titan:kv:revision'
local function fmt(n) if n == 0 then return '0' end return string.format('%.0f', n) end
local function parse(m)
  local t, v, e = string.match(m, '^(%a+)|(%d+)|(%d*)$')
  local row = { type = t, version = tonumber(v) }
  if e ~= '' then row.expiresAt = tonumber(e) end
  return row
end
`;

/**
 * ARGV: now, the most members a set may have, the op count, then each op: name, key, and
 *   set: value ttl('')  |  del  |  incr: by  |  cas: expected value ttl('')  (expected and value
 *   are 'N' for null or 'V' + the string)  |  sadd/srem: n member…  |  expire
 * Returns one array per op: { '1', changed, version, value ('N' or 'V'..), expiresAt (''), count }
 * or { '0', kind, detail… } for an op that could not apply (it wrote nothing).
 */
export const KV_APPLY_LUA = `${KV_COMMON}
local now, maxMembers = tonumber(ARGV[1]), tonumber(ARGV[2])
local revision = tonumber(redis.call('GET', REV) or '0')
local start = revision
local i = 3
local function nxt() local v = ARGV[i]; i = i + 1; return v end
local function nullable(v) if v == 'N' then return nil end return string.sub(v, 2) end

local function load(key)
  local m = redis.call('HGET', M, key)
  if not m then return nil end
  local row = parse(m)
  if row.type == 'string' then row.value = redis.call('GET', 'user:' .. key) or nil end
  return row
end
local function removeKey(key)
  redis.call('DEL', 'user:' .. key)
  redis.call('HDEL', M, key)
  redis.call('ZREM', KEYS_Z, key)
  redis.call('ZREM', EXP_Z, key)
end
local function writeMeta(key, t, version, expiresAt)
  local e = ''
  if expiresAt then e = fmt(expiresAt) end
  redis.call('HSET', M, key, t .. '|' .. fmt(version) .. '|' .. e)
  redis.call('ZADD', KEYS_Z, 0, key)
  if expiresAt then redis.call('ZADD', EXP_Z, expiresAt, key) else redis.call('ZREM', EXP_Z, key) end
end
local function ok(changed, version, value, expiresAt, count)
  local v, e = 'N', ''
  if value then v = 'V' .. value end
  if expiresAt then e = fmt(expiresAt) end
  return { '1', changed and '1' or '0', fmt(version), v, e, fmt(count) }
end
local function write(key, value, expiresAt, count)
  revision = revision + 1
  -- SET replaces a set as well.
  redis.call('SET', 'user:' .. key, value)
  writeMeta(key, 'string', revision, expiresAt)
  return ok(true, revision, value, expiresAt, count)
end
local function removed(key, count)
  removeKey(key)
  return ok(true, 0, nil, nil, count)
end
local function isSafe(n) return n >= -9007199254740991 and n <= 9007199254740991 end

local function apply(op, key, a, row, expired)
  local function unchanged(count)
    if row then return ok(expired, row.version, row.value, row.expiresAt, count) end
    return ok(expired, 0, nil, nil, count)
  end
  if op == 'set' then
    local exp = nil
    if a.ttl ~= '' then exp = now + tonumber(a.ttl) end
    return write(key, a.value, exp, 1)
  elseif op == 'del' then
    if row then return removed(key, 1) end
    return unchanged(0)
  elseif op == 'incr' then
    if row and row.type == 'set' then return { '0', 'type', 'set', 'an integer' } end
    local current = 0
    if row and row.value then
      local digits = string.gsub(row.value, '^%-', '')
      if not string.match(row.value, '^%-?%d+$') or #digits > 16 then return { '0', 'notint', row.value } end
      current = tonumber(row.value)
      if not isSafe(current) then return { '0', 'notint', row.value } end
    end
    local n = current + tonumber(a.by)
    if not isSafe(n) then return { '0', 'range' } end
    -- Like Redis, an increment keeps the key's expiry.
    local exp = nil
    if row then exp = row.expiresAt end
    return write(key, fmt(n), exp, n)
  elseif op == 'cas' then
    if row and row.type == 'set' then return { '0', 'type', 'set', 'a string' } end
    local current = nil
    if row then current = row.value end
    if current ~= a.expected then return unchanged(0) end
    if a.value then
      local exp = nil
      if a.ttl ~= '' then exp = now + tonumber(a.ttl) end
      return write(key, a.value, exp, 1)
    end
    if row then return removed(key, 1) end
    return unchanged(1)
  elseif op == 'sadd' then
    if row and row.type == 'string' then return { '0', 'type', 'string', 'a set' } end
    local setKey = 'user:' .. key
    -- An absent key has no members, whatever was left under its name outside Titan.
    if not row then redis.call('DEL', setKey) end
    local seen, added = {}, {}
    for _, m in ipairs(a.members) do
      if not seen[m] then
        seen[m] = true
        if redis.call('SISMEMBER', setKey, m) == 0 then added[#added + 1] = m end
      end
    end
    if #added == 0 then
      if row then return ok(false, row.version, nil, row.expiresAt, 0) end
      return ok(false, 0, nil, nil, 0)
    end
    if redis.call('SCARD', setKey) + #added > maxMembers then return { '0', 'toobig' } end
    for _, m in ipairs(added) do redis.call('SADD', setKey, m) end
    revision = revision + 1
    -- A new set has no expiry; an existing one keeps its own.
    local exp = nil
    if row then exp = row.expiresAt end
    writeMeta(key, 'set', revision, exp)
    return ok(true, revision, nil, exp, #added)
  elseif op == 'srem' then
    if row and row.type == 'string' then return { '0', 'type', 'string', 'a set' } end
    if not row then return unchanged(0) end
    local setKey = 'user:' .. key
    local n = 0
    for _, m in ipairs(a.members) do n = n + redis.call('SREM', setKey, m) end
    if n == 0 then return ok(false, row.version, nil, row.expiresAt, 0) end
    -- Like Redis, a set that loses its last member no longer exists.
    if redis.call('SCARD', setKey) == 0 then return removed(key, n) end
    revision = revision + 1
    writeMeta(key, 'set', revision, row.expiresAt)
    return ok(true, revision, nil, row.expiresAt, n)
  end
  -- expire: the removal above is all it does.
  return unchanged(0)
end

local out = {}
for k = 1, tonumber(nxt()) do
  local op, key = nxt(), nxt()
  local a = {}
  if op == 'set' then a.value = nxt(); a.ttl = nxt()
  elseif op == 'incr' then a.by = nxt()
  elseif op == 'cas' then a.expected = nullable(nxt()); a.value = nullable(nxt()); a.ttl = nxt()
  elseif op == 'sadd' or op == 'srem' then
    a.members = {}
    for m = 1, tonumber(nxt()) do a.members[m] = nxt() end
  end
  local stored = load(key)
  -- An expired key is removed first, so the op sees it absent; the removal alone is a change.
  local expired = stored ~= nil and stored.expiresAt ~= nil and stored.expiresAt <= now
  if expired then removeKey(key) end
  local row = stored
  if expired then row = nil end
  out[k] = apply(op, key, a, row, expired)
end
if revision ~= start then redis.call('SET', REV, fmt(revision)) end
return out
`;

/** ARGV: key, now. Returns { type, value ('N'/'V'..), version, expiresAt ('') } or nil. */
export const KV_GET_LUA = `${KV_COMMON}
local key, now = ARGV[1], tonumber(ARGV[2])
local m = redis.call('HGET', M, key)
if not m then return false end
local row = parse(m)
if row.expiresAt and row.expiresAt <= now then return false end
local v = 'N'
if row.type == 'string' then
  local s = redis.call('GET', 'user:' .. key)
  if s then v = 'V' .. s end
end
local e = ''
if row.expiresAt then e = fmt(row.expiresAt) end
return { row.type, v, fmt(row.version), e }
`;

/** ARGV: key. The members of a set key (none for a string or an absent key). */
export const KV_MEMBERS_LUA = `
local m = redis.call('HGET', 'titan:kv:meta', ARGV[1])
if not m or string.sub(m, 1, 4) ~= 'set|' then return {} end
return redis.call('SMEMBERS', 'user:' .. ARGV[1])
`;

/** ARGV: prefix, how many to return at most, now. Returns flat { key, type, version, expiresAt }… */
export const KV_KEYS_LUA = `${KV_COMMON}
local prefix, want, now = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local min, max = '-', '+'
if prefix ~= '' then min, max = '[' .. prefix, '[' .. prefix .. '\\255' end
local out, found, offset = {}, 0, 0
while found < want do
  local keys = redis.call('ZRANGEBYLEX', KEYS_Z, min, max, 'LIMIT', offset, 512)
  if #keys == 0 then break end
  offset = offset + #keys
  for _, key in ipairs(keys) do
    local m = redis.call('HGET', M, key)
    if m then
      local row = parse(m)
      if not row.expiresAt or row.expiresAt > now then
        local e = ''
        if row.expiresAt then e = fmt(row.expiresAt) end
        out[#out + 1] = key; out[#out + 1] = row.type; out[#out + 1] = fmt(row.version); out[#out + 1] = e
        found = found + 1
        if found >= want then break end
      end
    end
  end
end
return out
`;

// ---- artifact metadata -------------------------------------------------------------------------------

/** ARGV: key, sha256, runId (''), JSON. Returns the content hash no key references any more, or nil. */
export const ARTIFACT_PUT_LUA = `
local H, REFS = 'titan:artifacts', 'titan:artifacts:refs'
local key, sha, run, json = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local old = redis.call('HGET', H, key)
local orphan = false
if old then
  local o = cjson.decode(old)
  if type(o.runId) == 'string' and o.runId ~= run then redis.call('ZREM', 'titan:artifacts:run:' .. o.runId, key) end
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
redis.call('ZADD', 'titan:artifacts:keys', 0, key)
if run ~= '' then redis.call('ZADD', 'titan:artifacts:run:' .. run, 0, key) end
return orphan
`;

/** ARGV: key. Returns { deleted ('1'/'0'), orphaned sha256 or '' }. */
export const ARTIFACT_DELETE_LUA = `
local H, REFS = 'titan:artifacts', 'titan:artifacts:refs'
local key = ARGV[1]
local old = redis.call('HGET', H, key)
if not old then return { '0', '' } end
local o = cjson.decode(old)
redis.call('HDEL', H, key)
redis.call('ZREM', 'titan:artifacts:keys', key)
if type(o.runId) == 'string' then redis.call('ZREM', 'titan:artifacts:run:' .. o.runId, key) end
local orphan = ''
if redis.call('HINCRBY', REFS, o.sha256, -1) <= 0 then
  redis.call('HDEL', REFS, o.sha256)
  orphan = o.sha256
end
return { '1', orphan }
`;

/** ARGV: prefix, runId (''), how many at most. Returns the artifacts' JSON in key order. */
export const ARTIFACT_LIST_LUA = `
local prefix, run, want = ARGV[1], ARGV[2], tonumber(ARGV[3])
local index = 'titan:artifacts:keys'
if run ~= '' then index = 'titan:artifacts:run:' .. run end
local min, max = '-', '+'
if prefix ~= '' then min, max = '[' .. prefix, '[' .. prefix .. '\\255' end
local out = {}
if want <= 0 then return out end
for _, key in ipairs(redis.call('ZRANGEBYLEX', index, min, max, 'LIMIT', 0, want)) do
  local json = redis.call('HGET', 'titan:artifacts', key)
  if json then out[#out + 1] = json end
end
return out
`;
