package gateway_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/llmrouter/llmrouter/internal/config"
	"github.com/llmrouter/llmrouter/internal/gateway"
	"github.com/llmrouter/llmrouter/internal/logging"
	"github.com/llmrouter/llmrouter/internal/wire"
)

const benchConfig = `
logging: {level: warn}
defaults: {retry: {attempts: 1}}
models:
  - name: gpt-4o
    provider: openai
    endpoint: {{UP}}/v1
    upstream_model: gpt-4o-2024-08-06
    api_key: sk-bench-0123456789abcdef
    headers: {drop: [x-stainless-*], add: {X-Team: bench}}
  - name: claude-x
    provider: anthropic
    endpoint: {{UP}}
    api_key: ant-bench-0123456789abcdef
  - name: "*"
    provider: ollama
    endpoint: {{UP}}
`

func benchGateway(b *testing.B, up string) *gateway.Gateway {
	b.Helper()
	cfg, err := config.Parse([]byte(strings.ReplaceAll(benchConfig, "{{UP}}", up)), "bench.yaml")
	if err != nil {
		b.Fatal(err)
	}
	g, err := gateway.New(cfg, logging.New(cfg.Logging, io.Discard, nil))
	if err != nil {
		b.Fatal(err)
	}
	return g
}

// chatBody is an OpenAI chat request of about size bytes.
func chatBody(model string, size int) []byte {
	text := strings.Repeat("lorem ipsum ", size/12+1)[:size]
	return fmt.Appendf(nil, `{"model":%q,"temperature":0.3,"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":%q}]}`, model, text)
}

// anthropicBody is an Anthropic request of about size bytes.
func anthropicBody(model string, size int) []byte {
	text := strings.Repeat("lorem ipsum ", size/12+1)[:size]
	return fmt.Appendf(nil, `{"model":%q,"max_tokens":256,"system":"Be brief.","messages":[{"role":"user","content":%q}]}`, model, text)
}

// responsesBody is a Responses request of about size bytes.
func responsesBody(model string, size int) []byte {
	text := strings.Repeat("lorem ipsum ", size/12+1)[:size]
	return fmt.Appendf(nil, `{"model":%q,"temperature":0.3,"instructions":"Be brief.","input":[{"type":"message","role":"user","content":[{"type":"input_text","text":%q}]}]}`, model, text)
}

// BenchmarkRequestPath measures what the router does to a request before sending
// it: routing, model rewrite or translation, transforms and header handling.
func BenchmarkRequestPath(b *testing.B) {
	g := benchGateway(b, "http://127.0.0.1:1")
	cases := []struct {
		name string
		p    wire.Protocol
		path string
		body []byte
	}{
		{"passthrough-1KB", wire.OpenAIChat, "/v1/chat/completions", chatBody("gpt-4o", 1<<10)},
		{"passthrough-5KB", wire.OpenAIChat, "/v1/chat/completions", chatBody("gpt-4o", 5<<10)},
		{"passthrough-200KB", wire.OpenAIChat, "/v1/chat/completions", chatBody("gpt-4o", 200<<10)},
		{"translate-anthropic-to-openai-5KB", wire.AnthropicMessages, "/v1/messages", anthropicBody("gpt-4o", 5<<10)},
		{"translate-anthropic-to-openai-200KB", wire.AnthropicMessages, "/v1/messages", anthropicBody("gpt-4o", 200<<10)},
		{"translate-openai-to-anthropic-5KB", wire.OpenAIChat, "/v1/chat/completions", chatBody("claude-x", 5<<10)},
		{"translate-openai-to-ollama-5KB", wire.OpenAIChat, "/v1/chat/completions", chatBody("llama3", 5<<10)},
		{"passthrough-responses-5KB", wire.OpenAIResponses, "/v1/responses", responsesBody("gpt-4o", 5<<10)},
		{"translate-responses-to-anthropic-5KB", wire.OpenAIResponses, "/v1/responses", responsesBody("claude-x", 5<<10)},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.body)))
			for b.Loop() {
				r := httptest.NewRequest(http.MethodPost, c.path, bytes.NewReader(c.body))
				r.Header.Set("Authorization", "Bearer client")
				r.Header.Set("X-Stainless-Lang", "go")
				if _, err := g.Explain(r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRoundTrip compares a 1 KB non-streaming request sent to a local fake
// upstream directly and through the router, in the same run.
func BenchmarkRoundTrip(b *testing.B) {
	resp := []byte(`{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}]}`)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(resp)
	}))
	defer up.Close()
	g := benchGateway(b, up.URL)
	rt := httptest.NewServer(g)
	defer rt.Close()
	body := chatBody("gpt-4o", 1<<10)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	for name, url := range map[string]string{"direct": up.URL + "/v1/chat/completions", "router": rt.URL + "/v1/chat/completions"} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					res, err := client.Post(url, "application/json", bytes.NewReader(body))
					if err != nil {
						b.Fatal(err)
					}
					_, _ = io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if res.StatusCode != 200 {
						b.Fatalf("status %d", res.StatusCode)
					}
				}
			})
		})
	}
}
