package gateway

import (
	"context"
	"errors"
	"net/http"

	"github.com/llmrouter/llmrouter/internal/balance"
	"github.com/llmrouter/llmrouter/internal/health"
	"github.com/llmrouter/llmrouter/internal/limit"
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
// ended is why the request was ended (inFlight.ended): Stop, the total timeout.
func attemptCause(ended error, c *call, o outcome, a *attemptObs, broke metrics.Cause) metrics.Cause {
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
	case o.class.PromptBound():
		return classCauses[o.class]
	case o.err == nil:
		return httpCause(o.status)
	}
	return errorCause(ended, a.answered, o.err)
}

// httpCause classifies an upstream's HTTP error status (or, for an in-band
// error, the status it stands for) as the deployment's health does
// (health.FromStatus); a 2xx, not an error status, is a bad response.
func httpCause(status int) metrics.Cause {
	if c := health.FromStatus(status); c != health.Success {
		return healthCause(c)
	}
	return metrics.CauseBadResponse
}

// errorCause classifies a failed exchange: answered tells whether the upstream
// had sent its response headers; ended is why the request was ended, if it was.
func errorCause(ended error, answered bool, e *apiError) metrics.Cause {
	var se *translate.StreamError
	switch {
	case errors.Is(ended, errStopped):
		return metrics.CauseUnavailable
	case upstream.IsTimeout(e.Err):
		return metrics.CauseTimeout
	case errors.As(e.Err, &se):
		return httpCause(e.Status) // an in-band error: the status it stands for
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

// ejections is the balance.Observer of a gateway's deployment groups with
// metrics: each time a deployment leaves rotation it is counted, by the cause of
// its last failure (llmrouter_deployment_ejections_total), and next (the log)
// hears of it too. A failed probe that keeps an ejected deployment out
// (Change.Repeat) is not a new ejection.
type ejections struct {
	set  *metrics.Set
	next balance.Observer
}

// Ejected counts an ejection.
func (e ejections) Ejected(d *balance.Deployment, c health.Change) {
	if !c.Repeat {
		e.set.Deployment(d.ID).Ejected(healthCause(c.Cause))
	}
	e.next.Ejected(d, c)
}

// Recovered is not counted: the ejection's end is the probe's success.
func (e ejections) Recovered(d *balance.Deployment) { e.next.Recovered(d) }

// healthObserver is the observer of the gateway's deployment groups: log, and
// the ejection counters when the gateway has metrics.
func (g *Gateway) healthObserver(log balance.Observer) balance.Observer {
	if g.obs.set == nil {
		return log
	}
	return ejections{set: g.obs.set, next: log}
}

// limitDecided counts a limit decision on the request's key, labelled by the
// key's name (never the key; "unnamed" for a plain key): its own limits
// (admit), or, with t set, the limits of the deployment t an attempt was about
// to use (admitDeployment). A denial is counted by the limit that refused; a
// decision the store could not make by the first limit the scope has. A
// deployment's admissions are not counted: the key's admission is the
// request's.
func (c *call) limitDecided(t *target, res *limit.Reservation, err error) {
	k := c.g.obs.set.Key(c.rec.key.name())
	if k == nil {
		return
	}
	var d *limit.Denied
	switch {
	case errors.As(err, &d):
		k.Denied(limitScope(t, d.Reason))
	case errors.Is(err, limit.ErrUnavailable):
		k.StoreError(c.storeScope(t), false)
	case err != nil: // the client went away: no decision
	case res.Unchecked():
		k.StoreError(c.storeScope(t), true)
	case t == nil:
		k.Admitted()
	}
}

// limitScope is the scope label of a denial by reason r, of the key's limits
// (t nil) or of deployment t's.
func limitScope(t *target, r limit.Reason) metrics.Scope {
	switch {
	case r == limit.Requests && t != nil:
		return metrics.ScopeDeploymentRPM
	case r == limit.Tokens && t != nil:
		return metrics.ScopeDeploymentTPM
	case r == limit.Requests:
		return metrics.ScopeRPM
	case r == limit.Tokens:
		return metrics.ScopeTPM
	}
	return metrics.ScopeBudget
}

// storeScope is the scope label of a decision made without the store: the
// first limit the key (t nil) or deployment t has.
func (c *call) storeScope(t *target) metrics.Scope {
	if t != nil {
		if t.model.RPM > 0 {
			return metrics.ScopeDeploymentRPM
		}
		return metrics.ScopeDeploymentTPM
	}
	switch k := c.rec.key.cfg; {
	case k.RPM > 0:
		return metrics.ScopeRPM
	case k.TPM > 0:
		return metrics.ScopeTPM
	}
	return metrics.ScopeBudget
}
