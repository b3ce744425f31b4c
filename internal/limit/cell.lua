-- cell.lua: the prelude of reserve.lua and settle.lua, the same algorithm as cell.go and
-- period.go. A cell is a hash: r, t (GCRA arrival times, microseconds since E), p, pp (budget
-- period ids), ut, uc, bt, bc (tokens and nano-dollars used in p and in pp), x (when it holds
-- nothing any more). Lua numbers are doubles: every value stays below 2^53.
local E, W, SLACK = 1735689600, 60e6, 1.0
local sec, usec
if ARGV[1] == '' then
  -- Redis's clock: every replica decides on one time, whatever the skew between their clocks.
  local t = redis.call('TIME')
  sec, usec = tonumber(t[1]), tonumber(t[2])
else
  sec, usec = tonumber(ARGV[1]), tonumber(ARGV[2])
end
local now = (sec - E) * 1e6 + usec
local FIELDS = {'r', 't', 'p', 'pp', 'ut', 'uc', 'bt', 'bc', 'x'}

local function load(key)
  local v = redis.call('HMGET', key, unpack(FIELDS))
  local c, was = {}, {}
  for i, f in ipairs(FIELDS) do
    c[f] = tonumber(v[i]) or 0
    was[f] = c[f]
  end
  c.was = was
  return c
end

-- store writes the fields of c that changed. c.x is when the cell will hold nothing; its key
-- lives a minute longer, so a busy cell renews its TTL about once a minute, not on every request.
local function store(key, c)
  local renew = c.x > c.was.x
  if renew then c.x = c.x + W end
  local args = {}
  for _, f in ipairs(FIELDS) do
    if c[f] ~= c.was[f] then
      args[#args + 1] = f
      -- Redis turns a Lua number into its shortest exact decimal form (%.17g before 7.0).
      args[#args + 1] = c[f]
    end
  end
  if #args > 0 then redis.call('HSET', key, unpack(args)) end
  if renew then redis.call('PEXPIRE', key, math.ceil((c.x - now) / 1000)) end
end

local function gcra(tat, t, n)
  local nxt = math.max(tat, now) + n * t
  if nxt - now <= W + SLACK then return nxt, true, 0 end
  return nxt, false, nxt - W - now
end

-- window returns a window's remaining units and the µs until it is empty.
local function window(tat, t, limit)
  tat = math.max(tat, now)
  return math.min(limit, math.max(0, math.floor((W + SLACK - (tat - now)) / t))), tat - now
end

-- days_from_civil and civil_from_days: Howard Hinnant's algorithms for the proleptic Gregorian calendar.
local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local mp = (m > 2) and (m - 3) or (m + 9)
  local doy = math.floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end

local function period_id(kind)
  local days = math.floor(sec / 86400)
  if kind == 1 then return days end
  local z = days + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local m = (mp < 10) and (mp + 3) or (mp - 9)
  local y = yoe + era * 400
  if m <= 2 then y = y + 1 end
  return y * 12 + m - 1
end

-- period_end returns the end of period id in microseconds since E.
local function period_end(kind, id)
  if kind == 1 then return ((id + 1) * 86400 - E) * 1e6 end
  local n = id + 1
  local y = math.floor(n / 12)
  return (days_from_civil(y, n - y * 12 + 1, 1) * 86400 - E) * 1e6
end

local function rotate(c, id)
  if c.p == id then return end
  if c.p == id - 1 then
    c.pp, c.bt, c.bc = c.p, c.ut, c.uc
  else
    c.pp, c.bt, c.bc = 0, 0, 0
  end
  c.p, c.ut, c.uc = id, 0, 0
end
