package health

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestCauseCounts(t *testing.T) {
	counted := []Cause{ServerError, RateLimited, NetworkError, ConnectTimeout, FirstByteTimeout,
		IdleTimeout, InBandError, BadResponse, CheckFailed}
	neutral := []Cause{ClientError, ClientGone, ClientDeadline, Cause(200)}
	for _, c := range counted {
		if !c.Counts() || c.Neutral() {
			t.Errorf("%v: Counts %v Neutral %v, want counted", c, c.Counts(), c.Neutral())
		}
	}
	for _, c := range neutral {
		if c.Counts() || !c.Neutral() {
			t.Errorf("%v: Counts %v Neutral %v, want neutral", c, c.Counts(), c.Neutral())
		}
	}
	if Success.Counts() || Success.Neutral() {
		t.Error("Success must neither count nor be neutral")
	}
	if got := FirstByteTimeout.String(); got != "first_byte_timeout" {
		t.Errorf("String = %q", got)
	}
	if got := Cause(200).String(); got != "cause(200)" {
		t.Errorf("String of an unknown cause = %q", got)
	}
}

func TestFromStatus(t *testing.T) {
	tests := []struct {
		status int
		want   Cause
	}{
		{200, Success}, {204, Success}, {400, ClientError}, {401, ClientError}, {404, ClientError},
		{413, ClientError}, {429, RateLimited}, {500, ServerError}, {503, ServerError},
		{529, ServerError}, {302, BadResponse}, {101, BadResponse}, {600, BadResponse},
	}
	for _, tt := range tests {
		if got := FromStatus(tt.status); got != tt.want {
			t.Errorf("FromStatus(%d) = %v, want %v", tt.status, got, tt.want)
		}
	}
}

func TestPolicyDefaultsAndValidate(t *testing.T) {
	got := Policy{}.WithDefaults()
	want := Policy{Failures: 3, Cooldown: 10 * time.Second, MaxCooldown: 5 * time.Minute, ProbeTimeout: 2 * time.Minute}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
	if got := (Policy{Cooldown: 10 * time.Minute}).WithDefaults().MaxCooldown; got != 10*time.Minute {
		t.Errorf("a cooldown above the default max raises the max: got %v", got)
	}
	bad := []Policy{
		{Failures: -1}, {Failures: 1001}, {Cooldown: -time.Second},
		{Cooldown: time.Minute, MaxCooldown: time.Second}, {ProbeTimeout: -1},
	}
	for _, p := range bad {
		if err := p.WithDefaults().Validate(); !errors.Is(err, ErrPolicy) {
			t.Errorf("Validate(%+v) = %v, want ErrPolicy", p, err)
		}
	}
	if err := want.Validate(); err != nil {
		t.Errorf("defaults do not validate: %v", err)
	}
}

func TestCooldownGrowsAndCaps(t *testing.T) {
	p := Policy{Cooldown: 10 * time.Second, MaxCooldown: 75 * time.Second}.WithDefaults()
	want := []time.Duration{10, 20, 40, 75, 75}
	for level, w := range want {
		if got := p.cooldown(level); got != w*time.Second {
			t.Errorf("level %d: %v, want %v", level, got, w*time.Second)
		}
	}
	if got := p.cooldown(maxLevel); got != p.MaxCooldown {
		t.Errorf("level %d: %v, want the cap", maxLevel, got)
	}
}

// clock is an explicit time for tracker tests: the tracker takes `now` from
// its caller, so its state machine is tested here without any clock at all.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newClock() *clock { return &clock{time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)} }

func fail(c Cause) Result { return Result{Cause: c} }

func TestTrackerEjectsAfterConsecutiveFailures(t *testing.T) {
	p := Policy{}.WithDefaults()
	c := newClock()
	var tr Tracker
	tr.Report(p, c.now(), fail(ServerError), 0)
	tr.Report(p, c.now(), fail(NetworkError), 0)
	tr.Report(p, c.now(), Result{Cause: Success}, 0) // a success resets the run
	tr.Report(p, c.now(), fail(ServerError), 0)
	if ch := tr.Report(p, c.now(), fail(ServerError), 0); ch.Kind != NoChange || !tr.InRotation() {
		t.Fatalf("two failures after a success ejected it: %+v", ch)
	}
	ch := tr.Report(p, c.now(), fail(FirstByteTimeout), 0)
	want := Change{Kind: Ejected, Cause: FirstByteTimeout, Cooldown: 10 * time.Second, Until: c.now().Add(10 * time.Second)}
	if diff := cmp.Diff(want, ch); diff != "" {
		t.Fatalf("third failure (-want +got):\n%s", diff)
	}
	if st, until := tr.Standing(c.now()); st != Cooling || !until.Equal(want.Until) {
		t.Errorf("standing %v until %v", st, until)
	}
}

