package gateway_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/llmrouter/llmrouter/internal/gateway"
	"github.com/llmrouter/llmrouter/internal/metrics"
	"github.com/llmrouter/llmrouter/internal/telemetry"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Metrics and traces of what the plan does (plan.go): a move to the next
// deployment, a fallback for a retryable failure and one along a
// context-window chain, an ejection, and the limit decisions of a key.

// fallbackChain is gpt-4o on two deployments (a, tried first, then b), falling
// back to claude-x for retryable failures and to llama3 for context-window
// overflows (of claude-x too: the requested model's chains apply to its
// fallbacks).
const fallbackChain = `
server:
  metrics_key: ` + metricsKey + `
routing:
  health: {failures: 1000}
  fallbacks: {gpt-4o: [claude-x]}
  context_window_fallbacks: {gpt-4o: [llama3]}
defaults:
  retry: {attempts: 1}
models:
  - {name: gpt-4o, id: gpt-4o-a, provider: openai, endpoint: "{{UP}}/a/v1", priority: 0}
  - {name: gpt-4o, id: gpt-4o-b, provider: openai, endpoint: "{{UP}}/b/v1", priority: 1}
  - {name: claude-x, provider: anthropic, endpoint: "{{UP}}/claude"}
  - {name: llama3, provider: ollama, endpoint: "{{UP}}/ollama"}
`

// One request walks the whole chain: gpt-4o-a answers 503, gpt-4o-b 429 (the
// model is spent), claude-x's prompt is too long, llama3 answers. Each step is
// counted with its cause, and each attempt is a span under the request's, with
// the same trace sent upstream.
func TestFallbackChainMetricsAndSpans(t *testing.T) {
	up := newUpstream(t, byDeployment(map[string]http.HandlerFunc{
		"a":      jsonReply(503, oaOverloaded503),
		"b":      jsonReply(429, oaRateLimited),
		"claude": jsonReply(400, string(fixture(t, "errors/anthropic-prompt-too-long-400.json"))),
		"ollama": replay(200, "application/json", fixture(t, "ollama-real/api_chat_nostream.body")),
	}))
	exp := tracetest.NewInMemoryExporter()
	tr, err := telemetry.New(context.Background(), telemetry.Config{}, telemetry.Options{Exporter: exp})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Shutdown(context.Background()) })
	rt := newRouter(t, fallbackChain, up.URL, gateway.WithMetrics(metrics.New()), gateway.WithTracer(tr))
	o := observe(t, rt)
	resp, body := post(t, o.URL+"/v1/chat/completions", chatReq, map[string]string{"Traceparent": "00-" + clientTrace + "-" + clientParent + "-01"})
	o.waitServed(t)
	if resp.StatusCode != 200 || resp.Header.Get("X-Llmrouter-Deployment") != "llama3#1" {
		t.Fatalf("%d from %q: %s", resp.StatusCode, resp.Header.Get("X-Llmrouter-Deployment"), body)
	}
	fams := scrapeMetrics(t, rt.URL)
	check(t, fams, "llmrouter_upstream_retries_total", map[float64][]labels{1: {
		{"gen_ai_request_model": "gpt-4o", "deployment_id": "gpt-4o-a", "cause": "server_error"}}})
	check(t, fams, "llmrouter_fallbacks_total", map[float64][]labels{1: {
		{"gen_ai_request_model": "gpt-4o", "fallback_model": "claude-x", "cause": "rate_limited"},
		{"gen_ai_request_model": "claude-x", "fallback_model": "llama3", "cause": "context_window"}}})
	check(t, fams, "llmrouter_upstream_attempts_total", map[float64][]labels{1: {
		{"deployment_id": "gpt-4o-a", "error_type": "server_error"},
		{"deployment_id": "gpt-4o-b", "error_type": "rate_limited"},
		{"deployment_id": "claude-x#1", "error_type": "context_window", "gen_ai_provider_name": "anthropic"},
		{"deployment_id": "llama3#1", "gen_ai_provider_name": "ollama"}}})
	// The request is the client's model's, answered by the last deployment.
	check(t, fams, "llmrouter_requests_total", map[float64][]labels{1: {
		{"gen_ai_request_model": "gpt-4o", "deployment_id": "llama3#1", "status_class": "2xx"}}})
	checkChainSpans(t, exp, up)
}

