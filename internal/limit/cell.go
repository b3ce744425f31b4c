package limit

import (
	"math"
	"time"
)

// This file is the limit algorithm in Go, for the memory store. reserve.lua and settle.lua are
// the same algorithm for Redis, line for line; the behaviour tests run one table on both.

// cell is one scope's state: a hash of the same fields in Redis.
type cell struct {
	req, tok     float64 // GCRA theoretical arrival times (µs since limitEpoch); 0: none
	period, prev int64   // budget period ids: the current one and the one before
	used, before spend   // usage in period and in prev
	expires      float64 // when the cell holds nothing any more (µs)
}

// spend is budget usage: tokens and nano-dollars.
type spend struct {
	tokens, cost int64
}

// plan is one Reserve: what it asks, then what the store decided.
type plan struct {
	scopes       []*Scope
	tokens, cost int64 // the estimate: tokens and nano-dollars
	ok           bool
	denied       int // index of the scope that refused, -1 when ok
	reason       Reason
	retry        float64 // µs until the request would be admitted
	grants       []grant // one per scope
}

// grant is what Reserve did to one scope and the scope's windows afterwards.
type grant struct {
	reqRemaining, tokRemaining int64
	reqReset, tokReset         float64 // µs
	reserved                   int64   // tokens charged to the TPM window
	period                     int64   // budget period charged; 0: none
}

// settlement is one Settle: the real usage against what Reserve charged.
type settlement struct {
	scopes []*Scope
	grants []grant // reserved and period from Reserve; period -1: the current one (fail_open)
	tokens int64   // real tokens, for the TPM windows
	budget spend   // real minus estimated, for the budgets
}

// gcra charges cost units to a window whose theoretical arrival time is tat, interval t µs per
// unit. It returns the new TAT, whether it fits in a minute, and the µs to wait when it does not.
func gcra(tat, now, t float64, cost int64) (next float64, ok bool, retry float64) {
	next = max(tat, now) + float64(cost)*t
	if next-now <= window+slack {
		return next, true, 0
	}
	return next, false, next - window - now
}

// windowOf returns a window's remaining units and the whole µs until it is empty.
func windowOf(tat, now, t float64, limit int64) (remaining int64, reset float64) {
	tat = max(tat, now)
	return min(limit, max(0, int64(math.Floor((window+slack-(tat-now))/t)))), math.Floor(tat - now)
}

// peek sets g's windows from c as it is (a denied request's status shows nothing charged).
func peek(c *cell, s *Scope, now float64, g *grant) {
	if s.rule.RPM > 0 {
		g.reqRemaining, g.reqReset = windowOf(c.req, now, s.reqT, s.rule.RPM)
	}
	if s.rule.TPM > 0 {
		g.tokRemaining, g.tokReset = windowOf(c.tok, now, s.tokT, s.rule.TPM)
	}
}

// check evaluates scope s on c (a copy the caller commits only if every scope admits) and
// returns the grant with the windows after the charge, the reason it refuses (NoReason: admits)
// and how long to wait.
func check(c *cell, s *Scope, at instant, cal *calendar, tokens, cost int64) (g grant, r Reason, retry float64) {
	refuse := func(why Reason, wait float64) {
		if r == NoReason || wait > retry {
			r, retry = why, wait
		}
	}
	if s.rule.RPM > 0 {
		next, ok, wait := gcra(c.req, at.us, s.reqT, 1)
		if !ok {
			refuse(Requests, wait)
		}
		c.req = next
	}
	if s.rule.TPM > 0 {
		g.reserved = min(max(tokens, 0), s.rule.TPM)
		next, ok, wait := gcra(c.tok, at.us, s.tokT, g.reserved)
		if !ok {
			refuse(Tokens, wait)
		}
		c.tok = next
	}
	peek(c, s, at.us, &g)
	if b := s.rule.Budget; b.Period != NoPeriod {
		span := cal.span(b.Period, at.sec)
		g.period = span.id
		rotate(c, g.period)
		end := span.end
		if b.Tokens > 0 && c.used.tokens+tokens > b.Tokens {
			refuse(BudgetTokens, end-at.us)
		}
		if s.budget > 0 && c.used.cost+cost > s.budget {
			refuse(BudgetCost, end-at.us)
		}
		c.used.tokens += tokens
		c.used.cost += cost
		c.expires = max(c.expires, span.nextEnd)
	}
	c.expires = max(c.expires, c.req, c.tok)
	return g, r, retry
}

