package gateway_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/llmrouter/llmrouter/internal/gateway"
	"github.com/llmrouter/llmrouter/internal/limit"
	"github.com/llmrouter/llmrouter/internal/limit/redistest"
)

// Replicas: two routers (two gateways, each on its own listener) counting in one
// real redis-server, as two processes behind a load balancer would. The limit
// engine's clock is the test's (given to Redis's scripts), so that a window
// neither drains nor a period turns while a loaded machine runs the test.

// replicas starts n routers on one Redis with cfg (its store set to srv).
func replicas(t *testing.T, srv *redistest.Server, cfg, up string, n int, opts ...gateway.Option) []*router {
	t.Helper()
	cfg = strings.Replace(cfg, "store: redis", "store: "+srv.URL(), 1)
	var out []*router
	for range n {
		out = append(out, newRouter(t, cfg, up, opts...))
	}
	return out
}

// 20 concurrent requests against a key's 10 requests per minute, spread over
// two routers, get exactly 10 answers and 10 429s with Retry-After.
func TestReplicasEnforceOneLimitExactly(t *testing.T) {
	srv := redistest.Start(t)
	up := meteredUpstream(t)
	rts := replicas(t, srv, limitedConfig("rpm: 10", "redis", "fail_closed"), up.URL, 2, withClock(newClock(limitStart)))
	type result struct {
		status     int
		retryAfter string
		typ        string
	}
	results := make(chan result, 20)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			resp, b, err := tryPost(rts[i%2].URL+"/v1/chat/completions", fmt.Sprintf(chatRequest, "gpt-4o", false),
				map[string]string{"Authorization": "Bearer " + teamAKey})
			if err != nil {
				t.Error(err)
				return
			}
			results <- result{resp.StatusCode, resp.Header.Get("Retry-After"), gjson.GetBytes(b, "error.type").String()}
		})
	}
	wg.Wait()
	close(results)
	count := map[int]int{}
	for r := range results {
		count[r.status]++
		if r.status == 429 && (r.retryAfter == "" || r.typ != "requests") {
			t.Errorf("a 429 with Retry-After %q and type %q", r.retryAfter, r.typ)
		}
	}
	if count[200] != 10 || count[429] != 10 {
		t.Fatalf("statuses %v, want exactly 10 x 200 and 10 x 429", count)
	}
	if n := len(up.requests()); n != 10 {
		t.Errorf("upstream received %d requests, want 10", n)
	}
}

// Tokens per minute are settled from real usage across replicas, streamed and
// not: each answer reports 1,020 tokens, so two requests on either router use
// the key's 2,000 and the next is refused on both.
func TestReplicasSettleTokensFromRealUsage(t *testing.T) {
	srv := redistest.Start(t)
	rts := replicas(t, srv, limitedConfig("tpm: 2000", "redis", "fail_closed"), meteredUpstream(t).URL, 2, withClock(newClock(limitStart)))
	for i, c := range []struct {
		anthropic, stream bool
		model             string
	}{{false, true, "gpt-4o"}, {true, false, "claude-x"}} {
		if resp, b := sendAs(t, rts[i].URL, teamAKey, c.anthropic, c.model, c.stream); resp.StatusCode != 200 {
			t.Fatalf("request %d: %d %s", i+1, resp.StatusCode, b)
		}
	}
	for _, rt := range rts {
		resp, b := sendAs(t, rt.URL, teamAKey, true, "claude-x", true)
		if resp.StatusCode != 429 || resp.Header.Get("Anthropic-Ratelimit-Tokens-Remaining") != "0" {
			t.Errorf("after 2 x 1,020 tokens: %d %v %s", resp.StatusCode, resp.Header, b)
		}
	}
}