// checkChainSpans: four attempt spans under one server span continuing the
// client's trace, each saying where it stands in the chain, each attempt's
// traceparent sent upstream.
func checkChainSpans(t *testing.T, exp *tracetest.InMemoryExporter, up *upstream) {
	t.Helper()
	spans := exp.GetSpans()
	if len(spans) != 5 {
		t.Fatalf("%d spans, want 4 attempts and the server span", len(spans))
	}
	server := spans[4]
	if server.SpanContext.TraceID().String() != clientTrace || server.Parent.SpanID().String() != clientParent {
		t.Errorf("server span %s under %s, want the client's trace", server.SpanContext.TraceID(), server.Parent.SpanID())
	}
	wants := []map[string]any{
		{"llmrouter.attempt": 1, "llmrouter.deployment": "gpt-4o-a", "error.type": "server_error", "llmrouter.retry.cause": nil},
		{"llmrouter.attempt": 2, "llmrouter.deployment": "gpt-4o-b", "llmrouter.retry.cause": "server_error", "error.type": "rate_limited"},
		{"llmrouter.attempt": 3, "gen_ai.provider.name": "anthropic", "llmrouter.fallback.from": "gpt-4o",
			"llmrouter.fallback.cause": "rate_limited", "error.type": "context_window"},
		{"llmrouter.attempt": 4, "gen_ai.provider.name": "ollama", "llmrouter.fallback.from": "claude-x",
			"llmrouter.fallback.cause": "context_window", "llmrouter.deployment": "llama3#1", "error.type": nil},
	}
	reqs := up.requests()
	if len(reqs) != 4 {
		t.Fatalf("upstream got %d requests, want 4", len(reqs))
	}
	for i, want := range wants {
		sp := spans[i]
		checkAttrs(t, fmt.Sprintf("attempt %d", i+1), attrs(sp.Attributes), want)
		if sp.Parent.SpanID() != server.SpanContext.SpanID() {
			t.Errorf("attempt %d is not a child of the server span", i+1)
		}
		tp := reqs[i].Header.Get("Traceparent")
		if !strings.Contains(tp, clientTrace+"-"+sp.SpanContext.SpanID().String()) {
			t.Errorf("attempt %d sent traceparent %q, want its own span's", i+1, tp)
		}
	}
}

// ejectAndLimit: team-a may send one request a minute and only to gpt-4o;
// gpt-4o's deployment "down" leaves rotation at its first failure.
const ejectAndLimit = `
server:
  metrics_key: ` + metricsKey + `
  api_keys:
    - {name: team-a, key: ` + teamAKey + `, rpm: 1, models: [gpt-4o]}
    - ` + plainKey + `
routing:
  health: {failures: 1, cooldown: 1h}
defaults:
  retry: {attempts: 1}
models:
  - {name: gpt-4o, id: down, provider: openai, endpoint: "{{UP}}/down/v1", priority: 0}
  - {name: gpt-4o, id: up, provider: openai, endpoint: "{{UP}}/up/v1", priority: 1}
  - {name: claude-x, provider: anthropic, endpoint: "{{UP}}/claude"}
`

// An ejection is counted once, by its cause, by the balancer's observer (the
// log still hears of it); a key's limit decisions are counted by its name: the
// request admitted, the next one over its rpm, a model it may not use.
func TestEjectionAndLimitDecisionMetrics(t *testing.T) {
	up := newUpstream(t, byDeployment(map[string]http.HandlerFunc{
		"down": jsonReply(503, oaOverloaded503), "up": jsonReply(200, okBody),
	}))
	rt := newRouter(t, ejectAndLimit, up.URL, gateway.WithMetrics(metrics.New()), withClock(newClock(limitStart)))
	for i, want := range []int{200, 429} {
		resp, body := sendAs(t, rt.URL, teamAKey, false, "gpt-4o", false)
		if resp.StatusCode != want {
			t.Fatalf("request %d: %d, want %d: %s", i+1, resp.StatusCode, want, body)
		}
	}
	if resp, body := sendAs(t, rt.URL, teamAKey, false, "claude-x", false); resp.StatusCode != 404 {
		t.Fatalf("a model team-a may not use: %d: %s", resp.StatusCode, body)
	}
	if resp, body := sendAs(t, rt.URL, plainKey, false, "gpt-4o", false); resp.StatusCode != 200 {
		t.Fatalf("plain key: %d: %s", resp.StatusCode, body)
	}
	fams := scrapeMetrics(t, rt.URL)
	check(t, fams, "llmrouter_deployment_ejections_total", map[float64][]labels{1: {
		{"deployment_id": "down", "gen_ai_request_model": "gpt-4o", "cause": "server_error"}}})
	check(t, fams, "llmrouter_limit_decisions_total", map[float64][]labels{1: {
		{"api_key_name": "team-a", "scope": "none", "decision": "admitted"},
		{"api_key_name": "team-a", "scope": "rpm", "decision": "denied"},
		{"api_key_name": "team-a", "scope": "model", "decision": "denied"}}})
	if n := len(find(fams, "llmrouter_limit_decisions_total", labels{"api_key_name": "unnamed"})); n != 0 {
		t.Errorf("%d decision series for the plain key, which has no limits", n)
	}
	if !strings.Contains(rt.log.String(), `"msg":"deployment ejected"`) {
		t.Error("the ejection is not logged any more")
	}
	if strings.Contains(scrapeText(t, rt.URL), teamAKey) {
		t.Error("/metrics shows a key")
	}
}

