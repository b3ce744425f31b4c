package health

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Policy is when a deployment is ejected and for how long. The zero value of a
// field means its default (see WithDefaults).
type Policy struct {
	// Failures is how many consecutive upstream-caused failures eject a
	// deployment (default 3).
	Failures int
	// Cooldown is how long the first ejection lasts (default 10s). Each repeat
	// ejection doubles it, up to MaxCooldown.
	Cooldown time.Duration
	// MaxCooldown caps the growth and also bounds an upstream's Retry-After
	// (default 5m).
	MaxCooldown time.Duration
	// ProbeTimeout is how long a probe may stay unreported before another
	// request may probe instead (default 2m). It is a safety net: the caller
	// always reports its attempts, so this only matters if one never does.
	ProbeTimeout time.Duration
}

// Defaults of Policy.
const (
	DefaultFailures     = 3
	DefaultCooldown     = 10 * time.Second
	DefaultMaxCooldown  = 5 * time.Minute
	DefaultProbeTimeout = 2 * time.Minute
	maxFailures         = 1000
)

// WithDefaults returns p with every zero field set to its default.
func (p Policy) WithDefaults() Policy {
	if p.Failures == 0 {
		p.Failures = DefaultFailures
	}
	if p.Cooldown == 0 {
		p.Cooldown = DefaultCooldown
	}
	if p.MaxCooldown == 0 {
		p.MaxCooldown = max(DefaultMaxCooldown, p.Cooldown)
	}
	if p.ProbeTimeout == 0 {
		p.ProbeTimeout = DefaultProbeTimeout
	}
	return p
}

// ErrPolicy is wrapped by every error Validate returns.
var ErrPolicy = errors.New("invalid health policy")

// Validate checks a policy after WithDefaults.
func (p Policy) Validate() error {
	switch {
	case p.Failures < 1 || p.Failures > maxFailures:
		return fmt.Errorf("%w: failures %d is not between 1 and %d", ErrPolicy, p.Failures, maxFailures)
	case p.Cooldown <= 0:
		return fmt.Errorf("%w: cooldown %v must be positive", ErrPolicy, p.Cooldown)
	case p.MaxCooldown < p.Cooldown:
		return fmt.Errorf("%w: max_cooldown %v is shorter than cooldown %v", ErrPolicy, p.MaxCooldown, p.Cooldown)
	case p.ProbeTimeout <= 0:
		return fmt.Errorf("%w: probe timeout %v must be positive", ErrPolicy, p.ProbeTimeout)
	}
	return nil
}

// cooldown returns the length of the ejection at level (0 for the first):
// Cooldown doubled level times, capped at MaxCooldown.
func (p Policy) cooldown(level int) time.Duration {
	d := p.Cooldown
	for range level {
		if d >= p.MaxCooldown/2 {
			return p.MaxCooldown
		}
		d *= 2
	}
	return min(d, p.MaxCooldown)
}

// Probe identifies the probe an attempt was picked as; zero means the attempt
// is not a probe. It is the end of the probe's lease, unique per claim, so a
// late report from a probe whose lease ran out (or from an earlier ejection)
// is recognised as stale and ignored.
type Probe int64

// Tracker is the health of one deployment. It is safe for concurrent use: the
// state a pick needs is two atomics (InRotation is one load), reports and probe
// claims take a mutex. The zero value is a healthy deployment.
//
// Lifecycle: in rotation -> (Failures consecutive counted failures) -> cooling
// until the cooldown ends -> one probe claimed -> the probe's success puts it
// back in rotation, its failure ejects it again for a doubled cooldown, a
// neutral outcome frees the probe slot for the next request.
type Tracker struct {
	until atomic.Int64 // end of the cooldown, unix ns; 0 = in rotation
	lease atomic.Int64 // a probe is out until this time, unix ns; 0 = none
	// failures counts consecutive counted failures while in rotation. Written
	// under mu only; atomic so Moot can read it without the lock.
	failures atomic.Int32

	mu        sync.Mutex
	level     int   // ejections since the deployment last held up (growth exponent)
	hint      int64 // latest end of a Retry-After seen in the current failure run
	recovered int64 // when it last came back into rotation, unix ns
	last      int64 // length of the last ejection, ns
}

