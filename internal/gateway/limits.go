package gateway

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/llmrouter/llmrouter/internal/balance"
	"github.com/llmrouter/llmrouter/internal/config"
	"github.com/llmrouter/llmrouter/internal/limit"
	"github.com/llmrouter/llmrouter/internal/metrics"
	"github.com/llmrouter/llmrouter/internal/wire"
	"github.com/tidwall/gjson"
)

// Rate limits and budgets, enforced with package limit: one engine per gateway,
// opened from the limits section (in process, or Redis shared by every replica).
// A named key with rpm, tpm or a budget is the scope "key:<name>"; a deployment
// with rpm or tpm is "deployment:<id>". A request
//
//   - reserves its key before any attempt (admit), with an estimate of what it can
//     cost; over a limit it is a 429 in the client's envelope with Retry-After and
//     the rate-limit headers its SDK reads;
//   - reserves each attempt's deployment as the attempt is picked
//     (admitDeployment, the balancer's Admit): a deployment over its own limit is
//     skipped, not failed; when every one is, the request is a 429;
//   - settles every reservation when it ends (settleLimits), streams included: the key
//     and the deployment that answered with the answer's usage, other attempts
//     with none.
//
// With the store unreachable the engine applies limits.on_store_error: fail_open
// admits unchecked, fail_closed is a 503. Nothing here runs for a gateway
// without limits: its engine is nil.

// limits is a gateway's engine and what prices a key's estimate.
type limits struct {
	eng *limit.Engine // nil: nothing is limited
	now func() time.Time
	// dearest is, per model group, the id of its dearest priced deployment: a
	// key's cost budget reserves at that price and is billed at the price of the
	// deployment that served (limit.Reservation.Bill).
	dearest map[*config.Group]string
}

// limitOptions are the options of New about limits.
type limitOptions struct {
	now      func() time.Time
	observer limit.Observer
	previous *Gateway
}

// WithLimitClock gives the limit engine a clock (tests: windows and budget
// periods move when the test says). With Redis the scripts are then given this
// clock instead of reading Redis's.
func WithLimitClock(now func() time.Time) Option {
	return func(o *options) { o.lim.now = now }
}

// WithLimitObserver has obs told every limit decision and every change of the
// limit store's state (the metrics implement it).
func WithLimitObserver(obs limit.Observer) Option {
	return func(o *options) { o.lim.observer = obs }
}

// openLimits compiles the scopes of keys and targets and, if any limits or
// counts something, opens the engine.
func (g *Gateway) openLimits(o limitOptions) error {
	active := false
	for i := range g.keys {
		s, err := keyScope(g.keys[i].cfg)
		if err != nil {
			return err
		}
		if s != nil {
			g.keys[i].scopes, active = []*limit.Scope{s}, true
		}
	}
	for i := range g.targets {
		m := g.targets[i].model
		if m.RPM == 0 && m.TPM == 0 {
			continue
		}
		s, err := limit.NewScope("deployment:"+m.ID, limit.Rule{RPM: m.RPM, TPM: m.TPM})
		if err != nil {
			return fmt.Errorf("model %s: %w", m.ID, err)
		}
		g.targets[i].scopes, active = []*limit.Scope{s}, true
	}
	if !active {
		return nil
	}
	opts := limit.Options{Store: g.cfg.Limits.Store.Reveal(), Prices: prices(g.cfg), Logger: g.log,
		Observer: o.observer, Now: o.now}
	if g.cfg.Limits.OnStoreError == config.FailClosed {
		opts.OnStoreError = limit.FailClosed
	}
	if o.previous != nil {
		opts.Adopt = o.previous.limits.eng
	}
	eng, err := limit.Open(opts)
	if err != nil {
		return err
	}
	g.limits = limits{eng: eng, now: time.Now, dearest: dearest(g.cfg)}
	if o.now != nil {
		g.limits.now = o.now
	}
	return nil
}

