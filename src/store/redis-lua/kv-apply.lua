-- ARGV (after the fencing epoch, see includes/fence.lua): now, the most members a set may have, the op count, then each op: name, key, and
--   set: value ttl('')  |  del  |  incr: by  |  cas: expected value ttl('')  (expected and value
--   are 'N' for null or 'V' + the string)  |  sadd/srem: n member…  |  expire
-- Returns one array per op: { '1', changed, version, value ('N' or 'V'..), expiresAt (''), count }
-- or { '0', kind, detail… } for an op that could not apply (it wrote nothing).
--- @include "fence"
--- @include "kv-common"
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
  if row.type == 'string' then row.value = redis.call('GET', PREFIX_BUS .. key) or nil end
  return row
end
local function removeKey(key)
  redis.call('DEL', PREFIX_BUS .. key)
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
  redis.call('SET', PREFIX_BUS .. key, value)
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
    local setKey = PREFIX_BUS .. key
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
    local setKey = PREFIX_BUS .. key
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
