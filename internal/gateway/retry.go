package gateway

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/llmrouter/llmrouter/internal/balance"
	"github.com/llmrouter/llmrouter/internal/config"
	"github.com/llmrouter/llmrouter/internal/health"
	"github.com/llmrouter/llmrouter/internal/translate"
	"github.com/llmrouter/llmrouter/internal/upstream"
	"github.com/llmrouter/llmrouter/internal/wire"
)

// outcome is how one attempt ended. done: the client has its answer (or is gone);
// otherwise the attempt failed before anything reached the client, and the failure
// is either an upstream HTTP error (status/header/body) or err. cause is what the
// attempt says of the deployment's health; class, what the upstream's error says
// of where else the request could succeed (the fallback chains).
type outcome struct {
	done       bool
	retryable  bool
	retryAfter time.Duration
	status     int
	header     http.Header
	body       []byte
	cut        string // why body is not the whole error body; "" when it is
	err        *apiError
	cause      health.Cause
	class      wire.ErrorClass
}

// attempt is one try of a call against one target: its context (cancelled with
// the cause when the idle timeout strikes), its translator, and once the upstream
// has answered, its response and the idle-timed reader of the body.
type attempt struct {
	c      *call
	out    *outbound
	tr     translate.Translator // nil: same protocol
	ctx    context.Context
	cancel context.CancelCauseFunc
	resp   *http.Response
	idle   *upstream.IdleReader
}

// run makes the attempts. The retry policy, written out (cf. Caddy's reverse proxy):
// a failure before any response byte (connect refused or reset, connect or
// first-byte timeout) is safe to retry when on_network_error is set; an upstream
// status in on_status is retried, never 400/401/403/404/422; a stream that fails
// before its first content event (the commit point) is retried; once a byte has
// reached the client nothing is retried. Every attempt to a target sends identical
// bytes. Which deployment each attempt goes to, and when the call falls back to
// another model, is the plan's (plan.go); one total deadline, the requested
// model's, covers them all.
func (c *call) run() {
	m := c.plan.grp.first
	// The request ends with its cause, cancelling the context of the attempt (or
	// wait) in progress: the total timeout (a timer, not a context), Stop
	// (shutdown_grace expired). See inFlight (shutdown.go).
	c.inFlight.parent = c.r.Context()
	deadline := time.Now().Add(m.Timeouts.Total) // what every attempt and wait shares
	total := time.AfterFunc(m.Timeouts.Total, func() { c.inFlight.end(upstream.ErrTotalTimeout) })
	defer total.Stop()
	defer c.g.flight.leave(c.g.flight.join(&c.inFlight))
	for n := 1; ; n++ {
		pk, t, ok := c.next(deadline)
		if !ok {
			return
		}
		out, aerr := c.bind(t)
		if aerr != nil {
			pk.Report(health.Result{Cause: health.ClientError}) // frees a probe's slot
			pk.Done()
			if c.plan.last == nil {
				c.reject(aerr) // nothing reached an upstream: the request is refused
				return
			}
			// A fallback that cannot take the request (an operation its provider
			// does not serve, a strict translation): the last failure stands.
			c.giveUp(nil)
			return
		}
		c.announce(n, out)
		c.rec.obs.attemptStarts(c, out, n) // the attempt's span, traceparent, retry or fallback (observe.go)
		o := c.attempt(out, pk)
		c.rec.obs.attemptEnded(c.inFlight.ended(), c, o) // its metrics and span end (observe.go)
		if o.done {
			return
		}
		if c.r.Context().Err() != nil {
			c.rec.errMsg = "client went away"
			return
		}
		if !c.failedAttempt(o, out) {
			c.fail(out, o)
			return
		}
	}
}

// announce sets what the response says of attempt n, before it is sent: the
// deployment that answers (or failed last), the model it serves, the fallback
// cause, the attempt count, and the fields its translation dropped.
func (c *call) announce(n int, out *outbound) {
	h := c.w.Header()
	c.rec.attempts = n
	v := []string{strconv.Itoa(n), out.t.model.ID, c.plan.model} // one allocation for the three
	h["X-Llmrouter-Attempts"], h["X-Llmrouter-Deployment"], h["X-Llmrouter-Model"] = v[0:1:1], v[1:2:2], v[2:3:3]
	if c.plan.moved != nil {
		h.Set("X-Llmrouter-Fallback", c.plan.cause.String())
	}
	c.rec.provider, c.rec.stream = string(out.t.model.Provider), c.stream
	c.showDropped(out)
}

// showDropped says which fields out's translation (and relaxation) dropped, in
// X-Llmrouter-Dropped and the log.
func (c *call) showDropped(out *outbound) {
	h := c.w.Header()
	c.rec.dropped = out.dropped
	if len(out.dropped) > 0 {
		h.Set("X-Llmrouter-Dropped", droppedHeader(out.dropped))
	} else {
		h.Del("X-Llmrouter-Dropped")
	}
}

