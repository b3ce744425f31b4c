// Package limit enforces rate limits (requests and tokens per minute) and budgets (tokens and
// cost per day or month) over scopes such as a router key, a model or a deployment, in process
// or in Redis/Valkey shared by every replica.
//
// # How the gateway calls it
//
// Compile one *Scope per configured key, model and deployment at config load (NewScope), open
// one *Engine (Open) and, per request:
//
//	res, err := eng.Reserve(ctx, limit.Request{
//		Scopes:   []*limit.Scope{keyScope, modelScope, deploymentScope},
//		Model:    model,                                             // selects Options.Prices
//		Estimate: limit.Usage{Input: promptEstimate, Output: maxTokens},
//	})
//	var denied *limit.Denied
//	switch {
//	case errors.As(err, &denied):            // 429, or skip the deployment if denied.Scope is one
//		denied.WriteHeaders(w.Header(), limit.OpenAI, time.Now())  // Retry-After + x-ratelimit-*
//	case errors.Is(err, limit.ErrUnavailable): // fail_closed and the store is down: 503
//	case err != nil:                           // ctx ended: the client left
//	}
//	res.Status().WriteHeaders(w.Header(), limit.OpenAI, time.Now())  // optional on success
//	... serve ...
//	res.Bill(servedBy)                                    // if priced before the deployment was known
//	res.Settle(ctx, limit.Usage{Input: in, Output: out})  // real usage, or what was used so far
//
// Reserve checks and reserves every scope in one atomic step (one round trip with Redis): either
// all scopes admit the request and all are charged, or none is charged and Denied names the
// scope that refused. So a balancer can Reserve a request against another deployment after a
// denial without double counting the key. Settle is idempotent, survives a cancelled context and
// is one round trip too.
//
// # Algorithms
//
// Rate limits use GCRA (the generic cell rate algorithm, as in go-redis/redis_rate) with a burst
// of the whole per-minute limit: a limit of L per minute admits L requests at once and then one
// every minute/L; tokens are GCRA with a cost of the reserved tokens. Each scope keeps one
// theoretical arrival time (TAT) per dimension; a cell whose TAT has passed is an empty bucket
// and is dropped. Budgets are fixed UTC periods (day, month) counted per scope; the current and
// the previous period are kept, so Usage can report last month too.
//
//   - An estimate above a scope's TPM is reserved as the whole TPM: the request waits for an
//     empty window rather than never passing, and Settle charges what it really used.
//   - Usage above the estimate is owed: the window refuses until it has drained.
//   - Budgets reserve the estimate too, so concurrent requests cannot overshoot; a request whose
//     estimate exceeds what is left of the budget is refused until the next period.
//
// # Stores, time and failure
//
// The memory store (the default) is one mutex over a map, for one router. The Redis store keeps
// one hash per scope (KeyPrefix + name), changed only by two Lua scripts (cell.lua + reserve.lua,
// cell.lua + settle.lua) that implement cell.go line for line; its keys expire once they hold
// nothing. The scripts read Redis's TIME, so replicas never disagree about a window whatever
// their clocks; Options.Now replaces it in tests. When the store cannot be reached the engine
// applies Options.OnStoreError, logs once per change of state, tells the Observer, counts it,
// and probes again once per ProbeEvery until a call succeeds.
//
// # Deployments and retries
//
// A deployment whose limit refuses is skipped by reserving the next one. When deployments have
// limits and an attempt may be retried elsewhere, reserve the deployment per attempt in its own
// Reserve and settle a failed attempt with zero tokens, so only the deployment that answered is
// charged with the answer.
package limit

import (
	"errors"
	"fmt"
	"math"
)

// Rule is what a scope may use. A zero field means no limit in that dimension.
type Rule struct {
	// RPM is the number of requests admitted per minute.
	RPM int64
	// TPM is the number of tokens (input plus output) admitted per minute.
	TPM int64
	// Budget caps usage per period.
	Budget Budget
}

// Budget caps the tokens and the cost a scope may use per period. A Period with zero Tokens and
// Cost counts usage (readable with Engine.Usage) without denying anything.
type Budget struct {
	// Tokens is the most input plus output tokens per period; 0: no cap.
	Tokens int64
	// Cost is the most US dollars per period, priced with Options.Prices; 0: no cap.
	Cost float64
	// Period is Day or Month (UTC); the zero value counts nothing.
	Period Period
}

// Period is a budget's accounting period, in UTC.
type Period uint8

// The budget periods.
const (
	NoPeriod Period = iota
	Day
	Month
)

// String returns "day", "month" or "none".
func (p Period) String() string {
	switch p {
	case Day:
		return "day"
	case Month:
		return "month"
	}
	return "none"
}

// maxScopeName bounds a scope name, which becomes part of a Redis key.
const maxScopeName = 256