// scrapeText GETs /metrics with the metrics key, as text.
func scrapeText(t *testing.T, url string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+metricsKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// Waiting for a cooling deployment's recovery is upstream time, not the
// router's own: in a bubble (where the router's work takes no time) the
// request that waited 3 s for the probe has an overhead of 0, and the
// ejection that made it wait is counted.
func TestHoldForRecoveryIsNotOverhead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFleet(map[string]func(*http.Request) (*http.Response, error){"only": reply(500, oaOverloaded503)})
		g, _ := bubbleRouter(t, oneDeployment("3s", "{total: 10m}"), f, gateway.WithMetrics(metrics.New()))
		g.ActivateMetrics()
		ask(g, "/v1/chat/completions", chatReq)
		f.set("only", reply(200, okBody))
		if got := ask(g, "/v1/chat/completions", chatReq); got.status != 200 {
			t.Fatalf("%d: %s", got.status, got.body)
		}
		w := httptest.NewRecorder()
		g.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		parser := expfmt.NewTextParser(model.UTF8Validation)
		fams, err := parser.TextToMetricFamilies(w.Body)
		if err != nil {
			t.Fatal(err)
		}
		if d := histogramSum(fams, "gen_ai_server_request_duration_seconds", labels{}); d != 3 {
			t.Errorf("requests took %vs in all, want the 3s of the hold", d)
		}
		if o := histogramSum(fams, "llmrouter_overhead_seconds", labels{}); o != 0 {
			t.Errorf("overhead %vs, want 0: the hold is upstream time", o)
		}
		check(t, fams, "llmrouter_deployment_ejections_total", map[float64][]labels{1: {{"deployment_id": "gpt-4o#1", "cause": "server_error"}}})
	})
}

// responsesConfig is gpt-4o, whose OpenAI upstream speaks the Responses API.
const responsesConfig = `
server:
  metrics_key: ` + metricsKey + `
models:
  - {name: gpt-4o, provider: openai, endpoint: "{{UP}}/v1"}
`

// The Responses API is counted and traced like the others: a new response,
// streamed or not, is a chat with the upstream's usage and finish reason; a
// call on a stored response is its own client API and operation.
func TestResponsesMetricsAndSpans(t *testing.T) {
	up := responsesMetered(t)
	exp := tracetest.NewInMemoryExporter()
	tr, err := telemetry.New(context.Background(), telemetry.Config{}, telemetry.Options{Exporter: exp})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Shutdown(context.Background()) })
	rt := newRouter(t, responsesConfig, up.URL, gateway.WithMetrics(metrics.New()), gateway.WithTracer(tr))
	o := observe(t, rt)
	for _, stream := range []bool{false, true} {
		resp, body := post(t, o.URL+"/v1/responses", fmt.Sprintf(`{"model":"gpt-4o","input":"hi","stream":%v}`, stream), nil)
		o.waitServed(t)
		if resp.StatusCode != 200 {
			t.Fatalf("stream %v: %d %s", stream, resp.StatusCode, body)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, o.URL+"/v1/responses/resp_0123", nil)
	req.Header.Set("X-Llmrouter-Model", "gpt-4o")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	o.waitServed(t)
	fams := scrapeMetrics(t, rt.URL)
	check(t, fams, "llmrouter_requests_total", map[float64][]labels{
		1: {{"client_api": "openai-responses", "stream": "true", "status_class": "2xx"},
			{"client_api": "openai-responses", "stream": "false", "status_class": "2xx"},
			{"client_api": "openai-responses-stored", "status_class": "2xx"}}})
	check(t, fams, "llmrouter_tokens_total", map[float64][]labels{
		2 * meteredInput:  {{"gen_ai_request_model": "gpt-4o", "gen_ai_token_type": "input"}},
		2 * meteredOutput: {{"gen_ai_request_model": "gpt-4o", "gen_ai_token_type": "output"}}})
	check(t, fams, "llmrouter_upstream_attempts_total", map[float64][]labels{
		2: {{"gen_ai_operation_name": "chat"}}, 1: {{"gen_ai_operation_name": "stored_response"}}})
	spans := exp.GetSpans()
	if len(spans) != 6 {
		t.Fatalf("%d spans, want 3 requests of one attempt each", len(spans))
	}
	for _, i := range []int{0, 2} { // the attempts of the two new responses
		checkAttrs(t, fmt.Sprintf("attempt span %d", i), attrs(spans[i].Attributes), map[string]any{
			"gen_ai.operation.name": "chat", "gen_ai.response.model": "gpt-4o-2024-08-06",
			"gen_ai.response.finish_reasons": []string{"completed"}, "gen_ai.usage.input_tokens": meteredInput})
	}
}
