package balance

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/llmrouter/llmrouter/internal/health"
)

// weighted returns specs d0..dn with the given weights, all at priority 0.
func weighted(ws ...int) []Spec {
	s := make([]Spec, len(ws))
	for i, w := range ws {
		s[i] = Spec{Key: Key{ID: fmt.Sprintf("d%d", i), Endpoint: fmt.Sprintf("https://up%d.example/v1", i),
			Provider: "openai", UpstreamModel: "gpt-4o"}, Weight: w}
	}
	return s
}

func newGroup(t testing.TB, specs []Spec, o Options) *Group {
	t.Helper()
	g, err := New(specs, o)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func seeded(seed uint64) rand.Source { return rand.NewPCG(seed, seed^0x9e3779b97f4a7c15) }

// pickOne picks for a fresh request and fails the test if nothing is usable.
func pickOne(t testing.TB, g *Group) Attempt {
	t.Helper()
	a, err := g.Pick(&Request{})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// serve picks once, reports r and ends the attempt; it returns the index.
func serve(t testing.TB, g *Group, r health.Result) int {
	t.Helper()
	a := pickOne(t, g)
	a.Report(r)
	a.Done()
	return a.Deployment().Index
}

func TestWeightedShares(t *testing.T) {
	// 100k picks; the tolerance is ±1 percentage point per deployment (the
	// binomial standard deviation is at most 0.16 points: 6 sigma).
	const n = 100_000
	for _, ws := range [][]int{{3, 1}, {5, 3, 1, 1}, {1, 1, 1}} {
		t.Run(fmt.Sprint(ws), func(t *testing.T) {
			g := newGroup(t, weighted(ws...), Options{Rand: seeded(1)})
			counts := make([]int, len(ws))
			for range n {
				counts[serve(t, g, health.Result{})]++
			}
			total := 0
			for _, w := range ws {
				total += w
			}
			for i, w := range ws {
				want, got := float64(w)/float64(total), float64(counts[i])/n
				if math.Abs(got-want) > 0.01 {
					t.Errorf("d%d: share %.4f, want %.4f ± 0.01", i, got, want)
				}
			}
		})
	}
}

func TestPickNeverRepeatsInARequest(t *testing.T) {
	for _, s := range []Strategy{Weighted, LeastInFlight, Latency} {
		t.Run(s.String(), func(t *testing.T) {
			g := newGroup(t, weighted(1, 2, 3, 4), Options{Strategy: s, Rand: seeded(2)})
			var req Request
			seen := map[int]bool{}
			for range 4 {
				a, err := g.Pick(&req)
				if err != nil {
					t.Fatal(err)
				}
				defer a.Done()
				if i := a.Deployment().Index; seen[i] {
					t.Fatalf("d%d picked twice in one request", i)
				}
				seen[a.Deployment().Index] = true
				if !req.Tried.Has(a.Deployment()) {
					t.Fatal("the pick was not marked as tried")
				}
			}
			a, err := g.Pick(&req)
			a.Report(health.Result{Cause: health.ServerError}) // the zero Attempt: no-ops
			a.Done()
			var u *Unavailable
			if !errors.As(err, &u) || !errors.Is(err, ErrUnavailable) {
				t.Fatalf("fifth pick: %v, want *Unavailable", err)
			}
			want := Unavailable{Deployments: 4, Tried: 4}
			if diff := cmp.Diff(want, *u, cmp.AllowUnexported(Unavailable{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if u.Ejected() {
				t.Error("an exhausted group claims ejected deployments")
			}
		})
	}
}

func TestPrioritiesFallThroughOnlyWhenBetterAreUnusable(t *testing.T) {
	specs := weighted(1, 1, 1, 1)
	specs[2].Priority, specs[3].Priority = 1, 2 // d0, d1 first; then d2; then d3
	g := newGroup(t, specs, Options{Rand: seeded(3)})
	for range 200 {
		if i := serve(t, g, health.Result{}); i > 1 {
			t.Fatalf("d%d used while priority 0 was healthy", i)
		}
	}
	var req Request
	order := make([]int, 0, 4)
	for range 4 {
		a, err := g.Pick(&req)
		if err != nil {
			t.Fatal(err)
		}
		a.Done()
		order = append(order, a.Deployment().Index)
	}
	if order[2] != 2 || order[3] != 3 {
		t.Errorf("a request's attempts went %v, want d0/d1 first, then d2, then d3", order)
	}
	// d0 ejected and d1 over its own limit: d2, never d3.
	for range 3 {
		a := Attempt{g: g, d: g.Deployment(0)}
		a.Report(health.Result{Cause: health.ServerError})
	}
	admit := func(d *Deployment) bool { return d.Index != 1 }
	for range 50 {
		a, err := g.Pick(&Request{Admit: admit})
		if err != nil {
			t.Fatal(err)
		}
		a.Done()
		if i := a.Deployment().Index; i != 2 {
			t.Fatalf("picked d%d, want d2", i)
		}
	}
}

func TestAdmitSkipsWithoutFailing(t *testing.T) {
	g := newGroup(t, weighted(1, 1), Options{Rand: seeded(4)})
	var asked []int
	refuseD0 := func(d *Deployment) bool { asked = append(asked, d.Index); return d.Index != 0 }
	for range 100 {
		a, err := g.Pick(&Request{Admit: refuseD0})
		if err != nil {
			t.Fatal(err)
		}
		a.Done()
		if a.Deployment().Index != 1 {
			t.Fatal("a deployment over its own limit was picked")
		}
	}
	if len(asked) < 100 || len(asked) > 200 {
		t.Errorf("Admit asked %d times for 100 picks: it must only be asked about the deployment to return", len(asked))
	}
	if !g.Deployment(0).st.health.InRotation() {
		t.Error("a refusal counted as a failure")
	}
	_, err := g.Pick(&Request{Admit: func(*Deployment) bool { return false }})
	var u *Unavailable
	if !errors.As(err, &u) || u.Refused != 2 || u.Ejected() {
		t.Errorf("every deployment refused: %v", err)
	}
}

func TestLeastInFlightUnderConcurrentRequests(t *testing.T) {
	g := newGroup(t, weighted(1, 1, 2), Options{Strategy: LeastInFlight, Rand: seeded(5)})
	type request struct {
		index   int
		release chan struct{}
		done    chan struct{}
	}
	// start runs one slow request in its own goroutine: it picks, reports its
	// pick, and holds the attempt until released.
	start := func() request {
		picked := make(chan int)
		r := request{release: make(chan struct{}), done: make(chan struct{})}
		go func() {
			defer close(r.done)
			a, err := g.Pick(&Request{})
			if err != nil {
				picked <- -1
				return
			}
			picked <- a.Deployment().Index
			<-r.release
			a.Report(health.Result{TTFB: time.Second})
			a.Done()
		}()
		r.index = <-picked
		return r
	}
	var held []request
	counts := make([]int, 3)
	for range 8 {
		r := start()
		held = append(held, r)
		counts[r.index]++
	}
	if diff := cmp.Diff([]int{2, 2, 4}, counts); diff != "" {
		t.Fatalf("in flight per deployment with weights 1,1,2 (-want +got):\n%s", diff)
	}
	for _, r := range held {
		if r.index == 0 {
			close(r.release)
			<-r.done
		}
	}
	for range 2 {
		r := start()
		held = append(held, r)
		if r.index != 0 {
			t.Errorf("picked d%d, want d0 which finished its requests", r.index)
		}
	}
	for _, r := range held {
		select {
		case <-r.done:
		default:
			close(r.release)
			<-r.done
		}
	}
	for _, s := range g.Snapshot(nil) {
		if s.InFlight != 0 {
			t.Errorf("%s: %d still in flight", s.ID, s.InFlight)
		}
	}
}

func TestLatencyMovesAwayAndComesBack(t *testing.T) {
	g := newGroup(t, weighted(1, 1), Options{Strategy: Latency, Rand: seeded(6)})
	ttfb := []time.Duration{100 * time.Millisecond, 2 * time.Second}
	// run makes picks, each answered in its deployment's current TTFB, and
	// returns d1's share of the last window picks.
	run := func(picks, window int) float64 {
		n := 0
		for k := range picks {
			a := pickOne(t, g)
			i := a.Deployment().Index
			a.Report(health.Result{TTFB: ttfb[i]})
			a.Done()
			if k >= picks-window && i == 1 {
				n++
			}
		}
		return float64(n) / float64(window)
	}
	if s := run(1000, 500); s > 0.08 {
		t.Fatalf("slow d1 still got %.3f of the traffic (exploration alone is 0.05)", s)
	}
	if s := run(500, 500); s == 0 {
		t.Fatal("no exploration: slow d1 was never tried again")
	}
	ttfb[1] = 20 * time.Millisecond // d1 recovered: faster than d0 now
	if s := run(1000, 500); s < 0.9 {
		t.Fatalf("recovered d1 got %.3f of the traffic, want >= 0.9", s)
	}
}

func TestLatencyTriesANewDeploymentOneAtATime(t *testing.T) {
	g := newGroup(t, weighted(1, 1, 1), Options{Strategy: Latency, Explore: -1, Rand: seeded(7)})
	// d0 and d1 have samples; d2 has none.
	for _, i := range []int{0, 1} {
		observeLatency(&g.Deployment(i).st.ewma, time.Duration(i+1)*100*time.Millisecond)
	}
	first := pickOne(t, g)
	if first.Deployment().Index != 2 {
		t.Fatalf("picked d%d, want the untried d2", first.Deployment().Index)
	}
	// While its trial is in flight, traffic goes to the fastest known one.
	for range 20 {
		if i := serve(t, g, health.Result{TTFB: 100 * time.Millisecond}); i != 0 {
			t.Fatalf("picked d%d while d2's trial was in flight, want d0", i)
		}
	}
	first.Report(health.Result{TTFB: 10 * time.Millisecond})
	first.Done()
	if i := serve(t, g, health.Result{TTFB: 10 * time.Millisecond}); i != 2 {
		t.Errorf("picked d%d, want d2, now the fastest", i)
	}
}
