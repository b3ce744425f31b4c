package gateway

import (
	"context"
	"errors"
	"net/http"

	"github.com/llmrouter/llmrouter/internal/balance"
	"github.com/llmrouter/llmrouter/internal/health"
	"github.com/llmrouter/llmrouter/internal/metrics"
	"github.com/llmrouter/llmrouter/internal/sse"
	"github.com/llmrouter/llmrouter/internal/translate"
	"github.com/llmrouter/llmrouter/internal/upstream"
)

// Causes: why an attempt or a request failed, as the metrics' error_type and
// cause labels say it. Every value comes from the fixed list of package metrics;
// nothing a client or an upstream sends becomes a label.

// attemptCause classifies how an attempt ended: CauseNone when it delivered the
// answer, the failure after the first byte when it broke, else why it failed.
// ctx is the request's attempts' context (Stop cancels it).
func attemptCause(ctx context.Context, c *call, o outcome, a *attemptObs, broke metrics.Cause) metrics.Cause {
	switch {
	case o.done && broke != metrics.CauseNone:
		return broke
	case o.done && c.rec.errMsg != "":
		// Ended without breaking, yet with an error: the client went away or a write
		// to it failed. (A client that closes its connection once it has the whole
		// answer does not count: its request's context ends after the answer.)
		return metrics.CauseCanceled
	case o.done:
		return metrics.CauseNone
	case c.r.Context().Err() != nil:
		return metrics.CauseCanceled
	case o.err == nil:
		return statusCause(o.status)
	}
	return errorCause(ctx, a.answered, o.err)
}

// statusCause classifies an upstream's HTTP error status (or, for an in-band
// error, the status it stands for).
func statusCause(status int) metrics.Cause {
	switch {
	case status == http.StatusTooManyRequests:
		return metrics.CauseRateLimited
	case status >= 500 && status <= 599:
		return metrics.CauseServerError
	case status >= 400 && status <= 499:
		return metrics.CauseClientError
	}
	return metrics.CauseBadResponse
}

// errorCause classifies a failed exchange: answered tells whether the upstream
// had sent its response headers.
func errorCause(ctx context.Context, answered bool, e *apiError) metrics.Cause {
	var se *translate.StreamError
	switch {
	case errors.Is(context.Cause(ctx), errStopped):
		return metrics.CauseUnavailable
	case upstream.IsTimeout(e.Err):
		return metrics.CauseTimeout
	case errors.As(e.Err, &se):
		return statusCause(e.Status) // an in-band error: the status it stands for
	case !answered && e.Status == http.StatusInternalServerError:
		return metrics.CauseInternal // the request could not be built
	case !answered:
		return metrics.CauseConnection
	case errors.Is(e.Err, translate.ErrTruncated):
		return metrics.CauseStream
	case e.Err == nil, errors.Is(e.Err, sse.ErrTooLarge), errors.As(e.Err, new(*badEventError)),
		errors.As(e.Err, new(*errNotAnswer)), errors.As(e.Err, new(*translate.ShapeError)):
		return metrics.CauseBadResponse
	}
	return metrics.CauseConnection // the body's read failed (a reset)
}

// brokenCause classifies a failure after the answer's first byte: a timeout, the
// router shutting down, or a broken stream (an in-band error, a truncation, a
// reset, an event that cannot be converted).
func brokenCause(ctx context.Context, err error) metrics.Cause {
	switch cause := causeOf(ctx, err); {
	case errors.Is(cause, errStopped):
		return metrics.CauseUnavailable
	case upstream.IsTimeout(cause):
		return metrics.CauseTimeout
	}
	return metrics.CauseStream
}

// requestCause classifies how a request ended for its client: its last
// attempt's failure when that is what the client got, else what the router
// answered by itself.
func requestCause(status int, ob *observation) metrics.Cause {
	switch {
	case status == 499:
		return metrics.CauseCanceled
	case ob.failed != metrics.CauseNone:
		return ob.failed
	case status < 400:
		return metrics.CauseNone
	}
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden:
		return metrics.CauseUnauthorized
	case http.StatusNotFound:
		return metrics.CauseNotFound
	case http.StatusTooManyRequests:
		return metrics.CauseLimited
	case http.StatusServiceUnavailable:
		return metrics.CauseUnavailable
	}
	if status < 500 {
		return metrics.CauseInvalidRequest
	}
	return metrics.CauseInternal
}

// healthCause maps a deployment health cause (package health's classification of
// an attempt) to the metrics cause.
func healthCause(c health.Cause) metrics.Cause {
	switch c {
	case health.Success:
		return metrics.CauseNone
	case health.ServerError, health.InBandError:
		return metrics.CauseServerError
	case health.RateLimited:
		return metrics.CauseRateLimited
	case health.NetworkError:
		return metrics.CauseConnection
	case health.ConnectTimeout, health.FirstByteTimeout, health.IdleTimeout, health.ClientDeadline:
		return metrics.CauseTimeout
	case health.BadResponse:
		return metrics.CauseBadResponse
	case health.CheckFailed:
		return metrics.CauseHealthCheck
	case health.ClientError:
		return metrics.CauseClientError
	case health.ClientGone:
		return metrics.CauseCanceled
	}
	return metrics.CauseOther
}

// ejections is the balance.Observer of a gateway's deployment groups: each time
// a deployment leaves rotation it is counted, by the cause of its last failure
// (llmrouter_deployment_ejections_total). A failed probe that keeps an ejected
// deployment out (Change.Repeat) is not a new ejection.
type ejections struct{ set *metrics.Set }

// Ejected counts an ejection.
func (e ejections) Ejected(d *balance.Deployment, c health.Change) {
	if !c.Repeat {
		e.set.Deployment(d.ID).Ejected(healthCause(c.Cause))
	}
}

// Recovered is not counted: the ejection's end is the probe's success.
func (ejections) Recovered(*balance.Deployment) {}

// healthObserver is the observer to give balance.Options.Observer when the
// gateway builds its deployment groups.
func (g *Gateway) healthObserver() balance.Observer { return ejections{set: g.obs.set} }