// InRotation reports whether the deployment is healthy (not ejected). It is a
// single atomic load, for the balancer's fast path.
func (t *Tracker) InRotation() bool { return t.until.Load() == 0 }

// Standing is a deployment's health as seen by a pick.
type Standing uint8

// Standings.
const (
	// Usable: in rotation.
	Usable Standing = iota
	// Cooling: ejected, its cooldown still running.
	Cooling
	// Probeable: the cooldown is over and no probe is out: the next request
	// may claim the probe.
	Probeable
	// Probing: the cooldown is over and one request is probing it.
	Probing
)

var standingNames = [...]string{"usable", "cooling", "probeable", "probing"}

// String returns the standing's name.
func (s Standing) String() string {
	if int(s) < len(standingNames) {
		return standingNames[s]
	}
	return fmt.Sprintf("standing(%d)", uint8(s))
}

// Standing returns the tracker's standing at now and, unless Usable, the end
// of its cooldown. It takes no lock.
func (t *Tracker) Standing(now time.Time) (Standing, time.Time) {
	u := t.until.Load()
	if u == 0 {
		return Usable, time.Time{}
	}
	n := now.UnixNano()
	switch {
	case n < u:
		return Cooling, time.Unix(0, u)
	case n < t.lease.Load():
		return Probing, time.Unix(0, u)
	default:
		return Probeable, time.Unix(0, u)
	}
}

// Claim makes the caller the one probe of a deployment whose cooldown is over.
// It fails if the deployment is in rotation (use it normally), still cooling,
// or another probe is out. A claimed probe must be reported (Report with the
// Probe) or given back (Release).
func (t *Tracker) Claim(p Policy, now time.Time) (Probe, bool) {
	n := now.UnixNano()
	t.mu.Lock()
	defer t.mu.Unlock()
	u := t.until.Load()
	if u == 0 || n < u || n < t.lease.Load() {
		return 0, false
	}
	lease := n + int64(p.ProbeTimeout)
	t.lease.Store(lease)
	return Probe(lease), true
}

// Release gives back a claimed probe that was not used (for example the
// deployment turned out to be over its own rate limit), so another request may
// probe at once. A stale probe is ignored.
func (t *Tracker) Release(probe Probe) Change {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.release(probe)
}

func (t *Tracker) release(probe Probe) Change {
	if probe == 0 || t.until.Load() == 0 || t.lease.Load() != int64(probe) {
		return Change{}
	}
	t.lease.Store(0)
	return Change{Kind: Released}
}

// ChangeKind is what a report did to a deployment's standing.
type ChangeKind uint8

// Change kinds.
const (
	// NoChange: the standing did not change (a failure below the threshold, a
	// success in rotation, a stale or ignored report).
	NoChange ChangeKind = iota
	// Ejected: the deployment left rotation (or, after a failed probe, stays out
	// for a longer cooldown).
	Ejected
	// Recovered: a probe (or active check) succeeded; the deployment is back.
	Recovered
	// Released: a probe ended without a verdict; the next request may probe.
	Released
)

// Change describes what a report did, for observers and waiters.
type Change struct {
	Kind ChangeKind
	// Cause is the failure that ejected the deployment (Ejected only).
	Cause Cause
	// Cooldown is how long the ejection lasts, Until when it ends (Ejected only).
	Cooldown time.Duration
	Until    time.Time
	// Repeat is true when a failed probe or check re-ejected a deployment that
	// was already out (Ejected only).
	Repeat bool
}