// rotate makes id the cell's current period, keeping the one before it.
func rotate(c *cell, id int64) {
	if c.period == id {
		return
	}
	if c.period == id-1 {
		c.prev, c.before = c.period, c.used
	} else {
		c.prev, c.before = 0, spend{}
	}
	c.period, c.used = id, spend{}
}

// settleCell applies the real usage of one scope: the TPM window gets tokens minus what was
// reserved (a refund never makes the window fuller than empty), the budget gets the difference
// in the period it was charged in, if the cell still keeps that period.
func settleCell(c *cell, s *Scope, at instant, cal *calendar, tokens int64, g grant, budget spend) {
	if s.rule.TPM > 0 && tokens != g.reserved {
		c.tok = max(max(c.tok, at.us)+float64(tokens-g.reserved)*s.tokT, at.us)
		c.expires = max(c.expires, c.tok)
	}
	if b := s.rule.Budget; b.Period != NoPeriod && g.period != 0 {
		id := g.period
		if id < 0 {
			span := cal.span(b.Period, at.sec)
			id = span.id
			rotate(c, id)
			c.expires = max(c.expires, span.nextEnd)
		}
		switch id {
		case c.period:
			c.used = spend{max(0, c.used.tokens+budget.tokens), max(0, c.used.cost+budget.cost)}
		case c.prev:
			c.before = spend{max(0, c.before.tokens+budget.tokens), max(0, c.before.cost+budget.cost)}
		}
	}
}

// periodUsage reads the usage of period id from c.
func periodUsage(c *cell, id int64) spend {
	switch {
	case c == nil:
		return spend{}
	case c.period == id:
		return c.used
	case c.prev == id:
		return c.before
	}
	return spend{}
}

// Time inside the engine is an instant: whole Unix seconds, for budget periods, and microseconds
// since limitEpoch as a float64, for GCRA. The epoch keeps the microsecond values near 2^45, where
// a float64 (the only number type of Redis's Lua) still resolves 1/256 µs; counted from 1970 they
// would resolve only 1/4 µs.
const (
	limitEpoch = 1735689600 // 2025-01-01T00:00:00Z
	window     = 60e6       // one minute, in microseconds
	// slack absorbs float rounding when a limit does not divide a minute evenly (7 rpm):
	// one microsecond is a fraction of a token even at 100 million tokens per minute.
	slack = 1.0
	// sweepEvery is how often the memory store drops cells that hold nothing, in microseconds.
	sweepEvery = window
)

// instant is a decision's time.
type instant struct {
	sec int64   // Unix seconds
	us  float64 // microseconds since limitEpoch
}

func instantOf(t time.Time) instant {
	sec := t.Unix()
	return instant{sec: sec, us: float64(sec-limitEpoch)*1e6 + float64(t.Nanosecond()/1e3)}
}

// periodID numbers periods consecutively: days since 1970-01-01, months since year 0
// (year*12 + month-1). The Lua scripts compute the same numbers.
func periodID(p Period, sec int64) int64 {
	switch p {
	case Day:
		return floorDiv(sec, 86400)
	case Month:
		t := time.Unix(sec, 0).UTC()
		return int64(t.Year())*12 + int64(t.Month()) - 1
	}
	return 0
}

// periodBounds returns the start and the end (exclusive) of period id.
func periodBounds(p Period, id int64) (start, end time.Time) {
	switch p {
	case Day:
		start = time.Unix(id*86400, 0).UTC()
		return start, start.AddDate(0, 0, 1)
	case Month:
		start = time.Date(int(floorDiv(id, 12)), time.Month(id-floorDiv(id, 12)*12+1), 1, 0, 0, 0, 0, time.UTC)
		return start, start.AddDate(0, 1, 0)
	}
	return time.Time{}, time.Time{}
}

// periodEnd returns the end of period id as microseconds since limitEpoch.
func periodEnd(p Period, id int64) float64 {
	_, end := periodBounds(p, id)
	return float64(end.Unix()-limitEpoch) * 1e6
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// calendar caches the current day and month, which every decision with a budget needs; computing
// a month from a time costs more than the rest of the decision. Not safe for concurrent use.
type calendar struct {
	day, month span
}

// span is one budget period: its id, the seconds it covers, its end and the next one's (µs).
type span struct {
	id, from, to int64
	end, nextEnd float64
}

func (c *calendar) span(p Period, sec int64) span {
	s := &c.day
	if p == Month {
		s = &c.month
	}
	if sec < s.from || sec >= s.to || s.to == 0 {
		id := periodID(p, sec)
		start, end := periodBounds(p, id)
		*s = span{id: id, from: start.Unix(), to: end.Unix(), end: periodEnd(p, id), nextEnd: periodEnd(p, id+1)}
	}
	return *s
}
