package gateway_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/llmrouter/llmrouter/internal/gateway"
	"github.com/tidwall/gjson"
)

// Passive health through the gateway, timed in fake time (testing/synctest): the
// engines (internal/health, internal/balance) have their own unit tests; these
// prove the wiring, from the upstream's answer to the next request's pick.

// twoDeployments is gpt-4o served by "primary" (tried first) and "backup".
const twoDeployments = `
routing:
  health: {failures: 2, cooldown: 10s, max_cooldown: 1m}
defaults:
  retry: {attempts: 1}
models:
  - {name: gpt-4o, id: primary, provider: openai, endpoint: http://primary.invalid/v1, priority: 0}
  - {name: gpt-4o, id: backup, provider: openai, endpoint: http://backup.invalid/v1, priority: 1}
`

// After two failures the primary is ejected: the next request goes straight to
// the backup. When the cooldown ends one request probes it; a failed probe keeps
// it out for twice as long; a successful one readmits it, and the request after
// goes to it again.
func TestEjectionCooldownProbeAndRecovery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFleet(map[string]func(*http.Request) (*http.Response, error){
			"primary": reply(503, oaOverloaded503),
			"backup":  reply(200, okBody),
		})
		g, log := bubbleRouter(t, twoDeployments, f)
		steps := []struct {
			wait  time.Duration // before the request
			heal  bool          // the primary answers 200 from this step on
			want  string        // deployment that answered
			tries []string
		}{
			{0, false, "backup", []string{"primary:server_error", "backup:success"}},
			{0, false, "backup", []string{"primary:server_error", "backup:success"}}, // ejects the primary for 10s
			{0, false, "backup", []string{"backup:success"}},
			{10 * time.Second, false, "backup", []string{"primary:server_error(probe)", "backup:success"}}, // out for 20s
			{10 * time.Second, false, "backup", []string{"backup:success"}},
			{10 * time.Second, true, "primary", []string{"primary:success(probe)"}},
			{0, false, "primary", []string{"primary:success"}},
		}
		for i, s := range steps {
			time.Sleep(s.wait)
			if s.heal {
				f.set("primary", reply(200, okBody))
			}
			got := ask(g, "/v1/chat/completions", chatReq)
			if got.status != 200 || got.deployment != s.want {
				t.Errorf("step %d: %d from %q, want 200 from %q: %s", i, got.status, got.deployment, s.want, got.body)
			}
			if d := cmp.Diff(s.tries, tries(lastAccess(t, log))); d != "" {
				t.Errorf("step %d: attempts (-want +got):\n%s", i, d)
			}
		}
		want := []time.Duration{0, 0, 10 * time.Second, 30 * time.Second, 30 * time.Second}
		if d := cmp.Diff(want, f.arrivals("primary", "")); d != "" {
			t.Errorf("requests to the primary (-want +got):\n%s", d)
		}
		if !strings.Contains(log.String(), `"msg":"deployment ejected","deployment":"primary","cause":"server_error","cooldown":"20s"`) {
			t.Errorf("the repeated ejection is not logged with its grown cooldown:\n%s", log)
		}
	})
}

// oneDeployment is gpt-4o on one upstream that is ejected at its first failure.
func oneDeployment(cooldown, timeouts string) string {
	return `
routing:
  health: {failures: 1, cooldown: ` + cooldown + `}
defaults:
  retry: {attempts: 1}
  timeouts: ` + timeouts + `
models:
  - {name: gpt-4o, provider: openai, endpoint: http://only.invalid/v1}
`
}