// keyScope compiles a named key's limits; nil when it has none (a plain key
// never has any).
func keyScope(k *config.Key) (*limit.Scope, error) {
	if k.Name == "" || k.RPM == 0 && k.TPM == 0 && k.Budget.Period == "" {
		return nil, nil
	}
	r := limit.Rule{RPM: k.RPM, TPM: k.TPM, Budget: limit.Budget{Tokens: k.Budget.Tokens, Cost: k.Budget.Cost}}
	switch k.Budget.Period {
	case config.PeriodDay:
		r.Budget.Period = limit.Day
	case config.PeriodMonth:
		r.Budget.Period = limit.Month
	}
	s, err := limit.NewScope("key:"+k.Name, r)
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", k.Name, err)
	}
	return s, nil
}

// prices converts the deployments' prices, by deployment id.
func prices(cfg *config.Config) map[string]limit.Price {
	out := make(map[string]limit.Price)
	for id, p := range cfg.Prices() {
		out[id] = limit.Price{Input: p.InputPerMTok, Output: p.OutputPerMTok}
	}
	return out
}

// dearest finds each group's dearest priced deployment.
func dearest(cfg *config.Config) map[*config.Group]string {
	out := make(map[*config.Group]string)
	for i := range cfg.Routes.Groups {
		grp := &cfg.Routes.Groups[i]
		best := -1.0
		for _, mi := range grp.Deployments {
			if p := cfg.Models[mi].Price; p != nil && p.InputPerMTok+p.OutputPerMTok > best {
				best, out[grp] = p.InputPerMTok+p.OutputPerMTok, cfg.Models[mi].ID
			}
		}
	}
	return out
}

// close releases the engine's store connections.
func (l *limits) close() {
	if l.eng != nil {
		_ = l.eng.Close()
		l.eng = nil
	}
}

// admission is what one request holds of the limits, from admit to settleLimits.
type admission struct {
	est       limit.Usage
	estimated bool
	key       *limit.Reservation   // the key's; nil: not limited
	held      []*limit.Reservation // each limited attempt's deployment, in order
	inline    [2]*limit.Reservation
	last      int     // index in held of the last admitted attempt's; -1: that one is not limited
	served    *target // the last admitted attempt's target
	refused   *limit.Denied
	failed    error // the store was down with fail_closed when a deployment was asked
}

// admit decides whether the request may go on to its attempts: its key may use
// the model, and the key's limits admit it (reserved here, settled by settleLimits).
func (c *call) admit() *apiError {
	if aerr := c.allowed(); aerr != nil {
		c.g.obs.set.Key(c.rec.key.name()).Denied(metrics.ScopeModel) // counted (causes.go)
		return aerr
	}
	k, eng := c.rec.key, c.g.limits.eng
	if eng == nil || k == nil || k.scopes == nil {
		return nil
	}
	req := limit.Request{Scopes: k.scopes}
	if k.cfg.TPM > 0 || k.cfg.Budget.Period != "" {
		req.Estimate = c.estimate()
	}
	if k.cfg.Budget.Cost > 0 {
		req.Model = c.g.limits.dearest[c.group]
	}
	res, err := eng.Reserve(c.r.Context(), req)
	c.limitDecided(nil, res, err) // counted (causes.go)
	if err != nil {
		return c.limitError(err, func(d *limit.Denied) string { return keyDenial(k.cfg, d) })
	}
	c.lim.key = res
	return nil
}

// admitDeployment reserves one more attempt on t within t's own rpm and tpm, and
// remembers the reservation for settleLimits; false means t is over its limit (skip
// it; the balancer's Admit) or, with fail_closed, that the store is down. Call
// it once per attempt, for the target the attempt is about to use.
func (c *call) admitDeployment(t *target) bool {
	eng := c.g.limits.eng
	if eng == nil {
		return true
	}
	if t.scopes == nil {
		c.lim.served, c.lim.last = t, -1
		return true
	}
	req := limit.Request{Scopes: t.scopes, Model: t.model.ID}
	if t.model.TPM > 0 {
		req.Estimate = c.estimate()
	}
	res, err := eng.Reserve(c.r.Context(), req)
	c.limitDecided(t, res, err) // counted (causes.go)
	var d *limit.Denied
	switch {
	case err == nil:
		if c.lim.held == nil {
			c.lim.held = c.lim.inline[:0]
		}
		c.lim.held = append(c.lim.held, res)
		c.lim.served, c.lim.last = t, len(c.lim.held)-1
		return true
	case errors.As(err, &d):
		if c.lim.refused == nil || d.RetryAfter < c.lim.refused.RetryAfter {
			c.lim.refused = d
		}
	default:
		c.lim.failed = err
	}
	return false
}