// Moot reports whether Report(r, probe) would change nothing: an ordinary
// attempt's success or neutral outcome while the deployment is in rotation
// with no failure pending, which is nearly every report. It takes no lock, so
// a hot path may skip Report (and reading the clock) when it is true.
func (t *Tracker) Moot(r Result, probe Probe) bool {
	return probe == 0 && (r.Cause == Success || r.Cause.Neutral()) &&
		t.until.Load() == 0 && t.failures.Load() == 0
}

// maxLevel bounds the growth exponent; the cooldown is capped long before.
const maxLevel = 62

// Report records the outcome of one attempt made at now. probe is the value
// the attempt's Claim returned, zero for an ordinary attempt.
//
// In rotation: Success resets the consecutive-failure count, a counted failure
// increments it and ejects the deployment at Policy.Failures, a neutral cause
// does neither. While ejected only the current probe's report matters: its
// success readmits the deployment, its failure ejects it again for a doubled
// cooldown, a neutral outcome frees the probe slot. Reports of ordinary
// attempts that were picked before the ejection are ignored then.
func (t *Tracker) Report(p Policy, now time.Time, r Result, probe Probe) Change {
	n := now.UnixNano()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.until.Load() != 0 {
		if probe == 0 || int64(probe) != t.lease.Load() {
			return Change{}
		}
		if r.Cause.Neutral() {
			return t.release(probe)
		}
		return t.settle(p, n, r)
	}
	return t.count(p, n, r)
}

// Check records the outcome of an active health check made at now. In rotation
// it counts like an attempt. While ejected it is ignored until the cooldown is
// over (a Retry-After or a growing cooldown is honoured in full); after that
// it acts as a probe that costs no client request, whether or not a client
// probe is also out.
func (t *Tracker) Check(p Policy, now time.Time, r Result) Change {
	n := now.UnixNano()
	t.mu.Lock()
	defer t.mu.Unlock()
	u := t.until.Load()
	switch {
	case u == 0:
		return t.count(p, n, r)
	case n < u || r.Cause.Neutral():
		return Change{}
	default:
		return t.settle(p, n, r)
	}
}

// settle applies a probe's verdict to an ejected deployment.
func (t *Tracker) settle(p Policy, n int64, r Result) Change {
	if r.Cause == Success {
		t.until.Store(0)
		t.lease.Store(0)
		t.failures.Store(0)
		t.hint, t.recovered = 0, n
		return Change{Kind: Recovered}
	}
	return t.eject(p, n, r, true)
}

// count applies an outcome to a deployment in rotation.
func (t *Tracker) count(p Policy, n int64, r Result) Change {
	switch {
	case r.Cause == Success:
		t.failures.Store(0)
		t.hint = 0
	case r.Cause.Counts():
		f := t.failures.Add(1)
		t.noteHint(p, n, r)
		if int(f) >= p.Failures {
			// A deployment that held up at least as long as it was last out
			// starts over at the base cooldown; one that fails again sooner is a
			// repeat offender and its cooldown keeps growing.
			if n-t.recovered >= t.last {
				t.level = 0
			}
			return t.eject(p, n, r, false)
		}
	}
	return Change{}
}

func (t *Tracker) noteHint(p Policy, n int64, r Result) {
	if r.RetryAfter > 0 {
		t.hint = max(t.hint, n+int64(min(r.RetryAfter, p.MaxCooldown)))
	}
}

// eject takes the deployment out of rotation at the current level's cooldown,
// or until the latest Retry-After of the failure run if that is later.
func (t *Tracker) eject(p Policy, n int64, r Result, repeat bool) Change {
	t.noteHint(p, n, r)
	end := max(n+int64(p.cooldown(t.level)), t.hint)
	t.level = min(t.level+1, maxLevel)
	t.last = end - n
	t.failures.Store(0)
	t.hint = 0
	t.lease.Store(0)
	t.until.Store(end)
	return Change{Kind: Ejected, Cause: r.Cause, Cooldown: time.Duration(end - n),
		Until: time.Unix(0, end), Repeat: repeat}
}
