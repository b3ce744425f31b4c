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
