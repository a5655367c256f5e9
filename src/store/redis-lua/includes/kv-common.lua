--- @include "keys"
-- Shared by the data bus scripts: the key's stored state, or nil.
local M, KEYS_Z, EXP_Z, REV = KEY_KV_META, KEY_KV_KEYS, KEY_KV_EXPIRING, KEY_KV_REVISION
local function fmt(n) if n == 0 then return '0' end return string.format('%.0f', n) end
local function parse(m)
  local t, v, e = string.match(m, '^(%a+)|(%d+)|(%d*)$')
  local row = { type = t, version = tonumber(v) }
  if e ~= '' then row.expiresAt = tonumber(e) end
  return row
end
