package gateway

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/llmrouter/llmrouter/internal/balance"
	"github.com/llmrouter/llmrouter/internal/config"
	"github.com/llmrouter/llmrouter/internal/health"
	"github.com/llmrouter/llmrouter/internal/logging"
	"github.com/llmrouter/llmrouter/internal/metrics"
	"github.com/llmrouter/llmrouter/internal/telemetry"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// The seams the deployment groups and the key limits record through: a
// deployment ejected by a real balance.Group is counted once by its cause (a
// failed probe that keeps it out is not a new ejection), and a key's limit
// decisions by its name.
func TestEjectionsAndLimitDecisionsReachMetrics(t *testing.T) {
	cfg, err := config.Parse([]byte(`
server:
  api_keys: [{name: team-search, key: sk-team-0123456789abcdef}]
models:
  - {name: gpt-4o, id: gpt-4o-a, provider: openai, endpoint: http://127.0.0.1:1/v1}
  - {name: gpt-4o, id: gpt-4o-b, provider: openai, endpoint: http://127.0.0.1:2/v1}
`), "seams.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New()
	g, err := New(cfg, logging.New(cfg.Logging, io.Discard, nil), WithMetrics(m))
	if err != nil {
		t.Fatal(err)
	}
	g.ActivateMetrics()
	grp, err := balance.New([]balance.Spec{{Key: balance.Key{ID: "gpt-4o-a"}}, {Key: balance.Key{ID: "gpt-4o-b"}, Priority: 1}},
		balance.Options{Observer: g.healthObserver(), Health: health.Policy{Failures: 2}})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // gpt-4o-a has priority: picked until ejected
		a, err := grp.Pick(&balance.Request{})
		if err != nil || a.Deployment().ID != "gpt-4o-a" {
			t.Fatalf("pick: %v, %v", a.Deployment(), err)
		}
		a.Report(health.Result{Cause: health.FirstByteTimeout})
		a.Done()
	}
	g.keyMetrics("team-search").Denied(metrics.ScopeRPM)
	g.keyMetrics("").Admitted()

	srv := httptest.NewServer(g)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`llmrouter_deployment_ejections_total{cause="timeout",deployment_id="gpt-4o-a",gen_ai_provider_name="openai",gen_ai_request_model="gpt-4o"} 1`,
		`llmrouter_limit_decisions_total{api_key_name="team-search",decision="denied",scope="rpm"} 1`,
		`llmrouter_limit_decisions_total{api_key_name="unnamed",decision="admitted",scope="none"} 1`,
	} {
		if !strings.Contains(string(b), want+"\n") {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// Every health cause maps to a metrics cause of the fixed list, never the
// fallback value.
func TestEveryHealthCauseHasAMetricsCause(t *testing.T) {
	for c := health.Success; c <= health.ClientDeadline; c++ {
		if got := healthCause(c); got == metrics.CauseOther || (c != health.Success && got == metrics.CauseNone) {
			t.Errorf("health cause %s maps to %q", c, got)
		}
	}
}

// BenchmarkObservationHooks is what metrics add to one request, isolated from
// the rest of the request path: every hook a non-streaming request meets, in
// order, with its three body reads, recording into a real metrics.Set.
func BenchmarkObservationHooks(b *testing.B) {
	cfg, err := config.Parse([]byte("models:\n  - {name: gpt-4o, provider: openai, endpoint: http://127.0.0.1:1/v1}\n"), "bench.yaml")
	if err != nil {
		b.Fatal(err)
	}
	for _, on := range []bool{false, true} {
		var opts []Option
		if on {
			opts = append(opts, WithMetrics(metrics.New()))
		}
		g, err := New(cfg, logging.New(cfg.Logging, io.Discard, nil), opts...)
		if err != nil {
			b.Fatal(err)
		}
		g.ActivateMetrics()
		grp, _ := cfg.Routes.Lookup("gpt-4o")
		e := &g.endpoints[0]
		r := httptest.NewRequest(http.MethodPost, e.path, nil)
		out := &outbound{t: &g.targets[0], header: http.Header{}}
		body := make([]byte, 3<<10)
		buf := make([]byte, 1<<10)
		name := map[bool]string{false: "off", true: "metrics"}[on]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			handler := g.observe(e, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
			rec := &record{}
			sw := &statusWriter{ResponseWriter: httptest.NewRecorder()}
			rr := r.WithContext(context.WithValue(r.Context(), recordKey{}, rec))
			c := &call{g: g, r: rr, rec: rec, ep: e, model: "gpt-4o", group: grp}
			br := bytes.NewReader(body)
			resp := &http.Response{StatusCode: 200}
			for b.Loop() {
				*rec = record{model: "gpt-4o"}
				handler.ServeHTTP(sw, rr)
				rec.obs.routed(c)
				rec.obs.attemptStarts(c, out, 1)
				br.Reset(body)
				resp.Body = io.NopCloser(br)
				rec.obs.responded(resp)
				for {
					if _, err := resp.Body.Read(buf); err != nil {
						break
					}
				}
				rec.usage.Input, rec.usage.Output = 11, 7
				rec.obs.attemptEnded(r.Context(), c, outcome{done: true})
				sw.status = 200
				g.observed(rr, rec, sw)
			}
		})
	}
}

// The fallback seam, driven as the deployments' picker will drive it (it is not
// on this branch, so the attempts are made by hand, not by run): an attempt on
// another model after a failure is a fallback, counted with the failure's cause
// or the one the picker names, and its span says where it came from; an attempt
// on the same model is a retry.
func TestFallbackSeam(t *testing.T) {
	cfg, err := config.Parse([]byte(`
models:
  - {name: gpt-4o, provider: openai, endpoint: http://127.0.0.1:1/v1}
  - {name: claude-x, provider: anthropic, endpoint: http://127.0.0.1:2}
  - {name: llama3, provider: ollama, endpoint: http://127.0.0.1:3}
`), "fallback.yaml")
	if err != nil {
		t.Fatal(err)
	}
	exp := tracetest.NewInMemoryExporter()
	tr, err := telemetry.New(context.Background(), telemetry.Config{}, telemetry.Options{Exporter: exp})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Shutdown(context.Background()) })
	m := metrics.New()
	g, err := New(cfg, logging.New(cfg.Logging, io.Discard, nil), WithMetrics(m), WithTracer(tr))
	if err != nil {
		t.Fatal(err)
	}
	g.ActivateMetrics()
	srv := httptest.NewServer(g)
	defer srv.Close()

	rec := &record{model: "gpt-4o"}
	r := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", nil)
	r = r.WithContext(context.WithValue(r.Context(), recordKey{}, rec))
	sw := &statusWriter{ResponseWriter: httptest.NewRecorder()}
	g.observe(&g.endpoints[0], http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})).ServeHTTP(sw, r)
	grp, _ := cfg.Routes.Lookup("gpt-4o")
	c := &call{g: g, r: r, rec: rec, ep: &g.endpoints[0], model: "gpt-4o", group: grp}
	rec.obs.routed(c)
	for i, step := range []struct {
		target int
		status int    // the upstream's answer
		name   string // a cause the picker names for this attempt's fallback, if any
	}{{0, 503, ""}, {0, 429, ""}, {1, 400, ""}, {2, 200, "context_window"}} {
		out := &outbound{t: &g.targets[step.target], header: http.Header{}}
		if step.name != "" {
			rec.obs.fallingBack(metrics.CauseContextWindow)
		}
		rec.obs.attemptStarts(c, out, i+1)
		rec.obs.responded(&http.Response{StatusCode: step.status, Body: http.NoBody})
		rec.obs.attemptEnded(r.Context(), c, outcome{done: step.status == 200, status: step.status})
	}
	sw.status = 200
	g.observed(r, rec, sw)

	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`llmrouter_upstream_retries_total{cause="server_error",deployment_id="gpt-4o#1",gen_ai_provider_name="openai",gen_ai_request_model="gpt-4o"} 1`,
		`llmrouter_fallbacks_total{cause="rate_limited",fallback_model="claude-x",gen_ai_request_model="gpt-4o"} 1`,
		`llmrouter_fallbacks_total{cause="context_window",fallback_model="llama3",gen_ai_request_model="claude-x"} 1`,
		`llmrouter_requests_total{client_api="openai-chat",deployment_id="llama3#1",gen_ai_provider_name="ollama",gen_ai_request_model="gpt-4o",status_class="2xx",stream="false"} 1`,
	} {
		if !strings.Contains(string(b), want+"\n") {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	spans := exp.GetSpans()
	if len(spans) != 5 {
		t.Fatalf("%d spans, want 4 attempts and the server span", len(spans))
	}
	for i, want := range []map[string]string{
		{"llmrouter.attempt": "1"},
		{"llmrouter.attempt": "2", "llmrouter.retry.cause": "server_error"},
		{"llmrouter.attempt": "3", "llmrouter.fallback.from": "gpt-4o", "llmrouter.fallback.cause": "rate_limited", "gen_ai.provider.name": "anthropic"},
		{"llmrouter.attempt": "4", "llmrouter.fallback.from": "claude-x", "llmrouter.fallback.cause": "context_window", "llmrouter.deployment": "llama3#1"},
	} {
		got := map[string]string{}
		for _, kv := range spans[i].Attributes {
			got[string(kv.Key)] = kv.Value.Emit()
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("attempt %d: %s = %q, want %q", i+1, k, got[k], v)
			}
		}
	}
}