// A key's budget is one across replicas and renews at the period's end.
func TestReplicasShareABudget(t *testing.T) {
	srv := redistest.Start(t)
	clk := newClock(limitStart)
	rts := replicas(t, srv, limitedConfig("budget: {tokens: 2000, period: day}", "redis", "fail_closed"), meteredUpstream(t).URL, 2, withClock(clk))
	for i := range 2 {
		if resp, b := sendAs(t, rts[i].URL, teamAKey, false, "gpt-4o", i == 0); resp.StatusCode != 200 {
			t.Fatalf("request %d: %d %s", i+1, resp.StatusCode, b)
		}
	}
	for _, rt := range rts { // either replica reads what both used
		if status, got, b := readUsage(t, rt.URL, teamAKey, ""); status != 200 || len(got) != 1 || got[0].Tokens != 2*(meteredInput+meteredOutput) {
			t.Errorf("usage read from a replica: %d %s", status, b)
		}
	}
	if resp, b := sendAs(t, rts[0].URL, teamAKey, false, "gpt-4o", false); resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "60" {
		t.Fatalf("budget spent: %d Retry-After %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), b)
	}
	clk.Advance(time.Minute)
	if resp, b := sendAs(t, rts[1].URL, teamAKey, false, "gpt-4o", false); resp.StatusCode != 200 {
		t.Fatalf("next day: %d %s", resp.StatusCode, b)
	}
}

// decisions counts what a limit engine observed.
type decisions struct {
	mu       sync.Mutex
	outcomes map[limit.Outcome]int
	changes  []bool
}

func (d *decisions) Decided(o limit.Outcome, _ string, _ limit.Reason) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.outcomes == nil {
		d.outcomes = map[limit.Outcome]int{}
	}
	d.outcomes[o]++
}

func (d *decisions) StoreChanged(available bool, _ error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.changes = append(d.changes, available)
}

func (d *decisions) snapshot() (map[limit.Outcome]int, []bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := map[limit.Outcome]int{}
	for k, v := range d.outcomes {
		out[k] = v
	}
	return out, append([]bool(nil), d.changes...)
}

// Redis stopped mid-test: the fail_open router serves unchecked, the
// fail_closed one answers 503 in each client's envelope; each logs the outage
// once and counts it. Redis restarted: both enforce the shared limit again
// without a restart of their own.
func TestStoreOutageFollowsThePolicyAndRecovers(t *testing.T) {
	srv := redistest.Start(t)
	up := meteredUpstream(t)
	clk := newClock(limitStart)
	var openObs, closedObs decisions
	cfg := strings.Replace(limitedConfig("rpm: 3", "redis", "%s"), "store: redis", "store: "+srv.URL(), 1)
	open := newRouter(t, fmt.Sprintf(cfg, "fail_open"), up.URL, withClock(clk), gateway.WithLimitObserver(&openObs))
	closed := newRouter(t, fmt.Sprintf(cfg, "fail_closed"), up.URL, withClock(clk), gateway.WithLimitObserver(&closedObs))
	expect := func(rt *router, anthropic bool, want int, what string) []byte {
		t.Helper()
		resp, b := sendAs(t, rt.URL, teamAKey, anthropic, "gpt-4o", false)
		if resp.StatusCode != want {
			t.Fatalf("%s: %d %s, want %d", what, resp.StatusCode, b, want)
		}
		return b
	}
	exhaust := func(phase string) {
		for i := range 3 {
			expect([]*router{open, closed}[i%2], false, 200, phase)
		}
		expect(open, false, 429, phase+": the shared limit")
		expect(closed, true, 429, phase+": the shared limit")
	}
	exhaust("before the outage")

	srv.Stop()
	for range 3 {
		expect(open, false, 200, "fail_open with Redis down")
		b := expect(closed, false, 503, "fail_closed with Redis down")
		if gjson.GetBytes(b, "error.type").String() != "server_error" || !strings.Contains(string(b), "limit store is unavailable") {
			t.Errorf("fail_closed OpenAI envelope: %s", b)
		}
		b = expect(closed, true, 503, "fail_closed with Redis down")
		if gjson.GetBytes(b, "type").String() != "error" || gjson.GetBytes(b, "error.type").String() != "api_error" {
			t.Errorf("fail_closed Anthropic envelope: %s", b)
		}
	}

	srv.Restart()
	clk.Advance(2 * time.Second) // past the engines' next probe (every second)
	exhaust("after Redis restarted")

	for name, rt := range map[string]*router{"fail_open": open, "fail_closed": closed} {
		log := rt.log.String()
		if strings.Count(log, "limit store unavailable") != 1 || strings.Count(log, "limit store available again") != 1 {
			t.Errorf("%s router: want the outage and the recovery logged once each:\n%s", name, log)
		}
	}
	oo, oc := openObs.snapshot()
	co, cc := closedObs.snapshot()
	if oo[limit.FailedOpen] != 3 || co[limit.FailedClosed] != 6 || fmt.Sprint(oc) != "[false true]" || fmt.Sprint(cc) != "[false true]" {
		t.Errorf("observed: fail_open %v %v, fail_closed %v %v", oo, oc, co, cc)
	}
}
