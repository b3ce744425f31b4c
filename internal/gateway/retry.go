package gateway

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/llmrouter/llmrouter/internal/config"
	"github.com/llmrouter/llmrouter/internal/translate"
	"github.com/llmrouter/llmrouter/internal/upstream"
)

// outcome is how one attempt ended. done: the client has its answer (or is gone);
// otherwise the attempt failed before anything reached the client, and the failure
// is either an upstream HTTP error (status/header/body) or err.
type outcome struct {
	done       bool
	retryable  bool
	retryAfter time.Duration
	status     int
	header     http.Header
	body       []byte
	cut        string // why body is not the whole error body; "" when it is
	err        *apiError
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

// pick returns the target of attempt n. A request has one candidate today, the
// first deployment of its model's group; a picker that balances deployments and
// moves to fallbacks replaces this, and every attempt binds to what it returns.
func (c *call) pick(int) *target { return &c.g.targets[c.group.Deployments[0]] }

// run makes the attempts. The retry policy, written out (cf. Caddy's reverse proxy):
// a failure before any response byte (connect refused or reset, connect or
// first-byte timeout) is safe to retry when on_network_error is set; an upstream
// status in on_status is retried, never 400/401/403/404/422; a stream that fails
// before its first content event (the commit point) is retried; once a byte has
// reached the client nothing is retried. Every attempt to a target sends identical
// bytes. The retry policy and the total timeout are the first candidate's.
func (c *call) run() {
	m := c.pick(1).model
	// One context for all the attempts, cancelled with its cause: the total
	// timeout (a timer, not a second context), Stop (shutdown_grace expired).
	ctx, cancel := context.WithCancelCause(c.r.Context())
	defer cancel(nil)
	start := time.Now()
	deadline := start.Add(m.Timeouts.Total)
	total := time.AfterFunc(m.Timeouts.Total, func() { cancel(upstream.ErrTotalTimeout) })
	defer total.Stop()
	defer c.g.flight.leave(c.g.flight.join(cancel))
	for n := 1; ; n++ {
		out, aerr := c.bind(c.pick(n))
		if aerr != nil {
			c.reject(aerr)
			return
		}
		c.rec.attempts = n
		c.w.Header().Set("X-Llmrouter-Attempts", strconv.Itoa(n))
		c.rec.obs.attemptStarts(c, out, n) // the attempt's span, traceparent, retry or fallback (observe.go)
		o := c.attempt(ctx, out, start)
		c.rec.obs.attemptEnded(ctx, c, o) // its metrics and span end (observe.go)
		if o.done {
			return
		}
		if c.r.Context().Err() != nil {
			c.rec.errMsg = "client went away"
			return
		}
		wait, ok := nextWait(deadline, m.Retry, n, o)
		if !ok || !upstream.Sleep(ctx, wait) {
			if c.r.Context().Err() != nil {
				c.rec.errMsg = "client went away during backoff"
				return
			}
			c.fail(out, o)
			return
		}
	}
}

// nextWait decides whether attempt n+1 happens and after how long. A Retry-After
// that does not fit in what is left of the total deadline sends the failure (a 429
// with its Retry-After) back to the client at once.
func nextWait(deadline time.Time, p config.Retry, n int, o outcome) (time.Duration, bool) {
	if !o.retryable || n >= p.Attempts {
		return 0, false
	}
	wait := upstream.Backoff(p, n, nil)
	if o.retryAfter > 0 && p.RespectRetryAfter {
		wait = o.retryAfter
	}
	if time.Until(deadline) <= wait {
		return 0, false
	}
	return wait, true
}

// attempt sends out once and delivers the answer if it can.
func (c *call) attempt(ctx context.Context, out *outbound, start time.Time) outcome {
	actx, acancel := context.WithCancelCause(ctx)
	defer acancel(nil)
	req, err := http.NewRequestWithContext(actx, http.MethodPost, out.url, bytes.NewReader(out.body))
	if err != nil {
		return outcome{err: &apiError{Status: http.StatusInternalServerError, Message: "building upstream request failed", Err: err}}
	}
	req.Header = out.header
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(out.body)), nil }
	m := out.t.model
	resp, err := out.t.transport.RoundTrip(req)
	c.rec.obs.responded(resp) // upstream wait until here; its body's reads timed (observe.go)
	if err != nil {
		return outcome{retryable: m.Retry.OnNetworkError, err: transportError(actx, err)}
	}
	defer resp.Body.Close()
	c.rec.status = resp.StatusCode
	a := &attempt{c: c, out: out, ctx: actx, cancel: acancel, resp: resp}
	a.idle = upstream.NewIdleReader(resp.Body, m.Timeouts.Idle, acancel)
	defer a.idle.Stop()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return a.upstreamError()
	}
	c.rec.ttfb = time.Since(start)
	a.tr = c.translator(out)
	if c.stream {
		return a.relayStream()
	}
	return a.deliver()
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