// nextWait decides whether another round happens after n rounds failed and after
// how long. A Retry-After that does not fit in what is left of the total deadline
// sends the failure (a 429 with its Retry-After) back to the client at once.
func nextWait(deadline time.Time, p config.Retry, n int, o outcome) (time.Duration, bool) {
	if !o.retryable {
		return 0, false
	}
	wait := upstream.Backoff(p, n+1, nil)
	if o.retryAfter > 0 && p.RespectRetryAfter {
		wait = o.retryAfter
	}
	if time.Until(deadline) <= wait {
		return 0, false
	}
	return wait, true
}

// attempt sends out once, to the deployment pk picked, and delivers the answer
// if it can. The deployment's health hears of the attempt as soon as its fate is
// known (see call.committed and call.settle), and its in-flight slot is freed
// when the attempt is over. A refusal of what the model cannot do is sent again
// at once, relaxed, within the same attempt (capability.go).
func (c *call) attempt(out *outbound, pk balance.Attempt) (o outcome) {
	c.cur, c.rec.status = current{pick: pk, to: out, sent: time.Now()}, 0
	o.cause = health.ClientError // what a panic leaves: nothing said of the deployment
	defer func() { c.settle(o) }()
	for {
		o, relaxed := c.exchange(out)
		if !relaxed {
			return o
		}
		c.showDropped(out)
		c.rec.obs.resent() // observe.go: the resend's upstream wait
	}
}

// exchange sends out's body and reads the answer; relaxed reports that the
// upstream refused what out's relaxed body no longer asks, to be sent again. Its
// context is cancelled with the cause when the idle timeout strikes, or the
// request ends (the total timeout, Stop).
func (c *call) exchange(out *outbound) (o outcome, relaxed bool) {
	actx, acancel := c.inFlight.enter()
	defer c.inFlight.leave(acancel)
	u, err := out.t.urls.parse(c.ep.op, out.url, out.keepURL)
	if err != nil {
		return outcome{cause: health.ClientError, err: &apiError{Status: http.StatusInternalServerError, Message: "building upstream request failed", Err: err}}, false
	}
	req := newUpstreamRequest(actx, c.r.Method, u, out) // upstreamreq.go
	m := out.t.model
	c.cur.sent = time.Now()
	resp, err := out.t.transport.RoundTrip(req)
	c.rec.obs.responded(resp) // upstream wait until here; its body's reads timed (observe.go)
	if err != nil {
		return outcome{retryable: m.Retry.OnNetworkError, err: transportError(actx, err), cause: c.errCause(actx, err)}, false
	}
	defer resp.Body.Close()
	c.cur.ttfb = time.Since(c.cur.sent)
	c.rec.status = resp.StatusCode
	a := &attempt{c: c, out: out, ctx: actx, cancel: acancel, resp: resp}
	a.idle = upstream.NewIdleReader(resp.Body, m.Timeouts.Idle, acancel)
	defer a.idle.Stop()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		o := a.upstreamError()
		return o, c.relax(out, o) // refused what a model cannot do: at once, relaxed
	}
	c.rec.ttfb = time.Since(c.start)
	a.tr = c.translator(out)
	if c.stream {
		return a.relayStream(), false
	}
	return a.deliver(), false
}

// transportError classifies a failure before any response: 504 for timeouts, 502
// for refused, reset or TLS failures. The message omits the URL.
func transportError(ctx context.Context, err error) *apiError {
	return failure(ctx, err, "upstream timed out: ", "upstream unreachable: ")
}

// readError classifies a failure while reading an answer's body before any of
// it reached the client: 504 for the idle or total timeout, else 502.
func readError(ctx context.Context, err error) *apiError {
	return failure(ctx, err, "upstream timed out before its answer was complete: ",
		"upstream connection failed before its answer was complete: ")
}

// failure describes a failed exchange with the upstream for the client: a 503 when
// Stop ended it, a 504 (timedOut and the cause) for a timeout, else a 502 (failed
// and the cause). The cause is why ctx was cancelled when it was (the idle or
// total timeout), and never shows a URL.
func failure(ctx context.Context, err error, timedOut, failed string) *apiError {
	if e := stoppedError(ctx, err); e != nil {
		return e
	}
	err = causeOf(ctx, err)
	if upstream.IsTimeout(err) {
		return &apiError{Status: http.StatusGatewayTimeout, Message: timedOut + causeMessage(err), Err: err}
	}
	return &apiError{Status: http.StatusBadGateway, Message: failed + causeMessage(err), Err: err}
}

// causeOf returns why ctx was cancelled (idle or total timeout) when it was, for
// an error that only says the request was cancelled; else err.
func causeOf(ctx context.Context, err error) error {
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return cause
	}
	return err
}
