package gateway_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/llmrouter/llmrouter/internal/config"
	"github.com/llmrouter/llmrouter/internal/gateway"
	"github.com/llmrouter/llmrouter/internal/limit/redistest"
	"github.com/llmrouter/llmrouter/internal/logging"
)

// admissionConfig serves gpt-4o with the key given (server.api_keys YAML, or "")
// and, when deploymentLimits, rpm and tpm on the deployment.
func admissionConfig(keys, store string, deploymentLimits bool) string {
	dep := ""
	if deploymentLimits {
		dep = "    rpm: 1000000000\n    tpm: 1000000000000\n"
	}
	return keys + `
logging: {level: warn}
limits: {store: "` + store + `"}
defaults: {retry: {attempts: 1}}
models:
  - name: gpt-4o
    provider: openai
    endpoint: http://upstream.invalid/v1
    api_key: sk-bench-0123456789abcdef
` + dep
}

const (
	benchKey     = "bench-key-0123456789abcdef"
	plainKeys    = "server:\n  api_keys: [" + benchKey + "]\n"
	namedKey     = "server:\n  api_keys:\n    - {name: bench, key: " + benchKey + "}\n"
	limitedKey   = "server:\n  api_keys:\n    - {name: bench, key: " + benchKey + ", rpm: 1000000000, tpm: 1000000000000, budget: {tokens: 1000000000000000, period: month}}\n"
	benchAnswer  = `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":300,"completion_tokens":2}}`
	answerLength = int64(len(benchAnswer))
)

// cannedTransport answers every upstream request at once with benchAnswer.
type cannedTransport struct{}

func (cannedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	_, _ = io.Copy(io.Discard, r.Body)
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(benchAnswer)), ContentLength: answerLength, Request: r}, nil
}

// BenchmarkRequestPathAdmission serves a 1 KB chat request in process, upstream
// answered at once, through ServeHTTP: authentication, the key's allow-list and,
// with limits, the key's and the deployment's reservations and their settlement.
// The cases differ only there, so their difference is what keys and limits cost
// a request: open (no keys), plain (one plain key), named (a key object without
// limits), limited-key (key rpm, tpm and a month's budget) in memory and in a
// local redis-server (one round trip in, one to settle), and the same with the
// deployment's rpm and tpm too (two in, two out).
func BenchmarkRequestPathAdmission(b *testing.B) {
	cases := []struct {
		name, keys, store string
		deployment        bool
	}{
		{"open", "", "memory", false},
		{"plain-key", plainKeys, "memory", false},
		{"named-key", namedKey, "memory", false},
		{"limited-key-memory", limitedKey, "memory", false},
		{"limited-key-redis", limitedKey, "redis", false},
		{"limited-key+deployment-memory", limitedKey, "memory", true},
		{"limited-key+deployment-redis", limitedKey, "redis", true},
	}
	body := chatBody("gpt-4o", 1<<10)
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			store := c.store
			if store == "redis" {
				store = redistest.Start(b).URL()
			}
			cfg, err := config.Parse([]byte(admissionConfig(c.keys, store, c.deployment)), "bench.yaml")
			if err != nil {
				b.Fatal(err)
			}
			g, err := gateway.New(cfg, logging.New(cfg.Logging, io.Discard, nil), gateway.WithTransport(cannedTransport{}))
			if err != nil {
				b.Fatal(err)
			}
			defer g.Close()
			b.ReportAllocs()
			for b.Loop() {
				r := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", bytes.NewReader(body))
				r.Header.Set("Authorization", "Bearer "+benchKey)
				w := httptest.NewRecorder()
				g.ServeHTTP(w, r)
				if w.Code != 200 {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
			}
		})
	}
}