// Scope is one thing limits apply to (a router key, a model, a deployment), compiled once when
// the config loads and shared by every request. Two scopes with the same name share counters.
type Scope struct {
	name   string
	rule   Rule
	reqT   float64 // GCRA emission interval per request, in microseconds
	tokT   float64 // GCRA emission interval per token, in microseconds
	budget int64   // Budget.Cost in nano-dollars
}

// NewScope compiles a scope. The name is logged, returned in Denied and used as a store key, so
// it must never be a secret: use the key's configured name ("key:team-search"), never the key.
func NewScope(name string, r Rule) (*Scope, error) {
	switch {
	case name == "" || len(name) > maxScopeName:
		return nil, fmt.Errorf("limit scope name must have 1 to %d bytes", maxScopeName)
	case r.RPM < 0 || r.TPM < 0 || r.Budget.Tokens < 0:
		return nil, fmt.Errorf("limit scope %q: rpm, tpm and budget tokens must not be negative", name)
	case r.Budget.Cost < 0 || math.IsNaN(r.Budget.Cost) || r.Budget.Cost > maxDollars:
		return nil, fmt.Errorf("limit scope %q: budget cost must be between 0 and %g dollars", name, float64(maxDollars))
	case r.Budget.Period > Month:
		return nil, fmt.Errorf("limit scope %q: unknown budget period %d", name, r.Budget.Period)
	case (r.Budget.Tokens > 0 || r.Budget.Cost > 0) && r.Budget.Period == NoPeriod:
		return nil, fmt.Errorf("limit scope %q: a budget needs a period (day or month)", name)
	}
	s := &Scope{name: name, rule: r, budget: nanos(r.Budget.Cost)}
	if r.RPM > 0 {
		s.reqT = window / float64(r.RPM)
	}
	if r.TPM > 0 {
		s.tokT = window / float64(r.TPM)
	}
	return s, nil
}

// Name returns the scope's name.
func (s *Scope) Name() string { return s.name }

// Rule returns what the scope may use.
func (s *Scope) Rule() Rule { return s.rule }

// active reports whether the scope limits or counts anything.
func (s *Scope) active() bool {
	return s.rule.RPM > 0 || s.rule.TPM > 0 || s.rule.Budget.Period != NoPeriod
}

// Usage is a count of tokens: an estimate before the answer, the real usage after.
type Usage struct {
	Input, Output int64
}

// Tokens returns input plus output tokens.
func (u Usage) Tokens() int64 { return u.Input + u.Output }

// Price is what a model costs, in US dollars per million tokens.
type Price struct {
	Input, Output float64
}

// maxDollars bounds prices and budgets so nano-dollar sums stay exact in float64 (Redis Lua
// numbers): 2^53 nano-dollars is about 9 million dollars.
const maxDollars = 1e6

// cost returns what u costs at p, in nano-dollars, rounded up.
func (p Price) cost(u Usage) int64 {
	// One dollar per million tokens is 1000 nano-dollars per token.
	c := math.Ceil(float64(max(u.Input, 0))*p.Input*1e3 + float64(max(u.Output, 0))*p.Output*1e3)
	return int64(min(c, 1<<53))
}

func nanos(dollars float64) int64 { return int64(math.Round(dollars * 1e9)) }

func dollars(nanos int64) float64 { return float64(nanos) / 1e9 }

// Request is what Reserve checks.
type Request struct {
	// Scopes are charged together; inactive scopes (no rule) and nil are skipped. The
	// Reservation keeps the slice: do not change it before Settle.
	Scopes []*Scope
	// Model selects the price in Options.Prices; an unpriced model costs nothing.
	Model string
	// Estimate is what the request can cost: the prompt estimate and its max output tokens.
	Estimate Usage
}

// Reason says which rule denied a request.
type Reason uint8

// The reasons for a denial.
const (
	NoReason Reason = iota
	Requests
	Tokens
	BudgetTokens
	BudgetCost
)

// String returns a short name for logs and metric labels.
func (r Reason) String() string {
	switch r {
	case Requests:
		return "requests"
	case Tokens:
		return "tokens"
	case BudgetTokens:
		return "budget_tokens"
	case BudgetCost:
		return "budget_cost"
	}
	return "none"
}

// Outcome is what Reserve decided.
type Outcome uint8

// The outcomes of Reserve.
const (
	Admitted Outcome = iota
	Rejected
	// FailedOpen: the store was unavailable and the policy admitted the request unchecked.
	FailedOpen
	// FailedClosed: the store was unavailable and the policy refused the request.
	FailedClosed
)

// String returns a short name for logs and metric labels.
func (o Outcome) String() string {
	switch o {
	case Rejected:
		return "rejected"
	case FailedOpen:
		return "fail_open"
	case FailedClosed:
		return "fail_closed"
	}
	return "admitted"
}

// ErrUnavailable matches (errors.Is) every error from a store that could not be reached; with
// fail_closed, Reserve returns it and the gateway answers 503.
var ErrUnavailable = errors.New("limit store unavailable")

// ErrNoPeriod is returned by Usage for a scope with no budget period.
var ErrNoPeriod = errors.New("limit scope counts no budget period")
