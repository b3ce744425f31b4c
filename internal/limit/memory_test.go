package limit

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// Cells that hold nothing are dropped: memory stays bounded by the scopes in use.
func TestMemoryDropsIdleScopes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		time.Sleep(time.Until(start))
		eng := mustOpen(t, Options{})
		mem := eng.store.(*memory)
		for i := range 1000 {
			admit(t, eng, est(1, 1), mustScope(t, fmt.Sprintf("key:%d", i), Rule{RPM: 60, TPM: 600}))
		}
		budget := mustScope(t, "key:budget", Rule{Budget: Budget{Tokens: 100, Period: Day}})
		admit(t, eng, est(1, 1), budget)
		if got := mem.size(); got != 1001 {
			t.Fatalf("%d cells after 1001 scopes, want 1001", got)
		}
		time.Sleep(2 * time.Minute)
		admit(t, eng, est(1, 1), mustScope(t, "key:new", Rule{RPM: 1}))
		if got := mem.size(); got != 2 {
			t.Fatalf("%d cells two minutes later, want 2 (the budget and the new scope)", got)
		}
		if u := usage(t, eng, budget, start); u.Tokens != 2 {
			t.Fatalf("the budget's usage is %d tokens, want 2: a budget is kept until the period after it ends", u.Tokens)
		}
	})
}

// Concurrent requests on the memory store admit exactly the limit.
func TestMemoryAdmitsExactlyTheLimitConcurrently(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		time.Sleep(time.Until(start))
		eng := mustOpen(t, Options{})
		key := mustScope(t, "key:a", Rule{RPM: 50, TPM: 5000})
		var wg sync.WaitGroup
		var mu sync.Mutex
		counts := map[bool]int{}
		for range 200 {
			wg.Go(func() {
				r, err := eng.Reserve(context.Background(), Request{Scopes: []*Scope{key}, Estimate: est(10, 10)})
				var d *Denied
				mu.Lock()
				defer mu.Unlock()
				counts[r != nil]++
				if r == nil && !errors.As(err, &d) {
					t.Errorf("Reserve: %v", err)
				}
			})
		}
		wg.Wait()
		if counts[true] != 50 || counts[false] != 150 {
			t.Fatalf("%d admitted, %d denied; want 50 and 150", counts[true], counts[false])
		}
	})
}

// A scope that limits nothing costs no store call and is left out of the status.
func TestInactiveScopesAreSkipped(t *testing.T) {
	eng := mustOpen(t, Options{Store: "redis://127.0.0.1:1/0", OnStoreError: FailClosed})
	free := mustScope(t, "key:free", Rule{})
	r, err := eng.Reserve(context.Background(), Request{Scopes: []*Scope{free, nil}, Estimate: est(1, 1)})
	if err != nil || r.Unchecked() || len(r.Status().Scopes) != 0 {
		t.Fatalf("Reserve with no active scope = %v, %v; want admitted without the (unreachable) store", r, err)
	}
	if err := r.Settle(context.Background(), est(1, 1)); err != nil {
		t.Fatalf("Settle: %v", err)
	}
}

func TestNewScopeRejectsBadRules(t *testing.T) {
	for _, c := range []struct {
		name string
		rule Rule
		want string
	}{
		{"", Rule{RPM: 1}, "name"},
		{strings.Repeat("k", maxScopeName+1), Rule{RPM: 1}, "name"},
		{"k", Rule{RPM: -1}, "negative"},
		{"k", Rule{TPM: -1}, "negative"},
		{"k", Rule{Budget: Budget{Tokens: 10}}, "period"},
		{"k", Rule{Budget: Budget{Cost: -1, Period: Day}}, "cost"},
		{"k", Rule{Budget: Budget{Cost: 2e6, Period: Day}}, "cost"},
		{"k", Rule{Budget: Budget{Period: 9}}, "period"},
	} {
		if _, err := NewScope(c.name, c.rule); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("NewScope(%.10q, %+v) = %v, want an error about %s", c.name, c.rule, err, c.want)
		}
	}
}

func TestOpenRejectsBadOptions(t *testing.T) {
	for name, o := range map[string]Options{
		"store":  {Store: "postgres://x"},
		"policy": {OnStoreError: 7},
		"price":  {Prices: map[string]Price{"m": {Input: -1}}},
	} {
		if _, err := Open(o); err == nil {
			t.Errorf("Open accepted a bad %s", name)
		}
	}
}

func TestPeriodsMatchTheCalendar(t *testing.T) {
	for _, c := range []struct {
		p          Period
		at         time.Time
		start, end time.Time
	}{
		{Day, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), date(2026, 3, 1), date(2026, 3, 2)},
		{Day, time.Date(2026, 2, 28, 23, 59, 59, 0, time.UTC), date(2026, 2, 28), date(2026, 3, 1)},
		{Month, time.Date(2028, 2, 29, 12, 0, 0, 0, time.UTC), date(2028, 2, 1), date(2028, 3, 1)},
		{Month, time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC), date(2026, 12, 1), date(2027, 1, 1)},
		{Month, time.Date(2027, 1, 1, 0, 0, 0, 0, time.FixedZone("X", 3600)), date(2026, 12, 1), date(2027, 1, 1)},
	} {
		s, e := periodBounds(c.p, periodID(c.p, c.at.Unix()))
		if !s.Equal(c.start) || !e.Equal(c.end) {
			t.Errorf("%s of %s = [%s, %s), want [%s, %s)", c.p, c.at, s, e, c.start, c.end)
		}
	}
}

// An engine opened with Adopt counts in the adopted engine's memory: a config reload keeps the
// windows and budgets it had, matched by scope name, rules as the new config says.
func TestAdoptKeepsTheCounters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		time.Sleep(time.Until(start))
		old := mustOpen(t, Options{})
		key := mustScope(t, "key:a", Rule{RPM: 2, Budget: Budget{Tokens: 1000, Period: Month}})
		settle(t, admit(t, old, est(100, 200), key), est(100, 200))
		admit(t, old, est(1, 1), key)

		reloaded := mustScope(t, "key:a", Rule{RPM: 2, Budget: Budget{Tokens: 1000, Period: Month}})
		adopted := mustOpen(t, Options{Adopt: old})
		if d := deny(t, adopted, est(1, 1), reloaded); d.Reason != Requests {
			t.Fatalf("adopted engine denied for %s, want requests: the window was not kept", d.Reason)
		}
		if u := usage(t, adopted, reloaded, start); u.Tokens != 302 {
			t.Fatalf("adopted engine reads %d budget tokens, want 302", u.Tokens)
		}
		fresh := mustOpen(t, Options{})
		admit(t, fresh, est(1, 1), reloaded)
	})
}

// Bill changes the price Settle charges a cost budget with: a request reserved at one model's
// price and served by another is charged the server's.
func TestBillPricesTheServingModel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		time.Sleep(time.Until(start))
		eng := mustOpen(t, Options{Prices: map[string]Price{"dear": {Input: 10, Output: 30}, "cheap": {Input: 1, Output: 2}}})
		key := mustScope(t, "key:a", Rule{Budget: Budget{Cost: 100, Period: Month}})
		r, err := eng.Reserve(context.Background(), Request{Scopes: []*Scope{key}, Model: "dear", Estimate: est(1000, 1000)})
		if err != nil {
			t.Fatal(err)
		}
		r.Bill("cheap")
		settle(t, r, est(1e6, 1e6))
		if u := usage(t, eng, key, start); u.Cost != 3 {
			t.Fatalf("charged $%g, want $3 (a million tokens in and out at the cheap price)", u.Cost)
		}
	})
}