// When every deployment is cooling, a request is answered at once with a 503 in
// its client's envelope and Retry-After set to the earliest recovery (rounded up,
// at least 1s), without a call upstream; unless the recovery is near enough to
// wait for (balance.DefaultHoldLimit, and the first-byte timeout still fits the
// total deadline): then the request waits and probes.
func TestAllDeploymentsCooling(t *testing.T) {
	t.Run("503 with Retry-After in each envelope", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			f := newFleet(map[string]func(*http.Request) (*http.Response, error){"only": reply(500, oaOverloaded503)})
			g, _ := bubbleRouter(t, oneDeployment("30s", "{total: 10m}"), f)
			if got := ask(g, "/v1/chat/completions", chatReq); got.status != 500 {
				t.Fatalf("first request: %d, want the upstream's 500", got.status)
			}
			time.Sleep(2500 * time.Millisecond)
			oa := ask(g, "/v1/chat/completions", chatReq)
			ant := ask(g, "/v1/messages", `{"model":"gpt-4o","max_tokens":8,"messages":[{"role":"user","content":"hi"}]}`)
			for _, c := range []struct {
				name string
				got  served
				typ  string
			}{{"openai", oa, gjson.Get(oa.body, "error.type").String()}, {"anthropic", ant, gjson.Get(ant.body, "type").String()}} {
				if c.got.status != 503 || c.got.header.Get("Retry-After") != "28" {
					t.Errorf("%s: %d Retry-After %q, want 503 and 28: %s", c.name, c.got.status, c.got.header.Get("Retry-After"), c.got.body)
				}
				if c.typ == "" || !strings.Contains(c.got.body, "cooling down") {
					t.Errorf("%s: not an error in the client's envelope: %s", c.name, c.got.body)
				}
				if c.got.deployment != "" {
					t.Errorf("%s: X-Llmrouter-Deployment %q on an answer no deployment gave", c.name, c.got.deployment)
				}
			}
			if n := len(f.arrivals("only", "")); n != 1 {
				t.Errorf("the upstream saw %d requests, want 1", n)
			}
		})
	})
	t.Run("a recovery within the hold limit is waited for", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			f := newFleet(map[string]func(*http.Request) (*http.Response, error){"only": reply(500, oaOverloaded503)})
			g, log := bubbleRouter(t, oneDeployment("3s", "{total: 10m}"), f)
			ask(g, "/v1/chat/completions", chatReq)
			f.set("only", reply(200, okBody))
			start := time.Now()
			got := ask(g, "/v1/chat/completions", chatReq)
			if got.status != 200 || time.Since(start) != 3*time.Second {
				t.Errorf("%d after %v, want 200 after 3s (the rest of the cooldown): %s", got.status, time.Since(start), got.body)
			}
			if d := cmp.Diff([]string{"gpt-4o#1:success(probe)"}, tries(lastAccess(t, log))); d != "" {
				t.Errorf("attempts (-want +got):\n%s", d)
			}
		})
	})
	t.Run("no wait when the first-byte timeout would not fit the deadline", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			f := newFleet(map[string]func(*http.Request) (*http.Response, error){"only": reply(500, oaOverloaded503)})
			g, _ := bubbleRouter(t, oneDeployment("3s", "{total: 5s, first_byte: 3s}"), f)
			ask(g, "/v1/chat/completions", chatReq)
			start := time.Now()
			got := ask(g, "/v1/chat/completions", chatReq)
			if got.status != 503 || time.Since(start) != 0 || got.header.Get("Retry-After") != "3" {
				t.Errorf("%d after %v with Retry-After %q, want 503 at once with 3", got.status, time.Since(start), got.header.Get("Retry-After"))
			}
		})
	})
}

// latencyPair is gpt-4o on two deployments balanced by lowest latency.
const latencyPair = `
routing:
  strategy: latency
defaults:
  retry: {attempts: 1}
models:
  - {name: gpt-4o, id: a, provider: openai, endpoint: http://a.invalid/v1}
  - {name: gpt-4o, id: b, provider: openai, endpoint: http://b.invalid/v1}
`