// deploymentRefused is the answer when no deployment admitted the request: a
// 429 with the soonest Retry-After among them, or the store's 503.
func (c *call) deploymentRefused() *apiError {
	err := c.lim.failed
	if c.lim.refused != nil {
		err = c.lim.refused
	}
	return c.limitError(err, func(d *limit.Denied) string {
		return fmt.Sprintf("every deployment of model %q is at its own rate limit; retry after %ds", c.model, d.RetryAfterSeconds())
	})
}

// admitter is the balancer's Admit for the call's picks (balance.Request): a
// deployment over its own rpm or tpm is skipped, not failed, and the next best
// is picked. nil when no limits are configured.
func (c *call) admitter() func(*balance.Deployment) bool {
	if c.g.limits.eng == nil {
		return nil
	}
	return func(d *balance.Deployment) bool { return c.admitDeployment(c.plan.grp.targets[d.Index]) }
}

// refusedAll reports whether a pick found nothing only because the deployments
// left are over their own limits (or the store is down with fail_closed).
func (c *call) refusedAll(u *balance.Unavailable) bool {
	return u != nil && u.Refused > 0 && !u.Ejected() && (c.lim.refused != nil || c.lim.failed != nil)
}

// limitError answers a reservation that failed: a denial is a 429 with the
// rate-limit headers of the client's SDK (message from say), the store down with
// fail_closed a 503, and a client gone a 499 (nothing reaches it).
func (c *call) limitError(err error, say func(*limit.Denied) string) *apiError {
	var d *limit.Denied
	switch {
	case errors.As(err, &d):
		d.WriteHeaders(c.w.Header(), rateLimitFormat(c.ep.proto), c.g.limits.now())
		typ := denialType(d.Reason)
		if !c.ep.client.KnowsErrorType(typ) {
			typ = "" // the envelope's own type for a 429 (Anthropic's rate_limit_error)
		}
		return &apiError{Status: http.StatusTooManyRequests, Type: typ, Message: say(d), Err: d}
	case errors.Is(err, limit.ErrUnavailable):
		c.w.Header().Set("Retry-After", "1") // the engine probes the store every second
		return &apiError{Status: http.StatusServiceUnavailable, Err: err,
			Message: "rate limits cannot be checked: the limit store is unavailable (limits.on_store_error: fail_closed); retry shortly"}
	}
	return &apiError{Status: 499, Message: "client went away before the request was admitted", Err: err}
}

// rateLimitFormat is the rate-limit headers a client's SDK reads: Anthropic's
// for Messages clients, OpenAI's for the others (Chat, Completions, Responses).
func rateLimitFormat(p wire.Protocol) limit.Format {
	if p == wire.AnthropicMessages {
		return limit.Anthropic
	}
	return limit.OpenAI
}

// denialType is OpenAI's error type for a denial (its SDK maps every 429 to one
// class; the type says which limit): requests, tokens, insufficient_quota for a
// budget. Anthropic's envelope knows none of them and keeps rate_limit_error.
func denialType(r limit.Reason) string {
	switch r {
	case limit.Requests:
		return "requests"
	case limit.Tokens:
		return "tokens"
	}
	return "insufficient_quota"
}

// keyDenial says which of a key's limits refused, for the key's holder.
func keyDenial(k *config.Key, d *limit.Denied) string {
	wait := d.RetryAfterSeconds()
	switch d.Reason {
	case limit.Requests:
		return fmt.Sprintf("rate limit reached for key %s: %d requests per minute; retry after %ds", k.Name, k.RPM, wait)
	case limit.Tokens:
		return fmt.Sprintf("rate limit reached for key %s: %d tokens per minute; retry after %ds", k.Name, k.TPM, wait)
	case limit.BudgetCost:
		return fmt.Sprintf("budget exhausted for key %s: $%g per %s; it renews in %ds", k.Name, k.Budget.Cost, k.Budget.Period, wait)
	}
	return fmt.Sprintf("budget exhausted for key %s: %d tokens per %s; it renews in %ds", k.Name, k.Budget.Tokens, k.Budget.Period, wait)
}

