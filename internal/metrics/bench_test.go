package metrics

import (
	"testing"
	"time"
)

// oneRequest records what the gateway records for a plain successful request: the
// start, one attempt, and the end with usage, first byte and overhead.
func oneRequest(r *Route, h *Handle) {
	q := r.Start(APIChat, true)
	q.Attempt(Attempt{Deployment: h, Operation: OpChat, Duration: 80 * time.Millisecond})
	q.Done(Outcome{Deployment: h, Status: 200, Duration: 120 * time.Millisecond, FirstByte: 90 * time.Millisecond,
		Overhead: 40 * time.Microsecond, Usage: Usage{Input: 812, Output: 95, CacheRead: 512}})
}

// BenchmarkRequest measures the metrics cost of one request. "off" is the same
// calls on a nil Set (metrics disabled): the baseline to compare "on" against.
//
//	go test -run '^$' -bench BenchmarkRequest -benchmem ./internal/metrics
func BenchmarkRequest(b *testing.B) {
	m := New()
	set := build(b, m, testConfig())
	var off *Set
	cases := []struct {
		name string
		set  *Set
	}{{"off", off}, {"on", set}}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			r, h := c.set.Route("gpt-4o"), c.set.Deployment("gpt-4o-a")
			b.ReportAllocs()
			for b.Loop() {
				oneRequest(r, h)
			}
		})
	}
	b.Run("on-parallel", func(b *testing.B) {
		r, h := set.Route("gpt-4o"), set.Deployment("gpt-4o-a")
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				oneRequest(r, h)
			}
		})
	})
	b.Run("on-retry-fallback", func(b *testing.B) {
		r, a, c := set.Route("gpt-4o"), set.Deployment("gpt-4o-a"), set.Deployment("claude#1")
		fb := set.Route("claude-*")
		b.ReportAllocs()
		for b.Loop() {
			q := r.Start(APIChat, false)
			q.Attempt(Attempt{Deployment: a, Error: CauseServerError, Duration: time.Millisecond})
			q.Retry(a, CauseServerError)
			q.Fallback(fb, CauseServerError)
			q.Attempt(Attempt{Deployment: c, Duration: time.Millisecond})
			q.Done(Outcome{Deployment: c, Status: 200, Duration: time.Second})
		}
	})
	b.Run("lookup", func(b *testing.B) { // per request when the gateway resolves by name
		b.ReportAllocs()
		for b.Loop() {
			_ = set.Route("gpt-4o")
		}
	})
}
