package gateway_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tidwall/gjson"
)

// Fallback chains: which failure moves a request to which model, read from the
// provider's error code (testdata/errors holds the real bodies), and the one
// deadline and one attempt budget that cover the whole chain.

// chains is gpt-4o with a fallback for retryable failures (Claude) and one for
// context-window overflows; gpt-guarded with a content-policy fallback.
const chains = `
routing:
  health: {failures: 1000}
  fallbacks: {gpt-4o: [claude-x]}
  context_window_fallbacks: {gpt-4o: [gpt-big]}
  content_policy_fallbacks: {gpt-guarded: [claude-x]}
defaults:
  retry: {attempts: 1}
models:
  - {name: gpt-4o, provider: openai, endpoint: "{{UP}}/primary/v1"}
  - {name: gpt-guarded, provider: openai, endpoint: "{{UP}}/guarded/v1"}
  - {name: gpt-big, provider: openai, endpoint: "{{UP}}/big/v1"}
  - {name: claude-x, provider: anthropic, endpoint: "{{UP}}/claude", upstream_model: claude-sonnet-4-20250514}
`

func TestFallbackTriggers(t *testing.T) {
	claude := string(fixture(t, "fixtures/anthropic-messages-response.json"))
	errBody := func(name string) string { return string(fixture(t, name)) }
	cases := []struct {
		name, model string
		primary     http.HandlerFunc // answers for gpt-4o and gpt-guarded
		claude      http.HandlerFunc
		status      int
		answered    string // X-Llmrouter-Deployment
		fallback    string // X-Llmrouter-Fallback and the access log's
		contacted   map[string]int
	}{
		{"503 moves along fallbacks", "gpt-4o", jsonReply(503, oaOverloaded503), replay(200, "application/json", []byte(claude)),
			200, "claude-x#1", "retryable", map[string]int{"primary": 1, "claude": 1}},
		{"an error object in a 200 moves along fallbacks", "gpt-4o", jsonReply(200, oaOverloaded503), replay(200, "application/json", []byte(claude)),
			200, "claude-x#1", "retryable", map[string]int{"primary": 1, "claude": 1}},
		{"a context-length error moves along context_window_fallbacks", "gpt-4o", jsonReply(400, errBody("errors/openai-context-length-400.json")), nil,
			200, "gpt-big#1", "context_window", map[string]int{"primary": 1, "big": 1}},
		{"a content-policy refusal without its chain is the answer", "gpt-4o", jsonReply(400, errBody("errors/azure-content-filter-400.json")), nil,
			400, "gpt-4o#1", "", map[string]int{"primary": 1}},
		{"a content-policy refusal moves along content_policy_fallbacks", "gpt-guarded", jsonReply(400, errBody("errors/openai-content-policy-400.json")), replay(200, "application/json", []byte(claude)),
			200, "claude-x#1", "content_policy", map[string]int{"guarded": 1, "claude": 1}},
		{"another 400 moves nowhere", "gpt-4o", jsonReply(400, errBody("fixtures/openai-error-400.json")), nil,
			400, "gpt-4o#1", "", map[string]int{"primary": 1}},
		{"a 401 moves nowhere", "gpt-4o", jsonReply(401, errBody("fixtures/openai-error-401.json")), nil,
			401, "gpt-4o#1", "", map[string]int{"primary": 1}},
		{"when the fallback fails too its failure is the answer", "gpt-4o", jsonReply(503, oaOverloaded503), jsonReply(529, errBody("fixtures/anthropic-error-529.json")),
			529, "claude-x#1", "retryable", map[string]int{"primary": 1, "claude": 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			up := newUpstream(t, byDeployment(map[string]http.HandlerFunc{
				"primary": c.primary, "guarded": c.primary, "big": jsonReply(200, okBody), "claude": c.claude,
			}))
			rt := newRouter(t, chains, up.URL)
			o := observe(t, rt)
			resp, body := post(t, o.URL+"/v1/chat/completions", strings.Replace(chatReq, "gpt-4o", c.model, 1), nil)
			o.waitServed(t)
			h := resp.Header
			if resp.StatusCode != c.status || h.Get("X-Llmrouter-Deployment") != c.answered || h.Get("X-Llmrouter-Fallback") != c.fallback {
				t.Errorf("%d from %q (fallback %q), want %d from %q (%q): %s", resp.StatusCode, h.Get("X-Llmrouter-Deployment"),
					h.Get("X-Llmrouter-Fallback"), c.status, c.answered, c.fallback, body)
			}
			if d := cmp.Diff(c.contacted, up.count()); d != "" {
				t.Errorf("upstreams contacted (-want +got):\n%s", d)
			}
			line := accessLines(t, rt.log.String())[0]
			if line.Get("fallback").String() != c.fallback || line.Get("deployment").String() != c.answered {
				t.Errorf("access log: %s", line.Raw)
			}
			if c.answered == "claude-x#1" && c.status == 200 {
				// The model field is the truth: what the answering upstream said.
				if m := gjson.GetBytes(body, "model").String(); m != "claude-sonnet-4-20250514" || h.Get("X-Llmrouter-Model") != "claude-x" {
					t.Errorf("model %q, X-Llmrouter-Model %q; want the Anthropic upstream's and claude-x", m, h.Get("X-Llmrouter-Model"))
				}
				if got := gjson.GetBytes(body, "choices.0.message.content").String(); !strings.HasPrefix(got, "Olá!") {
					t.Errorf("content %q is not the fallback's answer", got)
				}
			}
		})
	}
}

