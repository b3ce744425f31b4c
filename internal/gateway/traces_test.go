package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/llmrouter/llmrouter/internal/gateway"
	"github.com/llmrouter/llmrouter/internal/metrics"
	"github.com/llmrouter/llmrouter/internal/telemetry"
)

// tracesConfig: a model that fails once, a translated one, and one whose header
// rules drop traceparent.
const tracesConfig = `
defaults:
  retry: {attempts: 2, initial_backoff: 1ms, max_backoff: 2ms, jitter: 0}
models:
  - {name: flaky, provider: openai, endpoint: "{{UP}}/flaky/v1", api_key: sk-model-key-0123456789abcdef}
  - {name: claude-x, provider: anthropic, endpoint: "{{UP}}/anthropic", api_key: ant-model-key-0123456789abcdef}
  - name: private
    provider: openai
    endpoint: "{{UP}}/openai/v1"
    api_key: sk-model-key-0123456789abcdef
    headers: {drop: [traceparent, tracestate]}
`

const (
	clientTrace  = "4bf92f3577b34da6a3ce929d0e0e4736"
	clientParent = "00f067aa0ba902b7"
	clientKey    = "sk-client-key-ffffffffffff"
)

// newTracedRouter serves tracesConfig with an in-memory span exporter, and
// metrics on or off.
func newTracedRouter(t *testing.T, withMetrics bool) (*router, *providers, *tracetest.InMemoryExporter) {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tr, err := telemetry.New(context.Background(), telemetry.Config{}, telemetry.Options{Exporter: exp})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Shutdown(context.Background()) })
	opts := []gateway.Option{gateway.WithTracer(tr)}
	if withMetrics {
		opts = append(opts, gateway.WithMetrics(metrics.New()))
	}
	p := newProviders(t)
	return newRouter(t, tracesConfig, p.up.URL, opts...), p, exp
}

func traceHeaders() map[string]string {
	return map[string]string{"Traceparent": "00-" + clientTrace + "-" + clientParent + "-01", "Authorization": "Bearer " + clientKey}
}

func attrs(kvs []attribute.KeyValue) map[string]any {
	m := map[string]any{}
	for _, kv := range kvs {
		m[string(kv.Key)] = kv.Value.AsInterface()
	}
	return m
}

// checkAttrs asserts attributes; a nil want means "absent".
func checkAttrs(t *testing.T, what string, got map[string]any, want map[string]any) {
	t.Helper()
	for k, v := range want {
		g, ok := got[k]
		switch {
		case v == nil && ok:
			t.Errorf("%s: %s = %v, want it absent", what, k, g)
		case v != nil && fmt.Sprint(g) != fmt.Sprint(v):
			t.Errorf("%s: %s = %v, want %v", what, k, g, v)
		}
	}
}

