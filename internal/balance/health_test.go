package balance

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/llmrouter/llmrouter/internal/health"
)

// reportOn reports r for an ordinary attempt on the deployment built from
// specs[i], as if a request had been sent there.
func reportOn(g *Group, i int, r health.Result) {
	a := g.start(g.Deployment(i), 0)
	a.Report(r)
	a.Done()
}

func failN(g *Group, i, n int, r health.Result) {
	for range n {
		reportOn(g, i, r)
	}
}

// events records observer calls.
type events struct {
	mu  sync.Mutex
	log []string
}

func (e *events) Ejected(d *Deployment, c health.Change) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.log = append(e.log, fmt.Sprintf("ejected %s %v %v repeat=%v", d.ID, c.Cause, c.Cooldown, c.Repeat))
}

func (e *events) Recovered(d *Deployment) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.log = append(e.log, "recovered "+d.ID)
}

func (e *events) take() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	l := e.log
	e.log = nil
	return l
}

// picks returns which deployments n fresh picks land on (attempts end at once).
func picks(t *testing.T, g *Group, n int) map[int]int {
	t.Helper()
	got := map[int]int{}
	for range n {
		a := pickOne(t, g)
		a.Done()
		got[a.Deployment().Index]++
	}
	return got
}

func TestEjectionCooldownProbeAndRecovery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ev := &events{}
		g := newGroup(t, weighted(1, 1), Options{Rand: seeded(10), Observer: ev,
			Health: health.Policy{Failures: 3, Cooldown: 10 * time.Second, MaxCooldown: 30 * time.Second}})
		failN(g, 0, 2, health.Result{Cause: health.ServerError})
		if got := picks(t, g, 100); got[0] == 0 {
			t.Fatal("two failures took d0 out; the threshold is three")
		}
		failN(g, 0, 1, health.Result{Cause: health.IdleTimeout})
		// Takes effect on the very next pick.
		if got := picks(t, g, 100); got[0] != 0 {
			t.Fatalf("ejected d0 still picked %d times", got[0])
		}
		time.Sleep(10*time.Second - time.Nanosecond)
		if got := picks(t, g, 100); got[0] != 0 {
			t.Fatal("d0 picked before its cooldown ended")
		}
		time.Sleep(time.Nanosecond)
		probe := pickOne(t, g)
		if probe.Deployment().Index != 0 || !probe.Probe() {
			t.Fatalf("first pick after the cooldown: d%d probe=%v, want the d0 probe", probe.Deployment().Index, probe.Probe())
		}
		if got := picks(t, g, 100); got[0] != 0 {
			t.Fatal("a second request probed d0")
		}
		// The probe fails: out for twice as long, then the cap.
		probe.Report(health.Result{Cause: health.ServerError})
		probe.Done()
		for _, cooldown := range []time.Duration{20 * time.Second, 30 * time.Second} {
			time.Sleep(cooldown - time.Nanosecond)
			if got := picks(t, g, 100); got[0] != 0 {
				t.Fatalf("d0 picked before its %v cooldown ended", cooldown)
			}
			time.Sleep(time.Nanosecond)
			probe = pickOne(t, g)
			probe.Report(health.Result{Cause: health.FirstByteTimeout})
			probe.Done()
		}
		// Now a Retry-After longer than the capped cooldown (bounded by it).
		time.Sleep(30 * time.Second)
		probe = pickOne(t, g)
		probe.Report(health.Result{Cause: health.RateLimited, RetryAfter: 25 * time.Second})
		probe.Done()
		time.Sleep(30 * time.Second)
		probe = pickOne(t, g)
		if !probe.Probe() {
			t.Fatal("no probe after the capped cooldown")
		}
		probe.Report(health.Result{TTFB: 80 * time.Millisecond})
		probe.Done()
		if got := picks(t, g, 200); got[0] < 60 {
			t.Errorf("recovered d0 got %d of 200 picks", got[0])
		}
		want := []string{
			"ejected d0 idle_timeout 10s repeat=false",
			"ejected d0 server_error 20s repeat=true",
			"ejected d0 first_byte_timeout 30s repeat=true",
			"ejected d0 first_byte_timeout 30s repeat=true",
			"ejected d0 rate_limited 30s repeat=true",
			"recovered d0",
		}
		if diff := cmp.Diff(want, ev.take()); diff != "" {
			t.Errorf("observer (-want +got):\n%s", diff)
		}
	})
}

