package limit

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"
)

// Reservation is an admitted request's hold on its scopes until Settle.
type Reservation struct {
	e         *Engine
	scopes    []*Scope
	grants    []grant
	estimate  spend // tokens and nano-dollars charged to budgets
	model     string
	unchecked bool
	settled   atomic.Bool
	inline    [4]grant // grants without another allocation for up to 4 scopes
	plan      plan     // the decision, here so that Reserve allocates once
	final     settlement
}

// Reserve checks every active scope of req and charges them all, in one atomic step (one round
// trip with Redis), or charges none. It returns:
//   - a Reservation and nil: admitted (with FailOpen and the store down, Unchecked() is true);
//   - nil and a *Denied: a scope refused; nothing was charged;
//   - nil and an error matching ErrUnavailable: the store is down and the policy is FailClosed;
//   - nil and ctx's error: the caller went away.
func (e *Engine) Reserve(ctx context.Context, req Request) (*Reservation, error) {
	r := &Reservation{e: e, scopes: active(req.Scopes), model: req.Model}
	if len(r.scopes) == 0 {
		e.counters.admitted.Add(1)
		return r, nil
	}
	est := Usage{Input: max(req.Estimate.Input, 0), Output: max(req.Estimate.Output, 0)}
	r.estimate = spend{tokens: est.Tokens(), cost: e.prices[req.Model].cost(est)}
	r.grants = r.inline[:0]
	r.grants = append(r.grants, make([]grant, len(r.scopes))...)
	if !e.mayTry() {
		return e.unavailable(r, e.skipped("reserve"))
	}
	p := &r.plan
	*p = plan{scopes: r.scopes, tokens: r.estimate.tokens, cost: r.estimate.cost, grants: r.grants}
	if err := e.store.reserve(ctx, instantOf(e.now()), p); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("limit reserve: %w", ctx.Err())
		}
		return e.unavailable(r, e.storeError(ctx, "reserve", err))
	}
	e.storeOK()
	if !p.ok {
		e.counters.rejected.Add(1)
		d := &Denied{
			Scope: r.scopes[p.denied].name, Reason: p.reason, RetryAfter: micros(p.retry),
			Status: status(r.scopes, r.grants, p.denied, p.reason),
		}
		e.decided(Rejected, d.Scope, d.Reason)
		return nil, d
	}
	e.counters.admitted.Add(1)
	e.decided(Admitted, "", NoReason)
	return r, nil
}

// unavailable applies the policy to a request the store could not decide.
func (e *Engine) unavailable(r *Reservation, err error) (*Reservation, error) {
	if e.policy == FailClosed {
		e.counters.failedClosed.Add(1)
		e.decided(FailedClosed, "", NoReason)
		return nil, err
	}
	e.counters.failedOpen.Add(1)
	e.decided(FailedOpen, "", NoReason)
	r.unchecked = true
	for i := range r.grants {
		r.grants[i] = grant{period: -1} // settle into whatever period is current then
	}
	r.estimate = spend{}
	return r, nil
}

func (e *Engine) decided(o Outcome, scope string, r Reason) {
	if e.obs != nil {
		e.obs.Decided(o, scope, r)
	}
}

// active returns the scopes that limit or count something, without copying when all do.
func active(scopes []*Scope) []*Scope {
	for i, s := range scopes {
		if s == nil || !s.active() {
			out := append(make([]*Scope, 0, len(scopes)), scopes[:i]...)
			for _, s := range scopes[i+1:] {
				if s != nil && s.active() {
					out = append(out, s)
				}
			}
			return out
		}
	}
	return scopes
}

func status(scopes []*Scope, grants []grant, denied int, reason Reason) Status {
	st := Status{Scopes: make([]State, len(scopes)), denied: denied, reason: reason}
	for i, s := range scopes {
		g := grants[i]
		st.Scopes[i] = State{
			Scope:    s.name,
			Requests: Window{Limit: s.rule.RPM, Remaining: g.reqRemaining, Reset: micros(g.reqReset)},
			Tokens:   Window{Limit: s.rule.TPM, Remaining: g.tokRemaining, Reset: micros(g.tokReset)},
		}
	}
	return st
}

