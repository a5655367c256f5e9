-- ARGV: prefix, how many to return at most, now. Returns flat { key, type, version, expiresAt }…
--- @include "kv-common"
local prefix, want, now = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local min, max = '-', '+'
if prefix ~= '' then min, max = '[' .. prefix, '[' .. prefix .. '\255' end
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
