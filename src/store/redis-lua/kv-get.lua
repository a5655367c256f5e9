-- ARGV: key, now. Returns { type, value ('N'/'V'..), version, expiresAt ('') } or nil.
--- @include "kv-common"
local key, now = ARGV[1], tonumber(ARGV[2])
local m = redis.call('HGET', M, key)
if not m then return false end
local row = parse(m)
if row.expiresAt and row.expiresAt <= now then return false end
local v = 'N'
if row.type == 'string' then
  local s = redis.call('GET', PREFIX_BUS .. key)
  if s then v = 'V' .. s end
end
local e = ''
if row.expiresAt then e = fmt(row.expiresAt) end
return { row.type, v, fmt(row.version), e }