// Status returns the scopes' rate-limit windows after this request was charged (none when it
// was admitted unchecked).
func (r *Reservation) Status() Status {
	if r.unchecked {
		return Status{denied: -1}
	}
	return status(r.scopes, r.grants, -1, NoReason)
}

// Bill names the model whose price Settle charges to cost budgets, when it is not the one the
// request was reserved with: a key is reserved before the deployment that will serve it is
// known, and priced with the dearest then. Call it before Settle, from the goroutine that will
// call Settle.
func (r *Reservation) Bill(model string) {
	if r != nil {
		r.model = model
	}
}

// Unchecked reports whether the request was admitted without the store (FailOpen while it was
// down); Settle still tries to record its usage.
func (r *Reservation) Unchecked() bool { return r.unchecked }

// Settle replaces the estimate with the real usage: tokens per minute and budgets are charged
// what was used, not what was reserved. Call it once the answer ends, streams included; when the
// client went away, with what was used so far (the estimate, if nothing is known). It runs even
// if ctx is cancelled (bounded by Options.Timeout) and only the first call counts. An unsettled
// reservation keeps its estimate charged: the window drains it within a minute, the budget keeps it.
func (r *Reservation) Settle(ctx context.Context, used Usage) error {
	if r == nil || len(r.scopes) == 0 || !r.settled.CompareAndSwap(false, true) {
		return nil
	}
	e := r.e
	used = Usage{Input: max(used.Input, 0), Output: max(used.Output, 0)}
	got := spend{tokens: used.Tokens(), cost: e.prices[r.model].cost(used)}
	st := &r.final
	*st = settlement{
		scopes: r.scopes, grants: r.grants, tokens: got.tokens,
		budget: spend{tokens: got.tokens - r.estimate.tokens, cost: got.cost - r.estimate.cost},
	}
	if !e.mayTry() {
		e.counters.settleErrors.Add(1)
		return e.skipped("settle")
	}
	ctx = context.WithoutCancel(ctx) // the store's own timeouts bound the call
	if err := e.store.settle(ctx, instantOf(e.now()), st); err != nil {
		e.counters.settleErrors.Add(1)
		return e.storeError(ctx, "settle", err)
	}
	e.storeOK()
	return nil
}

// PeriodUsage is a scope's budget usage in one period.
type PeriodUsage struct {
	Scope      string
	Period     Period
	Start, End time.Time // UTC; End is exclusive
	Tokens     int64
	Cost       float64 // US dollars
	Budget     Budget
}

// Usage returns what scope s used in the budget period that contains at (the current one or the
// one before; older periods read as zero). For an admin endpoint or the check command.
func (e *Engine) Usage(ctx context.Context, s *Scope, at time.Time) (PeriodUsage, error) {
	b := s.rule.Budget
	if b.Period == NoPeriod {
		return PeriodUsage{}, fmt.Errorf("limit usage of %s: %w", s.name, ErrNoPeriod)
	}
	id := periodID(b.Period, at.Unix())
	start, end := periodBounds(b.Period, id)
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	u, err := e.store.usage(ctx, s, id)
	if err != nil {
		return PeriodUsage{}, e.storeError(ctx, "usage", err)
	}
	e.storeOK()
	return PeriodUsage{Scope: s.name, Period: b.Period, Start: start, End: end, Tokens: u.tokens, Cost: dollars(u.cost), Budget: b}, nil
}

// Counters counts the engine's decisions since Open.
type Counters struct {
	Admitted, Rejected, FailedOpen, FailedClosed uint64
	// StoreErrors counts store calls that failed or were skipped while it was down.
	StoreErrors uint64
	// SettleErrors counts settlements lost to an unavailable store.
	SettleErrors uint64
}

type counters struct {
	admitted, rejected, failedOpen, failedClosed, storeErrors, settleErrors atomic.Uint64
}

// Counters returns a snapshot of the counters.
func (e *Engine) Counters() Counters {
	c := &e.counters
	return Counters{
		Admitted: c.admitted.Load(), Rejected: c.rejected.Load(),
		FailedOpen: c.failedOpen.Load(), FailedClosed: c.failedClosed.Load(),
		StoreErrors: c.storeErrors.Load(), SettleErrors: c.settleErrors.Load(),
	}
}