func TestTrackerNeutralCausesNeverCountNorReset(t *testing.T) {
	p := Policy{}.WithDefaults()
	c := newClock()
	var tr Tracker
	for range 100 {
		for _, cause := range []Cause{ClientError, ClientGone, ClientDeadline} {
			tr.Report(p, c.now(), fail(cause), 0)
		}
	}
	if !tr.InRotation() {
		t.Fatal("client-side causes ejected a deployment")
	}
	tr.Report(p, c.now(), fail(ServerError), 0)
	tr.Report(p, c.now(), fail(ServerError), 0)
	tr.Report(p, c.now(), fail(ClientError), 0) // does not break the run either
	if ch := tr.Report(p, c.now(), fail(ServerError), 0); ch.Kind != Ejected {
		t.Errorf("a 400 between upstream failures reset the count: %+v", ch)
	}
}

// eject drives a tracker in rotation out with Failures counted failures.
func eject(t *testing.T, tr *Tracker, p Policy, now time.Time, r Result) Change {
	t.Helper()
	var ch Change
	for range p.Failures {
		ch = tr.Report(p, now, r, 0)
	}
	if ch.Kind != Ejected {
		t.Fatalf("not ejected after %d failures: %+v", p.Failures, ch)
	}
	return ch
}

func TestTrackerSingleProbe(t *testing.T) {
	p := Policy{}.WithDefaults()
	c := newClock()
	var tr Tracker
	eject(t, &tr, p, c.now(), fail(ServerError))
	if _, ok := tr.Claim(p, c.now().Add(10*time.Second-1)); ok {
		t.Fatal("probe claimed before the cooldown ended")
	}
	c.advance(10 * time.Second)
	if st, _ := tr.Standing(c.now()); st != Probeable {
		t.Fatalf("standing after cooldown = %v", st)
	}
	probe, ok := tr.Claim(p, c.now())
	if !ok {
		t.Fatal("no probe after the cooldown")
	}
	if _, ok := tr.Claim(p, c.now()); ok {
		t.Fatal("a second probe was handed out")
	}
	if st, _ := tr.Standing(c.now()); st != Probing {
		t.Fatalf("standing with a probe out = %v", st)
	}
	// An ordinary attempt picked before the ejection reports late: ignored.
	if ch := tr.Report(p, c.now(), Result{Cause: Success}, 0); ch.Kind != NoChange || tr.InRotation() {
		t.Fatalf("a non-probe report readmitted it: %+v", ch)
	}
	// The probe ends without a verdict (client gone): the slot is free again.
	if ch := tr.Report(p, c.now(), fail(ClientGone), probe); ch.Kind != Released {
		t.Fatalf("neutral probe outcome: %+v", ch)
	}
	probe, ok = tr.Claim(p, c.now())
	if !ok {
		t.Fatal("no probe after a released one")
	}
	if ch := tr.Report(p, c.now(), Result{Cause: Success}, probe); ch.Kind != Recovered || !tr.InRotation() {
		t.Fatalf("probe success: %+v", ch)
	}
	// Back in rotation, the probe's token is stale.
	if ch := tr.Report(p, c.now(), fail(ServerError), probe); ch.Kind != NoChange {
		t.Errorf("stale probe report: %+v", ch)
	}
}

func TestTrackerProbeLeaseExpires(t *testing.T) {
	p := Policy{ProbeTimeout: time.Minute}.WithDefaults()
	c := newClock()
	var tr Tracker
	eject(t, &tr, p, c.now(), fail(ServerError))
	c.advance(10 * time.Second)
	old, _ := tr.Claim(p, c.now())
	c.advance(time.Minute)
	if _, ok := tr.Claim(p, c.now()); !ok {
		t.Fatal("an unreported probe blocked probing past its timeout")
	}
	if ch := tr.Release(old); ch.Kind != NoChange {
		t.Errorf("an expired probe released its successor's slot: %+v", ch)
	}
	if ch := tr.Report(p, c.now(), Result{Cause: Success}, old); ch.Kind != NoChange || tr.InRotation() {
		t.Errorf("an expired probe's report was taken: %+v", ch)
	}
}

// probeFails claims the probe once the cooldown is over and reports r on it.
func probeFails(t *testing.T, tr *Tracker, p Policy, c *clock, r Result) Change {
	t.Helper()
	_, until := tr.Standing(c.now())
	c.t = until
	probe, ok := tr.Claim(p, c.now())
	if !ok {
		t.Fatal("no probe at the end of the cooldown")
	}
	return tr.Report(p, c.now(), r, probe)
}

func TestTrackerGrowthCapAndRetryAfter(t *testing.T) {
	p := Policy{Cooldown: 10 * time.Second, MaxCooldown: time.Minute}.WithDefaults()
	c := newClock()
	var tr Tracker
	got := []time.Duration{eject(t, &tr, p, c.now(), fail(ServerError)).Cooldown}
	for range 4 {
		ch := probeFails(t, &tr, p, c, fail(ServerError))
		if ch.Kind != Ejected || !ch.Repeat {
			t.Fatalf("failed probe: %+v", ch)
		}
		got = append(got, ch.Cooldown)
	}
	// A Retry-After longer than the cooldown wins; one beyond the cap is capped.
	got = append(got, probeFails(t, &tr, p, c, Result{Cause: RateLimited, RetryAfter: time.Hour}).Cooldown)
	want := []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second, time.Minute, time.Minute, time.Minute}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("cooldowns (-want +got):\n%s", diff)
	}
}

