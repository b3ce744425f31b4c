package gateway

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"time"

	"github.com/llmrouter/llmrouter/internal/balance"
	"github.com/llmrouter/llmrouter/internal/health"
	"github.com/llmrouter/llmrouter/internal/sse"
	"github.com/llmrouter/llmrouter/internal/translate"
	"github.com/llmrouter/llmrouter/internal/upstream"
	"github.com/llmrouter/llmrouter/internal/wire"
)

// What each attempt tells its deployment's health (package health), and what
// the access log lists of it. Only the upstream's faults count toward ejecting
// a deployment: a 5xx, a 429, a network error, a connect, first-byte or idle
// timeout, an in-band error before the commit point that is the upstream's (an
// overload, a server error). A 4xx other than 429 (including a context-window
// overflow or a content-policy refusal), the client going away and the
// request's total deadline never do.

// current is the attempt in progress: the balancer's pick, when its request was
// sent and its response headers came, and whether its fate was reported.
type current struct {
	pick     balance.Attempt
	to       *outbound
	sent     time.Time
	ttfb     time.Duration // from sending to the response headers
	reported bool
}

// committed reports the attempt's success, once, at its commit point: the first
// content event of a stream, or a whole answer about to be written. The time to
// first byte it reports is the time to the response headers, for streams and
// answers alike.
func (c *call) committed() {
	if c.cur.reported {
		return
	}
	c.cur.reported = true
	c.cur.pick.Report(health.Result{Cause: health.Success, TTFB: c.cur.ttfb})
}

// settle ends the attempt: a failure before the commit point is reported with
// its cause (a neutral one too, so a probe's slot is freed), a stream that broke
// after it once more when the upstream was at fault; the in-flight slot is
// freed and the attempt listed for the access log.
func (c *call) settle(o outcome) {
	switch {
	case !c.cur.reported:
		c.cur.pick.Report(health.Result{Cause: o.cause, RetryAfter: o.retryAfter})
	case o.cause.Counts():
		c.cur.pick.Report(health.Result{Cause: o.cause})
	}
	c.cur.reported = true
	c.cur.pick.Done()
	if c.rec.tries == nil {
		c.rec.tries = c.rec.firstTry[:0]
	}
	c.rec.tries = append(c.rec.tries, tryLog{
		Deployment: c.cur.to.t.model.ID, Model: c.plan.model, Status: c.rec.status, Result: o.cause.String(),
		Probe: c.cur.pick.Probe(), DurationMS: ms(time.Since(c.cur.sent))})
}

// broke reports a failure after the commit point that ends the attempt without
// an outcome (a non-streaming answer cut while relayed).
func (c *call) broke(cause health.Cause) {
	if cause.Counts() {
		c.cur.pick.Report(health.Result{Cause: cause})
	}
}

// errCause classifies a failed exchange (no response, or a body that failed
// while read) for the deployment's health. ctx is the attempt's.
func (c *call) errCause(ctx context.Context, err error) health.Cause {
	cause := context.Cause(ctx)
	switch {
	case c.r.Context().Err() != nil, errors.Is(cause, errStopped):
		return health.ClientGone // the client, or the router, ended it
	case errors.Is(cause, upstream.ErrTotalTimeout):
		return health.ClientDeadline
	case errors.Is(cause, upstream.ErrIdleTimeout), errors.Is(err, upstream.ErrIdleTimeout):
		return health.IdleTimeout
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" && op.Timeout() {
		return health.ConnectTimeout
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return health.FirstByteTimeout // response headers (or the TLS handshake) too slow
	}
	return health.NetworkError
}

// streamCause classifies a stream that failed.
func (c *call) streamCause(ctx context.Context, err error, class wire.ErrorClass) health.Cause {
	var se *translate.StreamError
	switch {
	case c.r.Context().Err() != nil:
		return health.ClientGone
	case errors.As(err, &se):
		return inBandCause(class)
	case errors.Is(err, translate.ErrTruncated):
		return health.NetworkError // the connection ended before the answer did
	case errors.Is(err, sse.ErrTooLarge), errors.As(err, new(*badEventError)):
		return health.BadResponse
	}
	return c.errCause(ctx, err)
}

// inBandCause is the health cause of an in-band error before the commit point:
// the upstream's own trouble counts, a refusal of the request does not.
func inBandCause(class wire.ErrorClass) health.Cause {
	if class == wire.ErrorRetryable {
		return health.InBandError
	}
	return health.ClientError
}

// statusCause is the health cause of an upstream's error status: a context
// window or content policy refusal is the request's, whatever its status.
func statusCause(status int, class wire.ErrorClass) health.Cause {
	if class == wire.ErrorContextWindow || class == wire.ErrorContentPolicy {
		return health.ClientError
	}
	return health.FromStatus(status)
}

// inBandClass classifies an in-band error by the upstream's dialect, from the
// event's (or body's) data: the status its type stands for, unless the data says
// more.
func inBandClass(up answerReader, se *translate.StreamError, data []byte) wire.ErrorClass {
	return up.ErrorClass(statusOfType(se.Type), data)
}

// timedOut reports whether a cause is one of the per-phase timeouts.
func timedOut(c health.Cause) bool {
	return c == health.ConnectTimeout || c == health.FirstByteTimeout || c == health.IdleTimeout
}

// tryLog is one attempt as the access log lists it.
type tryLog struct {
	Deployment string  `json:"deployment"`
	Model      string  `json:"model"`
	Status     int     `json:"status,omitempty"` // the upstream's HTTP status; 0: none came
	Result     string  `json:"result"`           // success, or the health cause of the failure
	Probe      bool    `json:"probe,omitempty"`  // the attempt probed a deployment after its cooldown
	DurationMS float64 `json:"duration_ms"`
}

// routeAttrs are the access log's attributes of routing: the deployment that
// answered, the model it served, the fallback cause, and every attempt.
func routeAttrs(attrs []slog.Attr, rec *record) []slog.Attr {
	if len(rec.tries) == 0 {
		return attrs
	}
	last := rec.tries[len(rec.tries)-1]
	attrs = append(attrs, slog.String("deployment", last.Deployment), slog.String("served_model", last.Model))
	if rec.fallback != "" {
		attrs = append(attrs, slog.String("fallback", rec.fallback))
	}
	return append(attrs, slog.Any("tries", rec.tries))
}
