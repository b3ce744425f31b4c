package gateway_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/llmrouter/llmrouter/internal/config"
	"github.com/llmrouter/llmrouter/internal/gateway"
	"github.com/llmrouter/llmrouter/internal/logging"
	"github.com/llmrouter/llmrouter/internal/metrics"
	"github.com/llmrouter/llmrouter/internal/telemetry"
	"github.com/llmrouter/llmrouter/internal/wire"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
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

func benchGateway(b *testing.B, up string, opts ...gateway.Option) *gateway.Gateway {
	b.Helper()
	cfg, err := config.Parse([]byte(strings.ReplaceAll(benchConfig, "{{UP}}", up)), "bench.yaml")
	if err != nil {
		b.Fatal(err)
	}
	g, err := gateway.New(cfg, logging.New(cfg.Logging, io.Discard, nil), opts...)
	if err != nil {
		b.Fatal(err)
	}
	g.ActivateMetrics()
	return g
}

// observabilities are the gateway options of the three observability settings the
// benchmarks compare: off, metrics, metrics and traces (every span recorded and
// handed to an exporter that discards it, so the cost is the SDK's, not a
// collector's).
func observabilities(b *testing.B) []struct {
	name string
	opts []gateway.Option
} {
	tr, err := telemetry.New(context.Background(), telemetry.Config{}, telemetry.Options{Exporter: tracetest.NewNoopExporter()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = tr.Shutdown(context.Background()) })
	return []struct {
		name string
		opts []gateway.Option
	}{
		{"off", nil},
		{"metrics", []gateway.Option{gateway.WithMetrics(metrics.New())}},
		{"metrics+traces", []gateway.Option{gateway.WithMetrics(metrics.New()), gateway.WithTracer(tr)}},
	}
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
	urls := map[string]string{"direct": up.URL + "/v1/chat/completions"}
	for _, o := range observabilities(b) {
		rt := httptest.NewServer(benchGateway(b, up.URL, o.opts...))
		defer rt.Close()
		urls["router-"+o.name] = rt.URL + "/v1/chat/completions"
	}
	body := chatBody("gpt-4o", 1<<10)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	for _, name := range []string{"direct", "router-off", "router-metrics", "router-metrics+traces"} {
		url := urls[name]
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

// BenchmarkObservedRequest is the router's own work on one request, without a
// network: a 1 KB chat request through ServeHTTP to an upstream answered in
// memory, with observability off, metrics on, and metrics and traces on; the
// differences are what metrics and traces add per request (compare cpu-ns/op on
// a busy machine).
func BenchmarkObservedRequest(b *testing.B) {
	answer := []byte(`{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":11,"completion_tokens":7,"total_tokens":18}}`)
	upstream := roundTripper(func(r *http.Request) (*http.Response, error) {
		_, _ = io.Copy(io.Discard, r.Body)
		return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(bytes.NewReader(answer)), ContentLength: int64(len(answer)), Request: r}, nil
	})
	body := chatBody("gpt-4o", 1<<10)
	for _, o := range observabilities(b) {
		g := benchGateway(b, "http://upstream.invalid", append(o.opts, gateway.WithTransport(upstream))...)
		b.Run(o.name, func(b *testing.B) {
			b.ReportAllocs()
			cpu := processCPU()
			for b.Loop() {
				r := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", bytes.NewReader(body))
				w := httptest.NewRecorder()
				g.ServeHTTP(w, r)
				if w.Code != 200 {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
			}
			// CPU time, unlike ns/op, does not grow when other processes take the CPU.
			b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
		})
	}
}

// BenchmarkCancelableRequest is ObservedRequest/off with the contexts a served
// request has: net/http gives each request a cancelable context (a child of its
// connection's), and the transport derives one from the upstream request's. A
// context registered under a cancelable parent costs what one under
// context.Background does not (an entry in the parent's map of children).
func BenchmarkCancelableRequest(b *testing.B) {
	answer := []byte(`{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":11,"completion_tokens":7,"total_tokens":18}}`)
	upstream := roundTripper(func(r *http.Request) (*http.Response, error) {
		ctx, cancel := context.WithCancelCause(r.Context()) // as http.Transport does
		defer cancel(nil)
		_ = ctx.Done()
		_, _ = io.Copy(io.Discard, r.Body)
		return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(bytes.NewReader(answer)), ContentLength: int64(len(answer)), Request: r}, nil
	})
	body := chatBody("gpt-4o", 1<<10)
	g := benchGateway(b, "http://upstream.invalid", gateway.WithTransport(upstream))
	conn, stop := context.WithCancel(context.Background())
	defer stop()
	b.ReportAllocs()
	cpu := processCPU()
	for b.Loop() {
		ctx, cancel := context.WithCancel(conn)
		r := httptest.NewRequestWithContext(ctx, http.MethodPost, "/v1/chat/completions", bytes.NewReader(body))
		w := httptest.NewRecorder()
		g.ServeHTTP(w, r)
		cancel()
		if w.Code != 200 {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
	b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