// chainFleet is gpt-4o on a fleet host with a fallback to claude-x; retry is
// the primary's policy, timeouts the defaults'.
func chainFleet(retry, timeouts string) string {
	return `
routing:
  fallbacks: {gpt-4o: [claude-x]}
defaults:
  timeouts: ` + timeouts + `
models:
  - {name: gpt-4o, provider: openai, endpoint: http://primary.invalid/v1, retry: ` + retry + `}
  - {name: claude-x, provider: anthropic, endpoint: http://claude.invalid, retry: {attempts: 1}}
`
}

// timeoutErr is a transport's first-byte timeout (a net.Error that timed out).
type timeoutErr struct{}

func (timeoutErr) Error() string   { return "net/http: timeout awaiting response headers" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

// One deadline and one budget for the whole chain, in fake time: a model's
// retry rounds come before its fallback only for quick failures; a timeout or
// a long Retry-After goes to the fallback at once (retrying would stack another
// wait); the fallback runs under the deadline the request started with; and
// however long the chain, a request makes at most 16 attempts.
func TestOneDeadlineAndBudgetCoverTheChain(t *testing.T) {
	anthropicOK := func(d time.Duration) func(*http.Request) (*http.Response, error) {
		return func(r *http.Request) (*http.Response, error) {
			select {
			case <-time.After(d):
			case <-r.Context().Done():
				return nil, r.Context().Err()
			}
			return fakeResponse(200, string(fixture(t, "fixtures/anthropic-messages-response.json"))), nil
		}
	}
	cases := []struct {
		name            string
		retry, timeouts string
		primary         func(*http.Request) (*http.Response, error)
		claude          func(*http.Request) (*http.Response, error)
		status          int
		primaryAt       []time.Duration
		claudeAt        []time.Duration
		elapsed         time.Duration
	}{
		{"quick failures: the model's rounds, then the fallback", "{attempts: 3, initial_backoff: 100ms, multiplier: 2, jitter: 0}", "{total: 1m}",
			reply(503, oaOverloaded503), anthropicOK(0),
			200, []time.Duration{0, 100 * time.Millisecond, 300 * time.Millisecond}, []time.Duration{300 * time.Millisecond}, 300 * time.Millisecond},
		{"a timeout goes to the fallback at once", "{attempts: 3, initial_backoff: 100ms, jitter: 0}", "{total: 1m}",
			func(*http.Request) (*http.Response, error) { time.Sleep(2 * time.Second); return nil, timeoutErr{} }, anthropicOK(0),
			200, []time.Duration{0}, []time.Duration{2 * time.Second}, 2 * time.Second},
		{"a Retry-After beyond max_backoff goes to the fallback at once", "{attempts: 3, initial_backoff: 100ms, max_backoff: 1s, jitter: 0}", "{total: 1m}",
			reply(429, oaRateLimited, "Retry-After", "20"), anthropicOK(0),
			200, []time.Duration{0}, []time.Duration{0}, 0},
		{"the fallback runs under the request's one deadline", "{attempts: 3, initial_backoff: 100ms, jitter: 0}", "{total: 5s}",
			func(*http.Request) (*http.Response, error) { time.Sleep(2 * time.Second); return nil, timeoutErr{} }, anthropicOK(4 * time.Second),
			504, []time.Duration{0}, []time.Duration{2 * time.Second}, 5 * time.Second},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFleet(map[string]func(*http.Request) (*http.Response, error){"primary": c.primary, "claude": c.claude})
				g, _ := bubbleRouter(t, chainFleet(c.retry, c.timeouts), f)
				start := time.Now()
				got := ask(g, "/v1/chat/completions", chatReq)
				if got.status != c.status || time.Since(start) != c.elapsed {
					t.Errorf("%d after %v, want %d after %v: %s", got.status, time.Since(start), c.status, c.elapsed, got.body)
				}
				if d := cmp.Diff(c.primaryAt, f.arrivals("primary", "")); d != "" {
					t.Errorf("primary attempts (-want +got):\n%s", d)
				}
				if d := cmp.Diff(c.claudeAt, f.arrivals("claude", "")); d != "" {
					t.Errorf("fallback attempts (-want +got):\n%s", d)
				}
			})
		})
	}
	t.Run("at most 16 attempts however long the chain", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var models, names []string
			replies := map[string]func(*http.Request) (*http.Response, error){}
			for i := range 20 {
				name := fmt.Sprintf("m%d", i)
				replies[name] = reply(503, oaOverloaded503)
				models = append(models, fmt.Sprintf("  - {name: %s, provider: openai, endpoint: http://%s.invalid/v1}", name, name))
				if i > 0 {
					names = append(names, name)
				}
			}
			yaml := "routing:\n  health: {failures: 1000}\n  fallbacks: {m0: [" + strings.Join(names, ", ") + "]}\n" +
				"defaults:\n  retry: {attempts: 3, initial_backoff: 1ms, jitter: 0}\nmodels:\n" + strings.Join(models, "\n") + "\n"
			f := newFleet(replies)
			g, log := bubbleRouter(t, yaml, f)
			got := ask(g, "/v1/chat/completions", strings.Replace(chatReq, "gpt-4o", "m0", 1))
			n := len(tries(lastAccess(t, log)))
			if got.status != 503 || n != 16 || got.header.Get("X-Llmrouter-Attempts") != "16" {
				t.Errorf("%d after %d attempts (header %s), want 503 after 16", got.status, n, got.header.Get("X-Llmrouter-Attempts"))
			}
			if m := len(f.arrivals("m0", "")); m != 3 {
				t.Errorf("the requested model got %d attempts, want its retry.attempts, 3", m)
			}
		})
	})
}
