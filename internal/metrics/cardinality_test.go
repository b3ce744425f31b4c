package metrics

import (
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// randomName is a model name nobody configured: what a client with a typo, a
// scanner or an attacker sends.
func randomName(rnd *rand.Rand) string {
	const chars = "abcdefghijklmnopqrstuvwxyz0123456789-._/:*"
	b := make([]byte, 1+rnd.IntN(40))
	for i := range b {
		b[i] = chars[rnd.IntN(len(chars))]
	}
	return string(b)
}

// record sends one complete request with every kind of record through route r, as
// the gateway would for a name it resolved to r.
func record(set *Set, model, depID, keyName string) {
	r := set.Route(model)
	h := r.Deployment(depID)
	q := r.Start(APIChat, true)
	q.Attempt(Attempt{Deployment: h, Error: CauseServerError, Duration: time.Millisecond})
	q.Retry(h, CauseServerError)
	q.Fallback(set.Route(model+"-fallback"), CauseServerError)
	q.Done(Outcome{Deployment: h, Status: 502, Error: CauseServerError, Duration: time.Millisecond,
		FirstByte: time.Millisecond, Usage: Usage{Input: 3, Output: 1}, Dropped: 1})
	h.Ejected(CauseTimeout)
	set.Key(keyName).Denied(ScopeRPM)
}

// TestRandomModelNamesAddNoSeries is the cardinality guarantee: after one unknown
// name has created the fixed "other" series, 10,000 random model names, deployment
// ids and key names (from 8 goroutines at once) add not one series.
func TestRandomModelNamesAddNoSeries(t *testing.T) {
	m := New()
	set := build(t, m, testConfig())
	record(set, "first-unknown", "no-such-deployment", "no-such-key")
	before := seriesCount(t, m)

	const n, workers = 10_000, 8
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			rnd := rand.New(rand.NewPCG(uint64(w), 42))
			for range n / workers {
				record(set, randomName(rnd), randomName(rnd), randomName(rnd))
			}
		})
	}
	wg.Wait()
	if after := seriesCount(t, m); after != before {
		t.Fatalf("%d random names added %d series (before %d, after %d)", n, after-before, before, after)
	}
	got, err := testutil.GatherAndCount(m.Registry(), "llmrouter_requests_total")
	if err != nil {
		t.Fatal(err)
	}
	if got != 1 {
		t.Errorf("llmrouter_requests_total has %d series, want the one of model=other", got)
	}
	if v := testutil.ToFloat64(m.requests.WithLabelValues(Other, Other, Other, "openai-chat", "5xx", "true")); v != n+1 {
		t.Errorf("the other series counted %v requests, want %d", v, n+1)
	}
}

// TestConfiguredLabelsBoundTheSeries: with every configured model, deployment, API,
// stream flag, status class and cause exercised, the number of request series is
// what the config allows and no more.
func TestConfiguredLabelsBoundTheSeries(t *testing.T) {
	m := New()
	set := build(t, m, testConfig())
	for _, id := range []string{"gpt-4o-a", "gpt-4o-b", "claude#1"} {
		h := set.Deployment(id)
		for api := range numAPI {
			for _, stream := range []bool{false, true} {
				for _, status := range []int{200, 400, 429, 500, 999} {
					q := h.route.Start(api, stream)
					q.Done(Outcome{Deployment: h, Status: status})
				}
			}
		}
	}
	got, err := testutil.GatherAndCount(m.Registry(), "llmrouter_requests_total")
	if err != nil {
		t.Fatal(err)
	}
	if want := 3 * int(numAPI) * 2 * 4; got != want { // 999 and nothing else is "other"
		t.Errorf("llmrouter_requests_total has %d series, want %d", got, want)
	}
}

// TestMetricNamesPassPromlint runs Prometheus' own linter (counter suffixes, base
// units, help text) over every family we export.
func TestMetricNamesPassPromlint(t *testing.T) {
	m := New()
	set := build(t, m, testConfig())
	record(set, "gpt-4o", "gpt-4o-a", "team-search")
	m.Reloaded(nil, time.Now())
	problems, err := testutil.GatherAndLint(m.Registry())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "go_") || strings.HasPrefix(p.Metric, "process_") {
			continue
		}
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
}
