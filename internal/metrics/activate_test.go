package metrics

import (
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

func answer(r *Route, h *Handle, api API, stream bool) {
	q := r.Start(api, stream)
	q.Attempt(Attempt{Deployment: h, Duration: time.Millisecond})
	q.Done(Outcome{Deployment: h, Status: 200, Duration: time.Millisecond, Usage: Usage{Input: 10, Output: 2}})
}

// TestActivateKeepsUnchangedSeries is the hot-reload contract: a new config's Set
// continues the counters of every series it still configures, a request in flight
// across the swap brings the gauge back to 0, and the series of a removed model, a
// removed key and a deployment whose provider changed disappear.
func TestActivateKeepsUnchangedSeries(t *testing.T) {
	m := New()
	srv := serve(t, m, "")
	old := build(t, m, Config{
		Deployments: []Deployment{
			{Model: "gpt-4o", ID: "a", Provider: "openai"},
			{Model: "gpt-4o", ID: "b", Provider: "openai"},
			{Model: "claude", ID: "c", Provider: "anthropic"},
		},
		Keys: []string{"team-search", "old-team"},
	})
	gpt := old.Route("gpt-4o")
	answer(gpt, old.Deployment("a"), APIChat, false)
	answer(gpt, old.Deployment("b"), APIChat, false)
	answer(old.Route("claude"), old.Deployment("c"), APIMessages, false)
	q := gpt.Start(APIChat, false)
	q.Fallback(old.Route("claude"), CauseServerError)
	q.Done(Outcome{Deployment: old.Deployment("c"), Status: 200})
	old.Key("team-search").Admitted()
	old.Key("old-team").Admitted()
	inFlight := gpt.Start(APIChat, true) // a stream that outlives the reload

	next, err := m.Build(Config{
		Deployments: []Deployment{
			{Model: "gpt-4o", ID: "a", Provider: "openai"},
			{Model: "gpt-4o", ID: "b", Provider: "anthropic"},
			{Model: "llama", ID: "d", Provider: "ollama"},
		},
		Keys: []string{"team-search"},
	})
	if err != nil {
		t.Fatal(err)
	}
	m.Activate(next)
	answer(next.Route("gpt-4o"), next.Deployment("a"), APIChat, false)
	next.Key("team-search").Admitted()
	inFlight.Done(Outcome{Deployment: old.Deployment("a"), Status: 200})

	fams := scrape(t, srv.URL)
	kept := []struct {
		name   string
		labels map[string]string
		value  float64
	}{
		{"llmrouter_requests_total", map[string]string{labelModel: "gpt-4o", labelDeployment: "a", labelStream: "false"}, 2},
		{"llmrouter_upstream_attempts_total", map[string]string{labelModel: "gpt-4o", labelDeployment: "a"}, 2},
		{"llmrouter_tokens_total", map[string]string{labelModel: "gpt-4o", labelDeployment: "a", labelTokenType: "input"}, 20},
		{"llmrouter_limit_decisions_total", map[string]string{labelKey: "team-search"}, 2},
		{"llmrouter_requests_in_flight", map[string]string{labelModel: "gpt-4o", labelAPI: "openai-chat"}, 0},
		{"llmrouter_streams_in_flight", map[string]string{labelModel: "gpt-4o", labelAPI: "openai-chat"}, 0},
	}
	for _, w := range kept {
		if got := value(t, fams, w.name, w.labels); got != w.value {
			t.Errorf("%s%v = %v, want %v", w.name, w.labels, got, w.value)
		}
	}
	gone := []map[string]string{
		{labelModel: "claude"},
		{labelFallbackTo: "claude"},
		{labelDeployment: "c"},
		{labelDeployment: "b", labelProvider: "openai"},
		{labelKey: "old-team"},
	}
	for _, labels := range gone {
		for name, f := range fams {
			for _, s := range f.GetMetric() {
				if hasLabels(s, labels) && hasAll(s, labels) {
					t.Errorf("%s%v survived the reload", name, labelsOf(s))
				}
			}
		}
	}
}

// hasAll reports whether the series carries every label name of want (hasLabels
// treats an absent label as "", which a retired value never is).
func hasAll(m *dto.Metric, want map[string]string) bool {
	n := 0
	for _, l := range m.GetLabel() {
		if _, ok := want[l.GetName()]; ok {
			n++
		}
	}
	return n == len(want)
}

func labelsOf(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}

// TestActivateDuringTraffic swaps Sets (one of them retiring a model, so series are
// deleted) while requests record on both, under the race detector; every request
// started is finished, so the gauges end at 0 and no request is lost.
func TestActivateDuringTraffic(t *testing.T) {
	m := New()
	noClaude := testConfig()
	noClaude.Deployments = noClaude.Deployments[:2]
	sets := []*Set{build(t, m, testConfig()), build(t, m, noClaude)}
	record(sets[0], "claude-*", "claude#1", "team-search")
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 500 {
				s := sets[(i+w)%2]
				answer(s.Route("gpt-4o"), s.Deployment("gpt-4o-a"), APIChat, i%2 == 0)
			}
		})
	}
	for i := range 50 {
		m.Activate(sets[i%2])
	}
	wg.Wait()
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != "llmrouter_requests_in_flight" && f.GetName() != "llmrouter_streams_in_flight" {
			continue
		}
		for _, s := range f.GetMetric() {
			if v := s.GetGauge().GetValue(); v != 0 {
				t.Errorf("%s%v = %v after all requests ended", f.GetName(), labelsOf(s), v)
			}
		}
	}
	if got := value(t, map[string]*dto.MetricFamily{"x": fam(fams, "llmrouter_requests_total")}, "x",
		map[string]string{labelDeployment: "gpt-4o-a", labelStream: "true"}); got != 1000 {
		t.Errorf("streams counted %v, want 1000", got)
	}
}

func fam(fams []*dto.MetricFamily, name string) *dto.MetricFamily {
	for _, f := range fams {
		if f.GetName() == name {
			return f
		}
	}
	return nil
}
