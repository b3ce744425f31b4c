package limit

import (
	"context"
	"sync"
	"testing"

	"github.com/llmrouter/llmrouter/internal/limit/redistest"
)

// benchScopes are a request's usual three scopes, with limits the benchmark never reaches.
func benchScopes(b *testing.B) []*Scope {
	huge := Rule{RPM: 1e12, TPM: 1e12}
	key := huge
	key.Budget = Budget{Tokens: 1e15, Cost: 1e5, Period: Month}
	return []*Scope{
		mustScope(b, "key:bench", key),
		mustScope(b, "model:bench", huge),
		mustScope(b, "deployment:bench", huge),
	}
}

// BenchmarkMemory measures the in-process check against the least any shared in-process counter
// costs: a mutex and one map lookup per scope ("direct").
//
//	go test -run '^$' -bench . -benchmem ./internal/limit/
func BenchmarkMemory(b *testing.B) {
	scopes := benchScopes(b)
	req := Request{Scopes: scopes, Model: "m", Estimate: est(500, 1000)}
	prices := map[string]Price{"m": {Input: 1, Output: 2}}
	ctx := context.Background()
	b.Run("direct", func(b *testing.B) {
		var mu sync.Mutex
		m := map[string]*cell{}
		for _, s := range scopes {
			m[s.name] = &cell{}
		}
		b.ReportAllocs()
		for b.Loop() {
			mu.Lock()
			for _, s := range scopes {
				m[s.name].used.tokens++
			}
			mu.Unlock()
		}
	})
	eng := benchEngine(b, Options{Prices: prices})
	b.Run("reserve", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := eng.Reserve(ctx, req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("reserve+settle", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r, err := eng.Reserve(ctx, req)
			if err != nil {
				b.Fatal(err)
			}
			if err := r.Settle(ctx, est(500, 200)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkRedis measures a check against a local redis-server next to the cheapest round trip
// on the same connection pool, a PING ("direct"): the ratio is the cost of the script.
//
//	go test -run '^$' -bench Redis -benchmem ./internal/limit/
func BenchmarkRedis(b *testing.B) {
	srv := redistest.Start(b)
	scopes := benchScopes(b)
	req := Request{Scopes: scopes, Model: "m", Estimate: est(500, 1000)}
	eng := benchEngine(b, Options{Store: srv.URL(), Prices: map[string]Price{"m": {Input: 1, Output: 2}}})
	ctx := context.Background()
	b.Run("direct", func(b *testing.B) {
		for b.Loop() {
			if err := eng.store.ping(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("reserve", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := eng.Reserve(ctx, req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("reserve+settle", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r, err := eng.Reserve(ctx, req)
			if err != nil {
				b.Fatal(err)
			}
			if err := r.Settle(ctx, est(500, 200)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func benchEngine(b *testing.B, o Options) *Engine {
	e, err := Open(o)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = e.Close() })
	return e
}