// outputLimitMembers bound an answer's output tokens in the client APIs
// (docs/protocols.md): Chat's max_completion_tokens (and its older max_tokens),
// Completions' and Messages' max_tokens, Responses' max_output_tokens.
var outputLimitMembers = []string{"max_completion_tokens", "max_tokens", "max_output_tokens"}

// outputLimit returns the request's output limit, or 0 when it sets none. The
// body is searched once for `"max_` (memchr-fast), and a member is looked up
// (at the top level) only when its quoted name is there: looking up a member
// that is not there would walk the whole body, once per name.
func outputLimit(body []byte) int64 {
	var tried [3]bool
	for rest := body; ; {
		i := bytes.Index(rest, []byte(`"max_`))
		if i < 0 {
			return 0
		}
		rest = rest[i+1:]
		for k, name := range outputLimitMembers {
			if tried[k] || len(rest) <= len(name) || string(rest[:len(name)]) != name || rest[len(name)] != '"' {
				continue
			}
			tried[k] = true
			if r := gjson.GetBytes(body, name); r.Type == gjson.Number && r.Int() > 0 {
				return min(r.Int(), maxEstimate)
			}
		}
	}
}

// maxEstimate bounds an estimate's output tokens, which the client sets.
const maxEstimate = 1 << 32

// estimate is what the request can cost, reserved before the answer: its prompt
// at one token per 4 bytes of the body (JSON syntax, tool schemas and base64
// images included: an over-estimate, which Settle corrects, and the price of not
// parsing the body) plus its output limit, else the model's max_tokens default.
// Counting tokens (count_tokens) costs none. Computed once per request.
func (c *call) estimate() limit.Usage {
	if c.lim.estimated {
		return c.lim.est
	}
	c.lim.estimated = true
	if c.ep.op != wire.Generate {
		return c.lim.est
	}
	out := outputLimit(c.body)
	if out == 0 {
		out = int64(c.g.targets[c.group.Deployments[0]].model.MaxTokens)
	}
	c.lim.est = limit.Usage{Input: int64(len(c.body)+3) / 4, Output: out}
	return c.lim.est
}

// settleLimits charges every reservation the request holds with what it used: the key
// and the deployment that answered with the answer's usage (billed at that
// deployment's price), the other attempts' deployments with none. It runs when
// the request ends, however it ends; a store that fails here is the engine's to
// log and count.
func (c *call) settleLimits() {
	l := &c.lim
	if l.key == nil && len(l.held) == 0 {
		return
	}
	used := c.used()
	ctx := c.r.Context() // Settle outlives its cancellation
	if l.key != nil {
		if l.served != nil {
			l.key.Bill(l.served.model.ID)
		}
		_ = l.key.Settle(ctx, used)
	}
	for i, res := range l.held {
		var u limit.Usage
		if i == l.last {
			u = used
		}
		_ = res.Settle(ctx, u)
	}
}

// used is what the request cost: nothing without an answer (no 2xx reached the
// client); the usage the answer reported when it ended normally; for an answer
// cut short (the client went away, the stream failed) or one that reported no
// usage (an OpenAI stream without stream_options.include_usage), the estimate
// stands for whatever is unknown: the upstream was asked for up to that much.
// A call on a stored response uses nothing: it reads what was already charged.
func (c *call) used() limit.Usage {
	if c.ep.op == wire.Stored { // its usage was spent, and charged, when it was made
		return limit.Usage{}
	}
	if status := written(c.w); status < 200 || status > 299 {
		return limit.Usage{}
	}
	got := limit.Usage{Input: c.rec.usage.Input, Output: c.rec.usage.Output}
	if c.rec.errMsg == "" && got != (limit.Usage{}) {
		return got
	}
	est := c.estimate()
	if got.Input == 0 {
		got.Input = est.Input
	}
	if got.Output == 0 {
		got.Output = est.Output
	}
	return got
}

// written returns the status w has sent, found on the middleware's statusWriter
// under any writers wrapped around it; 0 when none was sent or none is found.
func written(w http.ResponseWriter) int {
	for w != nil {
		if sw, ok := w.(*statusWriter); ok {
			return sw.status
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return 0
		}
		w = u.Unwrap()
	}
	return 0
}
