-- settle.lua: charge the real usage of one request (cell.go: settleCell).
-- KEYS: one cell per scope. ARGV[1], ARGV[2]: now, as in reserve.lua. ARGV[3]: real tokens.
-- ARGV[4], ARGV[5]: real minus estimated tokens and nano-dollars, for budgets. Then four per
-- scope: tpm, tokens reserved, budget period kind, period id charged (-1: the current one).
local tokens, dtok, dcost = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])

for i, key in ipairs(KEYS) do
  local a = 5 + (i - 1) * 4
  local tpm, reserved = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  local kind, id = tonumber(ARGV[a + 3]), tonumber(ARGV[a + 4])
  local c = load(key)
  if tpm > 0 and tokens ~= reserved then
    c.t = math.max(math.max(c.t, now) + (tokens - reserved) * (W / tpm), now)
    c.x = math.max(c.x, c.t)
  end
  if kind > 0 and id ~= 0 then
    if id < 0 then
      id = period_id(kind)
      rotate(c, id)
      c.x = math.max(c.x, period_end(kind, id + 1))
    end
    if id == c.p then
      c.ut, c.uc = math.max(0, c.ut + dtok), math.max(0, c.uc + dcost)
    elseif id == c.pp then
      c.bt, c.bc = math.max(0, c.bt + dtok), math.max(0, c.bc + dcost)
    end
  end
  store(key, c)
end
return 1
