-- reserve.lua: check every scope of one request and charge all of them or none (cell.go: check).
-- KEYS: one cell per scope. ARGV[1], ARGV[2]: now as Unix seconds and microseconds, or '' for
-- Redis's clock. ARGV[3], ARGV[4]: the estimate in tokens and nano-dollars. Then five per scope:
-- rpm, tpm, budget tokens, budget nano-dollars, budget period (0 none, 1 day, 2 month).
-- Returns ok (1/0), the refusing scope (0-based, -1), the reason, the µs to wait, then six per
-- scope: requests remaining and reset (µs), tokens remaining and reset, tokens reserved, period;
-- the windows are after the charge, or as they were when the request is refused.
local tokens, cost = tonumber(ARGV[3]), tonumber(ARGV[4])
local ok, denied, reason, retry = true, -1, 0, 0
local before, after, rules, grants = {}, {}, {}, {}

-- worse keeps the reason to wait longest for.
local function worse(why, wait, r, w)
  if why == 0 or w > wait then return r, w end
  return why, wait
end

for i, key in ipairs(KEYS) do
  local a = 4 + (i - 1) * 5
  local rule = {rpm = tonumber(ARGV[a + 1]), tpm = tonumber(ARGV[a + 2]), btok = tonumber(ARGV[a + 3]),
    bcost = tonumber(ARGV[a + 4]), kind = tonumber(ARGV[a + 5])}
  local c = load(key)
  before[i] = {r = c.r, t = c.t}
  local why, wait = 0, 0
  local g = {reserved = 0, period = 0}
  if rule.rpm > 0 then
    local nxt, fits, w = gcra(c.r, W / rule.rpm, 1)
    if not fits then why, wait = worse(why, wait, 1, w) end
    c.r = nxt
  end
  if rule.tpm > 0 then
    g.reserved = math.min(math.max(tokens, 0), rule.tpm)
    local nxt, fits, w = gcra(c.t, W / rule.tpm, g.reserved)
    if not fits then why, wait = worse(why, wait, 2, w) end
    c.t = nxt
  end
  if rule.kind > 0 then
    g.period = period_id(rule.kind)
    rotate(c, g.period)
    local left = period_end(rule.kind, g.period) - now
    if rule.btok > 0 and c.ut + tokens > rule.btok then why, wait = worse(why, wait, 3, left) end
    if rule.bcost > 0 and c.uc + cost > rule.bcost then why, wait = worse(why, wait, 4, left) end
    c.ut, c.uc = c.ut + tokens, c.uc + cost
    c.x = math.max(c.x, period_end(rule.kind, g.period + 1))
  end
  c.x = math.max(c.x, c.r, c.t)
  if why ~= 0 and (ok or wait > retry) then
    ok, denied, reason, retry = false, i - 1, why, wait
  end
  after[i], rules[i], grants[i] = c, rule, g
end

local out = {ok and 1 or 0, denied, reason, math.ceil(retry)}
for i, key in ipairs(KEYS) do
  local c, rule = after[i], rules[i]
  if ok then store(key, c) else c = before[i] end
  local rr, rs, tr, ts = 0, 0, 0, 0
  if rule.rpm > 0 then rr, rs = window(c.r, W / rule.rpm, rule.rpm) end
  if rule.tpm > 0 then tr, ts = window(c.t, W / rule.tpm, rule.tpm) end
  for _, v in ipairs({rr, rs, tr, ts, grants[i].reserved, grants[i].period}) do
    out[#out + 1] = math.floor(v)
  end
end
return out
