package gateway

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/llmrouter/llmrouter/internal/balance"
	"github.com/llmrouter/llmrouter/internal/config"
	"github.com/llmrouter/llmrouter/internal/upstream"
	"github.com/llmrouter/llmrouter/internal/wire"
)

// Which deployment each attempt of a call goes to, and when the call moves on
// to a fallback model. The rules, in the order they apply:
//
//   - The requested model gets share() attempts: retry.attempts of its first
//     entry, at least one per deployment. Its deployments are picked by the
//     balancer (priority, then the strategy), each at most once per round; a
//     failure moves to the next deployment at once. When a round has tried
//     every usable deployment and attempts are left, a new round starts after
//     the backoff (a one-deployment model retries as before groups existed).
//   - When the model is done (attempts spent, or nothing usable left) after a
//     retryable failure, the call moves to the next model of `fallbacks`; after
//     a context-window overflow, of `context_window_fallbacks`; after a
//     content-policy refusal, of `content_policy_fallbacks`. Any other failure
//     is the client's answer. A fallback model gets one round: each of its
//     deployments at most once, no backoff.
//   - With a fallback waiting, a failing model is not waited for: a new round
//     is only started after a quick failure (not a timeout) and when the wait is
//     the backoff, not a longer Retry-After.
//   - One total deadline (timeouts.total of the requested model's first entry)
//     and one attempt budget cover the whole chain: the requested model's share
//     plus one attempt per model its chains list, at most maxAttemptBudget.
//   - When every deployment of a model is ejected and nothing was tried yet:
//     the next fallback if there is one; else, if the earliest recovery is
//     within balance.DefaultHoldLimit and the first-byte timeout still fits
//     before the deadline, the call waits for it; else a 503 with Retry-After.

// plan is where a call stands: the model being tried, its current round, and
// what is left of the request's attempt budget.
type plan struct {
	grp    *group
	model  string          // the model name being tried: the client's, or a fallback
	req    balance.Request // the deployments tried in the current round
	left   int             // attempts left on this model
	rounds int             // rounds started on this model
	retry  bool            // new rounds are allowed (the requested model)
	failed bool            // an attempt on this model failed
	budget int             // attempts left for the whole request
	chains bool            // budget includes the fallback models
	moved  []string        // the fallback models moved to, in order
	cause  wire.ErrorClass // why the call last moved to a fallback
	holds  int             // waits for a recovery
	last   *outcome        // the last failure, the client's answer if nothing follows
	lastTo *outbound       // where it came from
}

// maxHolds bounds how often one request waits for a recovery.
const maxHolds = 4

// start sets the plan for the requested model.
func (c *call) startPlan(grp *group) {
	n := grp.share()
	c.plan = plan{grp: grp, model: c.model, left: n, budget: n, retry: true}
	c.plan.req.Admit = c.admitter() // limits.go
}

// next returns the deployment of the next attempt, or ok false when the call
// is over: its answer (the last failure, or a 503) has been written, or the
// client is gone.
func (c *call) next(deadline time.Time) (balance.Attempt, *target, bool) {
	p := &c.plan
	for {
		if p.budget <= 0 {
			c.giveUp(nil)
			return balance.Attempt{}, nil, false
		}
		pk, err := p.grp.bal.Pick(&p.req)
		if err == nil {
			p.left--
			p.budget--
			return pk, p.grp.targets[pk.Deployment().Index], true
		}
		var u *balance.Unavailable
		if !errors.As(err, &u) {
			c.giveUp(nil)
			return balance.Attempt{}, nil, false
		}
		if !c.unavailable(deadline, u) {
			return balance.Attempt{}, nil, false
		}
	}
}

// unavailable decides what follows a pick that found no deployment: a new
// round, a fallback, a wait for a recovery, or the end of the call (false).
func (c *call) unavailable(deadline time.Time, u *balance.Unavailable) bool {
	p := &c.plan
	if p.failed {
		// The round is over: every deployment of the model was tried (or the
		// rest are ejected) in this request.
		if u.Tried > 0 && c.newRound(deadline) {
			return true
		}
		if c.r.Context().Err() != nil { // gone during the backoff: nobody to answer
			c.rec.errMsg = "client went away during a backoff wait"
			return false
		}
		if c.fallback(wire.ErrorRetryable) {
			return true
		}
		c.giveUp(nil)
		return false
	}
	if c.fallback(wire.ErrorRetryable) {
		return true
	}
	if wait, ok := balance.Hold(u, time.Now(), deadline, p.grp.first.Timeouts.FirstByte, balance.DefaultHoldLimit); ok && p.holds < maxHolds {
		p.holds++
		held := clock()
		ctx, cancel := c.inFlight.enter()
		ok := p.grp.bal.Wait(ctx, u, wait)
		c.inFlight.leave(cancel)
		c.rec.obs.held(held) // waiting for a recovery is not the router's own time (observe.go)
		if ok {
			return true
		}
		if c.r.Context().Err() != nil {
			c.rec.errMsg = "client went away while every deployment was cooling"
			return false
		}
	}
	c.giveUp(u)
	return false
}

