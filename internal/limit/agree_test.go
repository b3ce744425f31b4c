package limit

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/llmrouter/llmrouter/internal/limit/redistest"
)

// outcome is what one step of random traffic returned, comparable across stores.
type outcome struct {
	Step     int
	Admitted bool
	Denied   Denied
	Status   []State
	Err      string
}

// The memory store and the Redis scripts are one algorithm: the same random traffic, on the
// same clock, gets the same decisions, windows and budgets from both.
func TestStoresAgreeOnRandomTraffic(t *testing.T) {
	srv := redistest.Start(t)
	prices := map[string]Price{"gpt-test": {Input: 2.5, Output: 10}}
	scopes := []*Scope{
		mustScope(t, "key:a", Rule{RPM: 7, TPM: 3000, Budget: Budget{Tokens: 40000, Period: Day}}),
		mustScope(t, "key:b", Rule{RPM: 13, Budget: Budget{Cost: 0.05, Period: Month}}),
		mustScope(t, "model:m", Rule{RPM: 11, TPM: 5000}),
		mustScope(t, "deployment:d", Rule{TPM: 1700}),
	}
	clk := &manualClock{t: start.Add(-3 * time.Minute)}
	mem := mustOpen(t, Options{Now: clk.Now, Prices: prices})
	red := mustOpen(t, Options{Store: srv.URL(), Now: clk.Now, Prices: prices})

	rng := rand.New(rand.NewPCG(13, 17))
	var held [2][]*Reservation
	var got [2][]outcome
	for step := range 600 {
		switch op := rng.IntN(10); {
		case op < 6:
			var pick []*Scope
			for _, s := range scopes {
				if rng.IntN(2) == 0 {
					pick = append(pick, s)
				}
			}
			req := Request{Scopes: pick, Model: "gpt-test", Estimate: est(rng.Int64N(1500), rng.Int64N(2500))}
			for i, eng := range []*Engine{mem, red} {
				r, o := reserveOutcome(eng, req, step)
				got[i] = append(got[i], o)
				if r != nil {
					held[i] = append(held[i], r)
				}
			}
		case op < 9 && len(held[0]) > 0:
			n, used := rng.IntN(len(held[0])), est(rng.Int64N(2000), rng.Int64N(3000))
			for i := range held {
				if err := held[i][n].Settle(context.Background(), used); err != nil {
					t.Fatalf("step %d: Settle: %v", step, err)
				}
				held[i] = append(held[i][:n], held[i][n+1:]...)
			}
		default:
			clk.Advance(time.Duration(rng.Int64N(int64(40 * time.Second))))
		}
	}
	if diff := cmp.Diff(got[0], got[1], cmp.AllowUnexported(Status{})); diff != "" {
		t.Fatalf("memory (-) and Redis (+) disagree:\n%s", diff)
	}
	for _, s := range scopes {
		if b := s.Rule().Budget; b.Period != NoPeriod {
			um, ur := usage(t, mem, s, clk.Now()), usage(t, red, s, clk.Now())
			if um != ur || um.Tokens == 0 {
				t.Errorf("%s usage: memory %+v, Redis %+v; want equal and not zero", s.Name(), um, ur)
			}
		}
	}
	admitted, denied := 0, 0
	for _, o := range got[0] {
		if o.Admitted {
			admitted++
		} else {
			denied++
		}
	}
	if admitted < 50 || denied < 50 {
		t.Fatalf("%d admitted and %d denied: the traffic does not exercise both sides", admitted, denied)
	}
}

func reserveOutcome(eng *Engine, req Request, step int) (*Reservation, outcome) {
	r, err := eng.Reserve(context.Background(), req)
	var d *Denied
	switch {
	case err == nil:
		return r, outcome{Step: step, Admitted: true, Status: r.Status().Scopes}
	case errors.As(err, &d):
		st := d.Status
		d.Status = Status{}
		return nil, outcome{Step: step, Denied: *d, Status: st.Scopes}
	}
	return nil, outcome{Step: step, Err: fmt.Sprint(err)}
}