func TestTrackerRetryAfterOfTheRun(t *testing.T) {
	p := Policy{}.WithDefaults()
	c := newClock()
	var tr Tracker
	// The first 429 of the run carries the longest hint; the ejecting one none.
	tr.Report(p, c.now(), Result{Cause: RateLimited, RetryAfter: 40 * time.Second}, 0)
	c.advance(time.Second)
	tr.Report(p, c.now(), fail(RateLimited), 0)
	ch := tr.Report(p, c.now(), fail(RateLimited), 0)
	if ch.Kind != Ejected || ch.Cooldown != 39*time.Second {
		t.Fatalf("ejection: %+v, want 39s (the hint's end)", ch)
	}
	// A hint shorter than the cooldown changes nothing.
	var tr2 Tracker
	ch = eject(t, &tr2, p, c.now(), Result{Cause: RateLimited, RetryAfter: 2 * time.Second})
	if ch.Cooldown != p.Cooldown {
		t.Errorf("short Retry-After: cooldown %v, want %v", ch.Cooldown, p.Cooldown)
	}
}

func TestTrackerGrowthDecays(t *testing.T) {
	p := Policy{}.WithDefaults()
	c := newClock()
	var tr Tracker
	eject(t, &tr, p, c.now(), fail(ServerError))
	probeFails(t, &tr, p, c, fail(ServerError))                         // out 20s
	if ch := probeFails(t, &tr, p, c, Result{}); ch.Kind != Recovered { // back
		t.Fatalf("probe success: %+v", ch)
	}
	// Failing again within one cooldown (20s) of recovering: a repeat offender.
	c.advance(19 * time.Second)
	if ch := eject(t, &tr, p, c.now(), fail(ServerError)); ch.Cooldown != 40*time.Second || ch.Repeat {
		t.Fatalf("quick relapse: %+v, want 40s", ch)
	}
	probeFails(t, &tr, p, c, Result{})
	// Holding up at least as long as it was last out: back to the base cooldown.
	c.advance(40 * time.Second)
	if ch := eject(t, &tr, p, c.now(), fail(ServerError)); ch.Cooldown != p.Cooldown {
		t.Errorf("late relapse: %+v, want %v", ch, p.Cooldown)
	}
}

func TestTrackerActiveCheck(t *testing.T) {
	p := Policy{}.WithDefaults()
	c := newClock()
	var tr Tracker
	for range p.Failures - 1 {
		tr.Check(p, c.now(), fail(CheckFailed))
	}
	if ch := tr.Check(p, c.now(), fail(NetworkError)); ch.Kind != Ejected {
		t.Fatalf("failing checks did not eject: %+v", ch)
	}
	if ch := tr.Check(p, c.now().Add(time.Second), Result{}); ch.Kind != NoChange || tr.InRotation() {
		t.Fatalf("a check cut the cooldown short: %+v", ch)
	}
	c.advance(p.Cooldown)
	clientProbe, _ := tr.Claim(p, c.now())
	if ch := tr.Check(p, c.now(), fail(FirstByteTimeout)); ch.Kind != Ejected || ch.Cooldown != 2*p.Cooldown {
		t.Fatalf("a failed check after the cooldown acts as a failed probe: %+v", ch)
	}
	if ch := tr.Report(p, c.now(), Result{}, clientProbe); ch.Kind != NoChange || tr.InRotation() {
		t.Fatalf("the client probe's late success was taken after the check re-ejected: %+v", ch)
	}
	c.advance(2 * p.Cooldown)
	if ch := tr.Check(p, c.now(), fail(ClientError)); ch.Kind != NoChange {
		t.Fatalf("a neutral check changed something: %+v", ch)
	}
	if ch := tr.Check(p, c.now(), Result{}); ch.Kind != Recovered || !tr.InRotation() {
		t.Fatalf("a passing check after the cooldown did not readmit: %+v", ch)
	}
}

func TestTrackerMoot(t *testing.T) {
	p := Policy{}.WithDefaults()
	c := newClock()
	var tr Tracker
	if !tr.Moot(Result{}, 0) || !tr.Moot(fail(ClientError), 0) {
		t.Error("a success or a client error on a healthy deployment is moot")
	}
	if tr.Moot(fail(ServerError), 0) || tr.Moot(Result{}, 1) {
		t.Error("a failure, or any probe report, is not moot")
	}
	tr.Report(p, c.now(), fail(ServerError), 0)
	if tr.Moot(Result{}, 0) {
		t.Error("a success after a failure resets the count: not moot")
	}
	tr.Report(p, c.now(), Result{}, 0)
	if !tr.Moot(Result{}, 0) {
		t.Error("the success did not reset the count")
	}
}
