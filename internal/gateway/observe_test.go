package gateway

import (
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