// A retried request is one server span, continuing the client's trace, with one
// client span per attempt under it; each attempt's traceparent reached the
// upstream; the attributes are the GenAI conventions' and say which attempt,
// which deployment and why it was retried.
func TestTraceOfARetriedRequest(t *testing.T) {
	for _, withMetrics := range []bool{false, true} {
		t.Run(fmt.Sprintf("metrics=%v", withMetrics), func(t *testing.T) {
			rt, p, exp := newTracedRouter(t, withMetrics)
			resp, body := post(t, rt.URL+"/v1/chat/completions", `{"model":"flaky","messages":[{"role":"user","content":"Hi"}]}`, traceHeaders())
			if resp.StatusCode != 200 {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
			waitRequests(t, rt, 1)
			spans := exp.GetSpans()
			if len(spans) != 3 {
				t.Fatalf("%d spans, want the server span and two attempts", len(spans))
			}
			first, second, server := spans[0], spans[1], spans[2]
			if server.SpanKind != trace.SpanKindServer || server.Name != "chat flaky" ||
				server.SpanContext.TraceID().String() != clientTrace || server.Parent.SpanID().String() != clientParent {
				t.Errorf("server span %q kind %s trace %s parent %s: want chat flaky, a server span continuing the client's",
					server.Name, server.SpanKind, server.SpanContext.TraceID(), server.Parent.SpanID())
			}
			checkAttrs(t, "server span", attrs(server.Attributes), map[string]any{
				"gen_ai.operation.name": "chat", "gen_ai.request.model": "flaky", "llmrouter.route": "flaky",
				"llmrouter.client_api": "openai-chat", "llmrouter.stream": false, "http.route": "/v1/chat/completions",
				"http.response.status_code": 200, "llmrouter.deployment": "flaky#1",
				"gen_ai.usage.input_tokens": 11, "gen_ai.usage.output_tokens": 7, "error.type": nil,
			})
			received := p.up.requests()
			for i, a := range []tracetest.SpanStub{first, second} {
				if a.SpanKind != trace.SpanKindClient || a.Parent.SpanID() != server.SpanContext.SpanID() {
					t.Errorf("attempt %d: kind %s parent %s, want a client span under the server span", i+1, a.SpanKind, a.Parent.SpanID())
				}
				want := "00-" + clientTrace + "-" + a.SpanContext.SpanID().String() + "-01"
				if got := received[i].Header.Get("Traceparent"); got != want {
					t.Errorf("attempt %d: the upstream got traceparent %q, want %q", i+1, got, want)
				}
			}
			common := map[string]any{"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "flaky",
				"llmrouter.deployment": "flaky#1", "llmrouter.route": "flaky", "server.address": "127.0.0.1"}
			checkAttrs(t, "attempt 1", attrs(first.Attributes), common)
			checkAttrs(t, "attempt 1", attrs(first.Attributes), map[string]any{"llmrouter.attempt": 1, "http.response.status_code": 503,
				"error.type": "server_error", "llmrouter.retry.cause": nil, "gen_ai.usage.input_tokens": nil})
			if first.Status.Code != codes.Error {
				t.Errorf("the failed attempt's status is %v", first.Status)
			}
			checkAttrs(t, "attempt 2", attrs(second.Attributes), common)
			checkAttrs(t, "attempt 2", attrs(second.Attributes), map[string]any{"llmrouter.attempt": 2, "llmrouter.retry.cause": "server_error",
				"http.response.status_code": 200, "error.type": nil, "gen_ai.response.model": "gpt-4o-2024-08-06",
				"gen_ai.response.finish_reasons": []string{"stop"}, "gen_ai.usage.input_tokens": 11, "gen_ai.usage.output_tokens": 7,
				"gen_ai.usage.cache_read.input_tokens": 3, "gen_ai.usage.reasoning.output_tokens": 2})
			if !strings.Contains(rt.log.String(), `"trace_id":"`+clientTrace+`"`) {
				t.Error("the access-log line has no trace_id")
			}
		})
	}
}

// A translated stream's attempt span says which model answered and why it
// stopped, as the upstream's own events said it; the server span is named after
// the model asked for.
func TestTraceOfATranslatedStream(t *testing.T) {
	rt, _, exp := newTracedRouter(t, true)
	resp, body := post(t, rt.URL+"/v1/chat/completions", `{"model":"claude-x","stream":true,"messages":[{"role":"user","content":"Hi"}]}`, traceHeaders())
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	waitRequests(t, rt, 1)
	spans := exp.GetSpans()
	if len(spans) != 2 {
		t.Fatalf("%d spans, want 2", len(spans))
	}
	attempt, server := spans[0], spans[1]
	if server.Name != "chat claude-x" || attempt.Name != "chat claude-x" {
		t.Errorf("span names %q, %q", server.Name, attempt.Name)
	}
	checkAttrs(t, "attempt", attrs(attempt.Attributes), map[string]any{
		"gen_ai.provider.name": "anthropic", "gen_ai.operation.name": "chat", "llmrouter.attempt": 1,
		"gen_ai.response.model": "claude-3-opus-latest", "gen_ai.response.finish_reasons": []string{"end_turn"},
		"gen_ai.usage.input_tokens": 11, "gen_ai.usage.output_tokens": 6,
	})
	checkAttrs(t, "server span", attrs(server.Attributes), map[string]any{"llmrouter.stream": true, "gen_ai.usage.output_tokens": 6})
}

// A model whose header rules drop traceparent gets none, neither the client's nor
// the router's; its span is still recorded. No span carries a key, and none
// carries the prompt or the answer (capture_content is off).
func TestTraceparentDropRuleAndNoSecretsInSpans(t *testing.T) {
	rt, p, exp := newTracedRouter(t, false)
	prompt := "my secret prompt " + clientKey
	resp, body := post(t, rt.URL+"/v1/chat/completions", `{"model":"private","messages":[{"role":"user","content":"`+prompt+`"}]}`, traceHeaders())
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	resp, _ = post(t, rt.URL+"/v1/chat/completions", `{"model":"nope","messages":[{"role":"user","content":"Hi"}]}`, traceHeaders())
	if resp.StatusCode != 404 {
		t.Fatalf("unknown model: %d", resp.StatusCode)
	}
	waitRequests(t, rt, 2)
	if tp := p.up.last(t).Header.Get("Traceparent"); tp != "" {
		t.Errorf("the upstream got traceparent %q despite the drop rule", tp)
	}
	spans := exp.GetSpans()
	if len(spans) != 3 {
		t.Fatalf("%d spans, want 3", len(spans))
	}
	checkAttrs(t, "unknown model", attrs(spans[2].Attributes), map[string]any{"gen_ai.request.model": "nope", "error.type": "not_found",
		"http.response.status_code": 404, "llmrouter.route": nil})
	var all []string
	for _, s := range spans {
		all = append(all, s.Name)
		for _, kv := range s.Attributes {
			all = append(all, kv.Value.Emit())
		}
	}
	for _, secret := range []string{clientKey, "sk-model-key-0123456789abcdef", "secret prompt"} {
		if slices.ContainsFunc(all, func(s string) bool { return strings.Contains(s, secret) }) {
			t.Errorf("a span carries %q", secret)
		}
	}
}

// With capture_content, an attempt's span carries the prompt as sent upstream and
// the answer's text, in the conventions' JSON form, with the client's key, pasted
// into the prompt, masked; the server span carries neither.
func TestCapturedContentIsScrubbed(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tr, err := telemetry.New(context.Background(), telemetry.Config{CaptureContent: true}, telemetry.Options{Exporter: exp})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Shutdown(context.Background()) })
	p := newProviders(t)
	rt := newRouter(t, tracesConfig, p.up.URL, gateway.WithTracer(tr))
	resp, body := post(t, rt.URL+"/v1/chat/completions", `{"model":"claude-x","stream":true,"messages":[`+
		`{"role":"system","content":"Be brief."},{"role":"user","content":"my key is `+clientKey+`"}]}`, traceHeaders())
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	waitRequests(t, rt, 1)
	spans := exp.GetSpans()
	if len(spans) != 2 {
		t.Fatalf("%d spans", len(spans))
	}
	got := attrs(spans[0].Attributes)
	var in, out []map[string]any
	if err := json.Unmarshal([]byte(fmt.Sprint(got["gen_ai.input.messages"])), &in); err != nil {
		t.Fatalf("gen_ai.input.messages %v: %v", got["gen_ai.input.messages"], err)
	}
	if err := json.Unmarshal([]byte(fmt.Sprint(got["gen_ai.output.messages"])), &out); err != nil {
		t.Fatalf("gen_ai.output.messages %v: %v", got["gen_ai.output.messages"], err)
	}
	wantIn := `[{"parts":[{"content":"Be brief.","type":"text"}],"role":"system"},{"parts":[{"content":"my key is ` // the key follows, masked
	if b, _ := json.Marshal(in); !strings.HasPrefix(string(b), wantIn) || strings.Contains(string(b), clientKey) {
		t.Errorf("input messages %s", b)
	}
	if b, _ := json.Marshal(out); string(b) != `[{"finish_reason":"end_turn","parts":[{"content":"Hello there!","type":"text"}],"role":"assistant"}]` {
		t.Errorf("output messages %s", b)
	}
	if _, ok := attrs(spans[1].Attributes)["gen_ai.input.messages"]; ok {
		t.Error("the server span carries the prompt")
	}
}
