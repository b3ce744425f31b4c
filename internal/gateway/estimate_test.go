package gateway

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/llmrouter/llmrouter/internal/config"
	"github.com/llmrouter/llmrouter/internal/limit/redistest"
	"github.com/llmrouter/llmrouter/internal/logging"
	"github.com/llmrouter/llmrouter/internal/translate"
)

// The output limit is read from the member each client API uses, at the top
// level only; a request without one has none (the model's default applies).
func TestOutputLimit(t *testing.T) {
	for _, c := range []struct {
		body string
		want int64
	}{
		{`{"model":"m","max_completion_tokens":300,"messages":[]}`, 300},
		{`{"model":"m","max_tokens":200,"messages":[]}`, 200},
		{`{"model":"m","input":"hi","max_output_tokens":100}`, 100},
		{`{"model":"m","messages":[{"role":"user","content":"set \"max_tokens\": 5"}]}`, 0},
		{`{"model":"m","tools":[{"parameters":{"properties":{"max_tokens":{"type":"integer"}}}}]}`, 0},
		{`{"model":"m","metadata":{"max_tokens":7}}`, 0},
		{`{"model":"m","max_tokens":-5}`, 0},
		{`{"model":"m","max_tokens":"9"}`, 0},
		{`{"model":"m","max_tokens":1e300}`, maxEstimate},
		{`{"model":"m","messages":[]}`, 0},
	} {
		if got := outputLimit([]byte(c.body)); got != c.want {
			t.Errorf("outputLimit(%s) = %d, want %d", c.body, got, c.want)
		}
	}
}

// BenchmarkAdmission is the limits' check alone, per request: admit (the key's
// allow-list, the estimate, the key's reservation), admitDeployment (the
// deployment's) and settle (both), for a 1 KB chat request. key: key rpm, tpm
// and a month's token budget; key+deployment: the deployment's rpm and tpm too
// (a second reservation and settlement); in process and in a local redis-server.
func BenchmarkAdmission(b *testing.B) {
	const key = `
server:
  api_keys:
    - {name: bench, key: bench-key-0123456789abcdef, models: ["gpt-*"], rpm: 1000000000, tpm: 1000000000000, budget: {tokens: 1000000000000000, period: month}}
models:
  - name: gpt-4o
    provider: openai
    endpoint: http://upstream.invalid/v1
`
	body := []byte(`{"model":"gpt-4o","max_tokens":256,"messages":[{"role":"user","content":"` + strings.Repeat("lorem ipsum ", 85) + `"}]}`)
	b.Run("redis-ping", func(b *testing.B) { // the round trip itself, for scale
		opt, _ := redis.ParseURL(redistest.Start(b).URL())
		client := redis.NewClient(opt)
		defer client.Close()
		for b.Loop() {
			if err := client.Ping(b.Context()).Err(); err != nil {
				b.Fatal(err)
			}
		}
	})
	deployment := key + "    rpm: 1000000000\n    tpm: 1000000000000\n"
	for _, c := range []struct{ name, yaml, store string }{
		{"key-memory", key, "memory"}, {"key+deployment-memory", deployment, "memory"},
		{"key-redis", key, "redis"}, {"key+deployment-redis", deployment, "redis"},
	} {
		b.Run(c.name, func(b *testing.B) {
			yaml := c.yaml
			if c.store == "redis" {
				yaml += "limits: {store: \"" + redistest.Start(b).URL() + "\"}\n"
			}
			cfg, err := config.Parse([]byte(yaml), "bench.yaml")
			if err != nil {
				b.Fatal(err)
			}
			g, err := New(cfg, logging.New(cfg.Logging, io.Discard, nil))
			if err != nil {
				b.Fatal(err)
			}
			defer g.Close()
			r := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", nil)
			rec := &record{key: &g.keys[0], usage: translate.Usage{Input: 300, Output: 200}}
			sw := &statusWriter{ResponseWriter: httptest.NewRecorder(), status: http.StatusOK}
			grp, _ := cfg.Routes.Lookup("gpt-4o")
			t := &g.targets[grp.Deployments[0]]
			b.ReportAllocs()
			for b.Loop() {
				c := call{g: g, w: sw, r: r, rec: rec, ep: &g.endpoints[0], body: body, model: "gpt-4o", group: grp}
				if aerr := c.admit(); aerr != nil {
					b.Fatal(aerr)
				}
				if !c.admitDeployment(t) {
					b.Fatal("deployment refused")
				}
				c.settleLimits()
			}
		})
	}
}
