package balance

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/llmrouter/llmrouter/internal/health"
)

// ErrUnavailable is what every *Unavailable matches with errors.Is.
var ErrUnavailable = errors.New("no usable deployment")

// Unavailable is Pick's error when no deployment is left for the attempt. The
// counts say why, so the gateway can answer right:
//   - Cooling+Probing > 0 and Tried == 0: every deployment is ejected. Answer
//     503 with Retry-After: RetryAfter(now) — or Hold and Wait, then pick again.
//   - Refused > 0 and Cooling+Probing == 0 and Tried == 0: every deployment is
//     over its own rate limit: the limits' 429 (or a fallback model).
//   - Tried > 0: the request already failed on a deployment and what is left
//     is unusable: go to the fallback model, else answer with the last
//     failure (or, if the attempt budget allows, Hold for a cooling one).
type Unavailable struct {
	Deployments int // in the group
	Tried       int // already tried in this request
	Cooling     int // ejected, cooldown running
	Probing     int // cooldown over, another request is probing it
	Refused     int // over its own rate limit (Request.Admit said no)
	// Recovery is the earliest end of a running cooldown; zero if none.
	Recovery time.Time
	version  uint64 // of the group when the pick began, for Wait
}

// Error says why, without naming deployments.
func (u *Unavailable) Error() string {
	return fmt.Sprintf("%v: %d deployments, %d tried, %d cooling, %d probing, %d over their own limit",
		ErrUnavailable, u.Deployments, u.Tried, u.Cooling, u.Probing, u.Refused)
}

// Unwrap makes errors.Is(err, ErrUnavailable) true.
func (u *Unavailable) Unwrap() error { return ErrUnavailable }

// Ejected reports whether ejected deployments (cooling or probing) are among
// the reasons: waiting could help.
func (u *Unavailable) Ejected() bool { return u.Cooling+u.Probing > 0 }

// RetryAfter is the Retry-After to send with a 503 when every deployment is
// ejected: the time until the earliest recovery, rounded up to whole seconds
// (what the header carries) and at least 1s; 1s when only probes are out (their
// verdict is usually that close).
func (u *Unavailable) RetryAfter(now time.Time) time.Duration {
	d := time.Second
	if !u.Recovery.IsZero() {
		d = max(u.Recovery.Sub(now), d)
	}
	return (d + time.Second - 1).Truncate(time.Second)
}

func (s *scan) unavailable(n int, tried Tried) *Unavailable {
	return &Unavailable{Deployments: n, Tried: tried.Len(), Cooling: s.cooling, Probing: s.probing,
		Refused: s.refused, Recovery: s.recovery, version: s.version}
}

// DefaultHoldLimit is the longest wait Hold is recommended to allow.
const DefaultHoldLimit = 5 * time.Second

// Hold decides whether a request that found every deployment ejected should
// wait for a recovery and pick again instead of answering 503 at once, and for
// how long at most. It says yes when the earliest recovery is at most limit
// away and, after it, reserve still fits before deadline (zero: no deadline).
// When only probes are out, the wait is limit: Wait returns as soon as a
// probe's verdict is in.
//
// Recommended use: limit = DefaultHoldLimit, reserve = the model's first-byte
// timeout, deadline = the request's total deadline. Short waits (the tail of a
// cooldown, a probe in flight) are absorbed, so a blip does not reach the
// client; long ones answer 503 + Retry-After at once, because only one request
// probes a recovered deployment, so a crowd of held requests would mostly wait
// twice, and clients' SDKs already honour Retry-After.
func Hold(u *Unavailable, now, deadline time.Time, reserve, limit time.Duration) (time.Duration, bool) {
	if !u.Ejected() {
		return 0, false
	}
	wait := limit
	if u.Cooling > 0 {
		wait = max(u.Recovery.Sub(now), 0)
	}
	if wait > limit || (!deadline.IsZero() && now.Add(wait+reserve).After(deadline)) {
		return 0, false
	}
	return wait, true
}

// Wait blocks for at most d, returning early when any deployment of the group
// changed standing since the pick that returned u (a probe's verdict, an
// ejection, a freed probe slot). It returns false if ctx ended first.
func (g *Group) Wait(ctx context.Context, u *Unavailable, d time.Duration) bool {
	g.mu.Lock()
	if g.version.Load() != u.version {
		g.mu.Unlock()
		return ctx.Err() == nil
	}
	if g.changed == nil {
		g.changed = make(chan struct{})
	}
	ch := g.changed
	g.mu.Unlock()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
		return ctx.Err() == nil
	case <-t.C:
		return ctx.Err() == nil
	case <-ctx.Done():
		return false
	}
}

// apply publishes a health change: waiters wake, the observer hears of it.
func (g *Group) apply(d *Deployment, c health.Change) {
	if c.Kind == health.NoChange {
		return
	}
	g.mu.Lock()
	g.version.Add(1)
	if g.changed != nil {
		close(g.changed)
		g.changed = nil
	}
	g.mu.Unlock()
	if g.obs == nil {
		return
	}
	switch c.Kind {
	case health.Ejected:
		g.obs.Ejected(d, c)
	case health.Recovered:
		g.obs.Recovered(d)
	}
}
