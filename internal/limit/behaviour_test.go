package limit

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/llmrouter/llmrouter/internal/limit/redistest"
)

// behaviours is one table both stores pass: the memory store in a synctest bubble, Redis with a
// clock given to its scripts.
var behaviours = []struct {
	name string
	run  func(t *testing.T, e env)
}{
	{"requests per minute admit the limit at once, then one per interval", func(t *testing.T, e env) {
		eng := e.open(t, Options{})
		key := mustScope(t, "key:a", Rule{RPM: 3})
		for range 3 {
			admit(t, eng, est(0, 0), key)
		}
		d := deny(t, eng, est(0, 0), key)
		if d.Scope != "key:a" || d.Reason != Requests || d.RetryAfter != 20*time.Second {
			t.Fatalf("denied by %s for %s, retry %s; want key:a, requests, 20s", d.Scope, d.Reason, d.RetryAfter)
		}
		e.advance(20 * time.Second)
		admit(t, eng, est(0, 0), key)
		deny(t, eng, est(0, 0), key)
	}},
	{"tokens per minute are settled from real usage", func(t *testing.T, e env) {
		eng := e.open(t, Options{})
		key := mustScope(t, "key:a", Rule{TPM: 1000})
		first := admit(t, eng, est(100, 800), key)
		d := deny(t, eng, est(100, 800), key)
		if d.Reason != Tokens || d.Status.Scopes[0].Tokens.Remaining != 100 {
			t.Fatalf("denied for %s with %d tokens remaining; want tokens, 100", d.Reason, d.Status.Scopes[0].Tokens.Remaining)
		}
		settle(t, first, est(60, 40)) // 100 tokens used of 900 reserved
		second := admit(t, eng, est(100, 800), key)
		if got := second.Status().Scopes[0].Tokens.Remaining; got != 0 {
			t.Fatalf("after 100 used and 900 reserved, %d tokens remain; want 0", got)
		}
	}},
	{"usage over the estimate is owed to the window", func(t *testing.T, e env) {
		eng := e.open(t, Options{})
		key := mustScope(t, "key:a", Rule{TPM: 1000})
		settle(t, admit(t, eng, est(50, 50), key), est(500, 1000))
		d := deny(t, eng, est(0, 0), key)
		if d.Reason != Tokens || d.RetryAfter != 30*time.Second {
			t.Fatalf("denied for %s, retry %s; want tokens, 30s (1500 tokens used of 1000 a minute)", d.Reason, d.RetryAfter)
		}
		e.advance(30 * time.Second)
		admit(t, eng, est(0, 0), key)
	}},
	{"an estimate above the limit waits for an empty window", func(t *testing.T, e env) {
		eng := e.open(t, Options{})
		key := mustScope(t, "key:a", Rule{TPM: 1000})
		admit(t, eng, est(10, 5000), key)
		d := deny(t, eng, est(0, 1), key)
		if d.Reason != Tokens {
			t.Fatalf("denied for %s, want tokens", d.Reason)
		}
	}},
	{"scopes are charged together or not at all", func(t *testing.T, e env) {
		eng := e.open(t, Options{})
		key := mustScope(t, "key:a", Rule{RPM: 10})
		dep1 := mustScope(t, "deployment:one", Rule{RPM: 1})
		dep2 := mustScope(t, "deployment:two", Rule{RPM: 1})
		admit(t, eng, est(0, 0), key, dep1)
		d := deny(t, eng, est(0, 0), key, dep1)
		if d.Scope != "deployment:one" || d.Status.Scopes[0].Requests.Remaining != 9 {
			t.Fatalf("denied by %s with key remaining %d; want deployment:one, 9 (the key not charged)",
				d.Scope, d.Status.Scopes[0].Requests.Remaining)
		}
		r := admit(t, eng, est(0, 0), key, dep2)
		if got := r.Status().Scopes[0].Requests.Remaining; got != 8 {
			t.Fatalf("key remaining %d after two admitted requests, want 8", got)
		}
	}},
	{"a token budget resets at the month boundary", func(t *testing.T, e env) {
		eng := e.open(t, Options{})
		key := mustScope(t, "key:a", Rule{Budget: Budget{Tokens: 1000, Period: Month}})
		settle(t, admit(t, eng, est(300, 300), key), est(300, 300))
		d := deny(t, eng, est(300, 300), key)
		if d.Reason != BudgetTokens || d.RetryAfter != time.Minute {
			t.Fatalf("denied for %s, retry %s; want budget_tokens, 1m0s (to February)", d.Reason, d.RetryAfter)
		}
		jan := usage(t, eng, key, e.now())
		e.advance(time.Minute)
		settle(t, admit(t, eng, est(300, 300), key), est(100, 100))
		feb := usage(t, eng, key, e.now())
		janAgain := usage(t, eng, key, start)
		want := []PeriodUsage{
			{Scope: "key:a", Period: Month, Start: date(2026, 1, 1), End: date(2026, 2, 1), Tokens: 600, Budget: key.Rule().Budget},
			{Scope: "key:a", Period: Month, Start: date(2026, 2, 1), End: date(2026, 3, 1), Tokens: 200, Budget: key.Rule().Budget},
			{Scope: "key:a", Period: Month, Start: date(2026, 1, 1), End: date(2026, 2, 1), Tokens: 600, Budget: key.Rule().Budget},
		}
		if diff := cmp.Diff(want, []PeriodUsage{jan, feb, janAgain}); diff != "" {
			t.Fatalf("usage (-want +got):\n%s", diff)
		}
	}},
	{"a cost budget counts priced usage per day", func(t *testing.T, e env) {
		eng := e.open(t, Options{Prices: map[string]Price{"gpt-test": {Input: 1, Output: 2}}})
		key := mustScope(t, "key:a", Rule{Budget: Budget{Cost: 0.001, Period: Day}})
		first := admit(t, eng, est(300, 200), key) // $0.0007 reserved
		d := deny(t, eng, est(300, 200), key)
		if d.Reason != BudgetCost || d.RetryAfter != time.Minute {
			t.Fatalf("denied for %s, retry %s; want budget_cost, 1m0s", d.Reason, d.RetryAfter)
		}
		settle(t, first, est(100, 100)) // $0.0003 used
		admit(t, eng, est(300, 200), key)
		u := usage(t, eng, key, e.now())
		if u.Cost != 0.001 || u.Tokens != 700 {
			t.Fatalf("usage $%g, %d tokens; want $0.001, 700", u.Cost, u.Tokens)
		}
		e.advance(time.Minute)
		admit(t, eng, est(300, 200), key)
	}},
	{"settling twice counts once", func(t *testing.T, e env) {
		eng := e.open(t, Options{})
		key := mustScope(t, "key:a", Rule{TPM: 1000, Budget: Budget{Period: Day}})
		r := admit(t, eng, est(0, 500), key)
		settle(t, r, est(0, 100))
		settle(t, r, est(0, 900))
		if u := usage(t, eng, key, e.now()); u.Tokens != 100 {
			t.Fatalf("usage %d tokens, want 100", u.Tokens)
		}
	}},
	{"the status reports every scope's windows", func(t *testing.T, e env) {
		eng := e.open(t, Options{})
		key := mustScope(t, "key:a", Rule{RPM: 10, TPM: 6000})
		model := mustScope(t, "model:m", Rule{RPM: 100})
		free := mustScope(t, "model:free", Rule{})
		r := admit(t, eng, est(1000, 500), key, free, model)
		want := Status{denied: -1, Scopes: []State{
			{Scope: "key:a", Requests: Window{10, 9, 6 * time.Second}, Tokens: Window{6000, 4500, 15 * time.Second}},
			{Scope: "model:m", Requests: Window{100, 99, 600 * time.Millisecond}},
		}}
		if diff := cmp.Diff(want, r.Status(), cmp.AllowUnexported(Status{})); diff != "" {
			t.Fatalf("status (-want +got):\n%s", diff)
		}
	}},
	{"engines sharing a store share limits", func(t *testing.T, e env) {
		a, b := e.open(t, Options{}), e.open(t, Options{})
		key := mustScope(t, "key:a", Rule{RPM: 2})
		admit(t, a, est(0, 0), key)
		admit(t, b, est(0, 0), key)
		deny(t, a, est(0, 0), key)
		deny(t, b, est(0, 0), key)
	}},
}

func usage(t *testing.T, e *Engine, s *Scope, at time.Time) PeriodUsage {
	t.Helper()
	u, err := e.Usage(context.Background(), s, at)
	if err != nil {
		t.Fatalf("Usage: %v", err)
	}
	return u
}

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestMemoryBehaviour(t *testing.T) {
	for _, c := range behaviours {
		t.Run(c.name, func(t *testing.T) { runMemory(t, c.run) })
	}
}

func TestRedisBehaviour(t *testing.T) {
	srv := redistest.Start(t)
	for _, c := range behaviours {
		t.Run(c.name, func(t *testing.T) { runRedis(t, srv, c.run) })
	}
}

func TestUsageNeedsABudgetPeriod(t *testing.T) {
	eng := mustOpen(t, Options{})
	_, err := eng.Usage(context.Background(), mustScope(t, "key:a", Rule{RPM: 1}), start)
	if !errors.Is(err, ErrNoPeriod) {
		t.Fatalf("Usage = %v, want ErrNoPeriod", err)
	}
}
