package balance

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmrouter/llmrouter/internal/health"
)

func TestNewRejects(t *testing.T) {
	tooMany := weighted(make([]int, MaxDeployments+1)...)
	dup := weighted(1, 1)
	dup[1].ID = "d0"
	noID := weighted(1)
	noID[0].ID = ""
	tests := []struct {
		name  string
		specs []Spec
		o     Options
	}{
		{"no deployments", nil, Options{}},
		{"too many deployments", tooMany, Options{}},
		{"duplicate id", dup, Options{}},
		{"no id", noID, Options{}},
		{"negative weight", weighted(-1), Options{}},
		{"weight too large", weighted(MaxWeight + 1), Options{}},
		{"unknown strategy", weighted(1), Options{Strategy: 9}},
		{"explore above 1", weighted(1), Options{Explore: 1.5}},
		{"bad health policy", weighted(1), Options{Health: health.Policy{Cooldown: time.Minute, MaxCooldown: time.Second}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.specs, tt.o); !errors.Is(err, ErrConfig) {
				t.Errorf("err %v, want ErrConfig", err)
			}
		})
	}
	g := newGroup(t, weighted(0, MaxWeight), Options{})
	if g.Deployment(0).Weight != 1 || g.Len() != 2 || g.Strategy() != Weighted {
		t.Errorf("weight 0 means 1: %+v", g.Deployment(0))
	}
}

func TestParseStrategy(t *testing.T) {
	for name, want := range map[string]Strategy{"": Weighted, "weighted": Weighted,
		"least_in_flight": LeastInFlight, "latency": Latency} {
		if got, err := ParseStrategy(name); err != nil || got != want {
			t.Errorf("ParseStrategy(%q) = %v, %v", name, got, err)
		}
		if want.String() != name && name != "" {
			t.Errorf("%v.String() = %q", want, want.String())
		}
	}
	if _, err := ParseStrategy("round_robin"); !errors.Is(err, ErrConfig) {
		t.Errorf("unknown strategy: %v", err)
	}
}

func TestPriorityOrderKeepsSpecIndex(t *testing.T) {
	specs := weighted(1, 1, 1)
	specs[0].Priority, specs[1].Priority, specs[2].Priority = 2, 0, 1
	g := newGroup(t, specs, Options{})
	var ids []string
	for _, s := range g.Snapshot(nil) {
		ids = append(ids, s.ID)
	}
	if ids[0] != "d1" || ids[1] != "d2" || ids[2] != "d0" {
		t.Errorf("snapshot order %v, want priority order d1 d2 d0", ids)
	}
	if d := g.Deployment(0); d.ID != "d0" || d.Index != 0 {
		t.Errorf("Deployment(0) = %+v", d)
	}
}

// TestConcurrentPicksAndReports runs requests from many goroutines against one
// group while deployments fail, cool down, get probed and recover (millisecond
// cooldowns in real time; the assertions hold whatever the interleaving), with
// snapshots and active-check reports racing them. Run with -race.
func TestConcurrentPicksAndReports(t *testing.T) {
	causes := []health.Cause{health.Success, health.Success, health.ServerError, health.RateLimited,
		health.NetworkError, health.ClientError, health.ClientGone}
	for _, s := range []Strategy{Weighted, LeastInFlight, Latency} {
		t.Run(s.String(), func(t *testing.T) {
			g := newGroup(t, weighted(1, 2, 3, 4), Options{Strategy: s,
				Health: health.Policy{Failures: 2, Cooldown: time.Millisecond, MaxCooldown: 4 * time.Millisecond}})
			var served, unavailable atomic.Int64
			ctx, cancel := context.WithCancel(t.Context())
			var wg, side sync.WaitGroup
			side.Go(func() { watch(ctx, g) })
			for w := range 8 {
				wg.Go(func() {
					rnd := rand.New(rand.NewPCG(uint64(w), 1))
					for range 500 {
						if request(ctx, g, rnd, causes) {
							served.Add(1)
						} else {
							unavailable.Add(1)
						}
					}
				})
			}
			wg.Wait()
			cancel()
			side.Wait()
			if served.Load()+unavailable.Load() != 8*500 || served.Load() == 0 {
				t.Errorf("served %d, unavailable %d", served.Load(), unavailable.Load())
			}
			for _, st := range g.Snapshot(nil) {
				if st.InFlight != 0 {
					t.Errorf("%s: %d in flight after every attempt ended", st.ID, st.InFlight)
				}
			}
		})
	}
}

// request makes up to three attempts with random outcomes, waiting briefly
// when every deployment is ejected; it reports whether one succeeded.
func request(ctx context.Context, g *Group, rnd *rand.Rand, causes []health.Cause) bool {
	var req Request
	for range 3 {
		a, err := g.Pick(&req)
		var u *Unavailable
		if errors.As(err, &u) {
			if wait, ok := Hold(u, time.Now(), time.Time{}, 0, time.Millisecond); ok {
				g.Wait(ctx, u, wait)
				continue
			}
			return false
		}
		c := causes[rnd.IntN(len(causes))]
		a.Report(health.Result{Cause: c, TTFB: time.Duration(1+rnd.IntN(100)) * time.Millisecond})
		a.Done()
		if c == health.Success {
			return true
		}
	}
	return false
}

// watch reads snapshots and feeds active-check results until ctx ends.
func watch(ctx context.Context, g *Group) {
	var buf []Status
	for i := 0; ctx.Err() == nil; i++ {
		buf = g.Snapshot(buf[:0])
		g.ReportCheck(i%g.Len(), health.Result{Cause: health.Success})
	}
}