// The latency strategy sends nearly everything to the faster deployment; when
// the slow one gets fast, exploration notices and traffic moves back to it.
// Shares are over a fixed random seed; the tolerances are stated below.
func TestLatencyStrategyMovesAwayAndComesBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFleet(map[string]func(*http.Request) (*http.Response, error){
			"a": slowAnswer(time.Second),
			"b": slowAnswer(100 * time.Millisecond),
		})
		g, _ := bubbleRouter(t, latencyPair, f, gateway.WithRand(newSeeded()))
		count := func(n int) map[string]int {
			got := map[string]int{}
			for range n {
				got[ask(g, "/v1/chat/completions", chatReq).deployment]++
			}
			return got
		}
		// 5% of picks explore: over 200 requests a gets its first try and about
		// 10 explorations; 15% is the stated ceiling.
		slow := count(200)
		if slow["a"] > 30 || slow["a"]+slow["b"] != 200 {
			t.Errorf("slow a served %d of 200 requests (b %d), want at most 30", slow["a"], slow["b"])
		}
		f.set("a", slowAnswer(10*time.Millisecond))
		count(400) // a's average falls with each exploration until a is the fastest
		back := count(100)
		if back["a"] < 80 {
			t.Errorf("recovered a served %d of the last 100 requests, want at least 80", back["a"])
		}
		t.Logf("a served %d of 200 while slow, %d of the last 100 after it recovered", slow["a"], back["a"])
	})
}

// checked is gpt-4o on a primary with an active health check and a backup.
const checked = `
routing:
  health: {failures: 2, cooldown: 5s}
defaults:
  retry: {attempts: 1}
models:
  - name: gpt-4o
    id: primary
    provider: openai
    endpoint: http://primary.invalid/v1
    api_key: sk-check-key-0123456789abcdef
    priority: 0
    health_check: {path: /health, interval: 1s, timeout: 500ms}
  - {name: gpt-4o, id: backup, provider: openai, endpoint: http://backup.invalid/v1, priority: 1}
`

// Active health checks run through the deployment's own transport with its
// key: failing checks eject it before any client request fails, a passing check
// after the cooldown readmits it, and Close stops them.
func TestActiveHealthChecks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		healthy, auth := false, ""
		f := newFleet(map[string]func(*http.Request) (*http.Response, error){
			"primary": func(r *http.Request) (*http.Response, error) {
				if r.URL.Path != "/health" {
					return fakeResponse(200, okBody), nil
				}
				mu.Lock()
				defer mu.Unlock()
				auth = r.Header.Get("Authorization")
				if healthy {
					return fakeResponse(200, `{"status":"ok"}`), nil
				}
				return fakeResponse(503, `{"status":"loading"}`), nil
			},
			"backup": reply(200, okBody),
		})
		g, log := bubbleRouter(t, checked, f)
		if err := g.StartChecks(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(1500 * time.Millisecond) // checks at 0s and 1s failed: ejected until 6s
		if got := ask(g, "/v1/chat/completions", chatReq); got.deployment != "backup" || got.header.Get("X-Llmrouter-Attempts") != "1" {
			t.Errorf("while the checks fail: answered by %q in %s attempts, want backup in 1", got.deployment, got.header.Get("X-Llmrouter-Attempts"))
		}
		mu.Lock()
		healthy = true
		if auth != "Bearer sk-check-key-0123456789abcdef" {
			t.Errorf("the check was sent with Authorization %q, want the deployment's key", auth)
		}
		mu.Unlock()
		time.Sleep(5 * time.Second) // the check at 6s readmits it
		if got := ask(g, "/v1/chat/completions", chatReq); got.deployment != "primary" {
			t.Errorf("after a passing check: answered by %q, want primary", got.deployment)
		}
		if n := len(f.arrivals("primary", "/chat/completions")); n != 1 {
			t.Errorf("primary received %d client requests, want 1", n)
		}
		g.Close()
		n := len(f.arrivals("primary", "/health"))
		time.Sleep(10 * time.Second)
		if m := len(f.arrivals("primary", "/health")); m != n || n < 7 {
			t.Errorf("%d checks before Close, %d after 10s more: want at least 7, then none", n, m)
		}
		if !strings.Contains(log.String(), `"msg":"deployment recovered","deployment":"primary"`) {
			t.Errorf("the recovery is not logged:\n%s", log)
		}
	})
}