func TestRetryAfterLongerThanCooldown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGroup(t, weighted(1, 1), Options{Rand: seeded(11)})
		failN(g, 0, 3, health.Result{Cause: health.RateLimited, RetryAfter: 45 * time.Second})
		time.Sleep(45*time.Second - time.Nanosecond)
		if got := picks(t, g, 100); got[0] != 0 {
			t.Fatal("d0 picked before its Retry-After ended")
		}
		time.Sleep(time.Nanosecond)
		if a := pickOne(t, g); !a.Probe() || a.Deployment().Index != 0 {
			t.Error("no probe of d0 when its Retry-After ended")
		}
	})
}

func TestClientCausesNeverEject(t *testing.T) {
	g := newGroup(t, weighted(1), Options{})
	for range 50 {
		for _, c := range []health.Cause{health.ClientError, health.ClientGone, health.ClientDeadline} {
			a := pickOne(t, g)
			a.Report(health.Result{Cause: c})
			a.Done()
		}
	}
	if s := g.Snapshot(nil)[0]; s.Standing != health.Usable {
		t.Errorf("400s, disconnects and client deadlines ejected d0: %+v", s)
	}
}

func TestAllCoolingReportsEarliestRecovery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGroup(t, weighted(1, 1, 1), Options{})
		start := time.Now()
		failN(g, 0, 3, health.Result{Cause: health.ServerError})
		time.Sleep(4 * time.Second)
		failN(g, 1, 3, health.Result{Cause: health.ServerError})
		failN(g, 2, 3, health.Result{Cause: health.RateLimited, RetryAfter: time.Minute})
		time.Sleep(1500 * time.Millisecond) // 5.5s in; d0 back at 10s, d1 at 14s, d2 at 64s
		_, err := g.Pick(&Request{})
		var u *Unavailable
		if !errors.As(err, &u) {
			t.Fatalf("pick with all ejected: %v", err)
		}
		if u.Cooling != 3 || u.Tried != 0 || !u.Recovery.Equal(start.Add(10*time.Second)) {
			t.Errorf("%+v, want 3 cooling, recovery at 10s", u)
		}
		if got := u.RetryAfter(time.Now()); got != 5*time.Second {
			t.Errorf("RetryAfter = %v, want 5s (4.5s rounded up)", got)
		}
		now := time.Now()
		for _, tt := range []struct {
			name     string
			deadline time.Time
			reserve  time.Duration
			limit    time.Duration
			wait     time.Duration
			ok       bool
		}{
			{"fits", now.Add(time.Minute), 30 * time.Second, 5 * time.Second, 4500 * time.Millisecond, true},
			{"beyond the limit", now.Add(time.Minute), 30 * time.Second, 4 * time.Second, 0, false},
			{"no room left for the attempt", now.Add(30 * time.Second), 30 * time.Second, 5 * time.Second, 0, false},
			{"no deadline", time.Time{}, time.Minute, 5 * time.Second, 4500 * time.Millisecond, true},
		} {
			if wait, ok := Hold(u, now, tt.deadline, tt.reserve, tt.limit); wait != tt.wait || ok != tt.ok {
				t.Errorf("Hold %s = %v %v, want %v %v", tt.name, wait, ok, tt.wait, tt.ok)
			}
		}
		// Waiting that long is rewarded with the probe.
		if !g.Wait(t.Context(), u, 4500*time.Millisecond) {
			t.Fatal("Wait gave up")
		}
		if a := pickOne(t, g); a.Deployment().Index != 0 || !a.Probe() {
			t.Errorf("after the wait: d%d probe=%v, want the d0 probe", a.Deployment().Index, a.Probe())
		}
	})
}

