--- @include "keys"
-- Shared by the data bus scripts: the key's stored state, or nil.
local M, KEYS_Z, EXP_Z, REV = KEY.kvMeta, KEY.kvKeys, KEY.kvExpiring, KEY.kvRevision
local function fmt(n) if n == 0 then return '0' end return string.format('%.0f', n) end
local function parse(m)
  local t, v, e = string.match(m, '^(%a+)|(%d+)|(%d*)$')
  local row = { type = t, version = tonumber(v) }
  if e ~= '' then row.expiresAt = tonumber(e) end
  return row
end
