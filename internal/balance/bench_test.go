package balance

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/llmrouter/llmrouter/internal/health"
)

// BenchmarkPick measures one routing decision for a group of 4 healthy
// deployments: Pick plus Done (and Report where named), per strategy. The
// baseline is one call of the runtime's random number generator, which the
// weighted pick itself makes once.
//
//	go test -run '^$' -bench . -benchmem ./internal/balance
func BenchmarkPick(b *testing.B) {
	b.Run("baseline-rand", func(b *testing.B) {
		var x uint64
		for b.Loop() {
			x += rand.Uint64()
		}
		_ = x
	})
	for _, s := range []Strategy{Weighted, LeastInFlight, Latency} {
		g := newGroup(b, weighted(1, 2, 3, 4), Options{Strategy: s})
		for i := range 4 {
			observeLatency(&g.Deployment(i).st.ewma, time.Duration(i+1)*time.Millisecond)
		}
		b.Run(s.String(), func(b *testing.B) {
			for b.Loop() {
				var req Request
				a, err := g.Pick(&req)
				if err != nil {
					b.Fatal(err)
				}
				a.Done()
			}
		})
		b.Run(s.String()+"+report", func(b *testing.B) {
			for b.Loop() {
				var req Request
				a, _ := g.Pick(&req)
				a.Report(health.Result{TTFB: time.Millisecond})
				a.Done()
			}
		})
	}
	b.Run("weighted+admit", func(b *testing.B) {
		g := newGroup(b, weighted(1, 2, 3, 4), Options{})
		limited := 0
		for b.Loop() {
			req := Request{Admit: func(d *Deployment) bool { return d.Index != limited }}
			a, _ := g.Pick(&req)
			a.Done()
		}
	})
	b.Run("weighted-one-ejected", func(b *testing.B) {
		g := newGroup(b, weighted(1, 2, 3, 4), Options{})
		failN(g, 3, 3, health.Result{Cause: health.ServerError})
		for b.Loop() {
			var req Request
			a, _ := g.Pick(&req)
			a.Done()
		}
	})
}

// BenchmarkPickParallel is the weighted pick from every core at once.
func BenchmarkPickParallel(b *testing.B) {
	g := newGroup(b, weighted(1, 2, 3, 4), Options{})
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			var req Request
			a, _ := g.Pick(&req)
			a.Report(health.Result{TTFB: time.Millisecond})
			a.Done()
		}
	})
}