// newRound starts another round on the model after the backoff, when attempts
// are left and the last failure allows it; false when it does not.
func (c *call) newRound(deadline time.Time) bool {
	p := &c.plan
	o := p.last
	if !p.retry || p.left <= 0 || o == nil || !o.retryable {
		return false
	}
	r := p.lastTo.t.model.Retry
	wait, ok := nextWait(deadline, r, p.rounds, *o)
	if !ok {
		return false
	}
	if c.hasFallback(wire.ErrorRetryable) && (timedOut(o.cause) || wait > r.MaxBackoff) {
		return false // the fallback answers sooner than this model would
	}
	ctx, cancel := c.inFlight.enter()
	slept := upstream.Sleep(ctx, wait)
	c.inFlight.leave(cancel)
	if !slept {
		return false
	}
	p.rounds++
	p.req.Tried = 0
	return true
}

// failedAttempt updates the plan after an attempt failed before its commit
// point: it reports whether the call goes on (next picks the attempt).
func (c *call) failedAttempt(o outcome, out *outbound) bool {
	p := &c.plan
	p.failed, p.last, p.lastTo = true, &o, out
	switch {
	case o.class.PromptBound():
		// The same prompt fails on every deployment of the model alike.
		return c.fallback(o.class)
	case !o.retryable:
		return false
	case p.left > 0 && p.budget > 0:
		return true // the next deployment, or a new round (see unavailable)
	}
	return c.fallback(wire.ErrorRetryable)
}

// chainOf is the chain a prompt-bound failure moves along; any other failure
// moves along fallbacks.
var chainOf = map[wire.ErrorClass]func(config.Chains) []config.Fallback{
	wire.ErrorContextWindow: func(ch config.Chains) []config.Fallback { return ch.ContextWindow },
	wire.ErrorContentPolicy: func(ch config.Chains) []config.Fallback { return ch.ContentPolicy },
}

// chain returns the fallback models for a cause: those of the model being
// tried, then those of the model the client asked for.
func (c *call) chain(cause wire.ErrorClass) [2][]config.Fallback {
	r := &c.g.cfg.Routes
	pick := func(ch config.Chains) []config.Fallback {
		if of, ok := chainOf[cause]; ok {
			return of(ch)
		}
		return ch.Fallbacks
	}
	out := [2][]config.Fallback{nil, pick(r.Fallbacks(c.model))}
	if c.plan.model != c.model {
		out[0] = pick(r.Fallbacks(c.plan.model))
	}
	return out
}

// nextFallback returns the first model of the chain for cause not yet tried.
// A call on a stored response has none: the response lives at the upstream
// that stored it, and another model's upstream would answer that it has no
// such response, hiding the failure that matters (stored.go).
func (c *call) nextFallback(cause wire.ErrorClass) (config.Fallback, bool) {
	if c.ep != nil && c.ep.onStored() {
		return config.Fallback{}, false
	}
	for _, list := range c.chain(cause) {
		for _, f := range list {
			if f.Model != c.model && !slices.Contains(c.plan.moved, f.Model) {
				return f, true
			}
		}
	}
	return config.Fallback{}, false
}

// hasFallback reports whether a fallback model is left for cause.
func (c *call) hasFallback(cause wire.ErrorClass) bool {
	_, ok := c.nextFallback(cause)
	return ok
}

// fallback moves the call to the next model of the chain for cause: true when
// there is one and the budget allows another attempt.
func (c *call) fallback(cause wire.ErrorClass) bool {
	p := &c.plan
	if !p.chains {
		// Counted once: one attempt per model the chains list, on top of the
		// requested model's share.
		p.chains = true
		p.budget = min(p.budget+c.chainModels(), maxAttemptBudget-(p.grp.share()-p.budget))
	}
	f, ok := c.nextFallback(cause)
	if !ok || p.budget <= 0 {
		return false
	}
	grp := &c.g.groups[f.Group]
	p.moved = append(p.moved, f.Model)
	p.grp, p.model, p.cause = grp, f.Model, cause
	p.req, p.left, p.rounds, p.retry, p.failed, p.holds = balance.Request{Admit: c.admitter()}, len(grp.targets), 0, false, false, 0
	c.rec.fallback = cause.String()
	return true
}

// chainModels counts the distinct models of the requested model's chains.
func (c *call) chainModels() int {
	ch := c.g.cfg.Routes.Fallbacks(c.model)
	seen := make(map[string]bool)
	for _, list := range [][]config.Fallback{ch.Fallbacks, ch.ContextWindow, ch.ContentPolicy} {
		for _, f := range list {
			seen[f.Model] = true
		}
	}
	return len(seen)
}

// giveUp ends a call that has nothing left to try: with its last failure when
// there was one, else (every deployment ejected, u) a 503 with Retry-After set
// to the earliest recovery.
func (c *call) giveUp(u *balance.Unavailable) {
	p := &c.plan
	if p.last != nil {
		c.fail(p.lastTo, *p.last)
		return
	}
	if c.refusedAll(u) { // limits.go: a 429 with the soonest Retry-After
		c.reject(c.deploymentRefused())
		return
	}
	msg := fmt.Sprintf("model %q has no deployment available", p.model)
	if u != nil && u.Ejected() {
		ra := u.RetryAfter(time.Now())
		c.w.Header().Set("Retry-After", strconv.Itoa(int(ra/time.Second)))
		msg = fmt.Sprintf("every deployment of model %q is cooling down after upstream failures; retry after %v", p.model, ra)
	}
	c.rec.errMsg = msg
	writeError(c.w, c.ep.client, errorf(http.StatusServiceUnavailable, msg))
}