func TestWaitWakesOnTheProbesVerdict(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGroup(t, weighted(1), Options{})
		failN(g, 0, 3, health.Result{Cause: health.ServerError})
		time.Sleep(10 * time.Second)
		probe := pickOne(t, g)
		_, err := g.Pick(&Request{})
		var u *Unavailable
		if !errors.As(err, &u) || u.Probing != 1 {
			t.Fatalf("second request while the probe is out: %v", err)
		}
		wait, ok := Hold(u, time.Now(), time.Time{}, 0, DefaultHoldLimit)
		if !ok || wait != DefaultHoldLimit {
			t.Fatalf("Hold with a probe out = %v %v", wait, ok)
		}
		woke := make(chan time.Duration)
		go func() {
			start := time.Now()
			g.Wait(t.Context(), u, wait)
			woke <- time.Since(start)
		}()
		synctest.Wait() // the waiter is parked
		time.Sleep(time.Second)
		probe.Report(health.Result{TTFB: time.Second})
		probe.Done()
		if d := <-woke; d != time.Second {
			t.Errorf("the waiter woke after %v, want 1s (at the verdict, not the timer)", d)
		}
		if a := pickOne(t, g); a.Deployment().Index != 0 || a.Probe() {
			t.Error("d0 not back in rotation after a successful probe")
		}
		// A change between a pick and its Wait is not lost: Wait returns at once.
		failN(g, 0, 3, health.Result{Cause: health.ServerError})
		if _, err = g.Pick(&Request{}); !errors.As(err, &u) {
			t.Fatalf("pick with d0 ejected again: %v", err)
		}
		// A relapse right after recovering is out for 20s, not 10s.
		time.Sleep(20 * time.Second)
		reportOn(g, 0, health.Result{Cause: health.CheckFailed}) // ignored: not the probe
		g.ReportCheck(0, health.Result{})                        // a passing check readmits it
		start := time.Now()
		if !g.Wait(t.Context(), u, time.Hour) || time.Since(start) != 0 {
			t.Errorf("Wait missed a change made after its pick (waited %v)", time.Since(start))
		}
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err = g.Pick(&Request{Admit: func(*Deployment) bool { return false }})
		errors.As(err, &u)
		if g.Wait(ctx, u, time.Hour) {
			t.Error("Wait on a cancelled context reported success")
		}
	})
}

func TestSingleProbeUnderConcurrentPicks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGroup(t, weighted(1, 1), Options{})
		failN(g, 0, 3, health.Result{Cause: health.ServerError})
		time.Sleep(10 * time.Second)
		var probes, onD0 atomic.Int32
		var wg sync.WaitGroup
		for range 50 {
			wg.Go(func() {
				a, err := g.Pick(&Request{})
				if err != nil {
					return
				}
				if a.Probe() {
					probes.Add(1)
				}
				if a.Deployment().Index == 0 {
					onD0.Add(1)
				}
			})
		}
		wg.Wait()
		if probes.Load() != 1 || onD0.Load() != 1 {
			t.Errorf("%d probes and %d picks of d0 among 50 concurrent picks, want exactly 1", probes.Load(), onD0.Load())
		}
	})
}

func TestAdoptCarriesHealthAndLoad(t *testing.T) {
	old := newGroup(t, weighted(1, 1, 1), Options{})
	failN(old, 0, 3, health.Result{Cause: health.ServerError})
	running := old.start(old.Deployment(1), 0) // an attempt that outlives the reload
	specs := weighted(1, 1, 1)
	specs[2].Endpoint = "https://moved.example/v1" // d2 changed: a new deployment
	g := newGroup(t, specs, Options{})
	failN(old, 2, 3, health.Result{Cause: health.ServerError})
	if n := g.Adopt(old); n != 2 {
		t.Fatalf("adopted %d, want 2 (d2's endpoint changed)", n)
	}
	got := g.Snapshot(nil)
	if got[0].Standing != health.Cooling || got[1].InFlight != 1 || got[2].Standing != health.Usable {
		t.Fatalf("after adopt: %+v", got)
	}
	running.Done()
	if n := g.Snapshot(nil)[1].InFlight; n != 0 {
		t.Errorf("the old attempt's Done did not reach the new group: %d in flight", n)
	}
	if g.Adopt(nil) != 0 {
		t.Error("adopting from nil")
	}
}

func TestActiveChecksFeedTheGroup(t *testing.T) {
	var healthy atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !healthy.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	ev := make(chan string, 16)
	obs := chanObserver(ev)
	g := newGroup(t, weighted(1, 1), Options{Observer: obs,
		Health: health.Policy{Failures: 2, Cooldown: time.Nanosecond, MaxCooldown: time.Nanosecond}})
	c, err := health.NewChecker([]health.Target{{Name: "d0", URL: srv.URL + "/health", Transport: srv.Client().Transport,
		Interval: 100 * time.Millisecond, Report: func(r health.Result) { g.ReportCheck(0, r) }}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	if e := <-ev; e != "ejected d0 check_failed" {
		t.Fatalf("first event %q", e)
	}
	healthy.Store(true)
	for e := range ev {
		if e == "recovered d0" {
			break
		}
	}
	if s := g.Snapshot(nil)[0]; s.Standing != health.Usable || s.Latency != 0 {
		t.Errorf("after a passing check: %+v, want usable with no latency figure", s)
	}
}

type chanObserver chan string

func (c chanObserver) Ejected(d *Deployment, ch health.Change) {
	c <- "ejected " + d.ID + " " + ch.Cause.String()
}
func (c chanObserver) Recovered(d *Deployment) { c <- "recovered " + d.ID }
