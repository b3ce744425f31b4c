package metrics

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// testConfig is two models: gpt-4o with two OpenAI deployments, claude with one
// Anthropic deployment, and one named key.
func testConfig() Config {
	return Config{
		Deployments: []Deployment{
			{Model: "gpt-4o", ID: "gpt-4o-a", Provider: "openai"},
			{Model: "gpt-4o", ID: "gpt-4o-b", Provider: "openai"},
			{Model: "claude-*", ID: "claude#1", Provider: "anthropic"},
		},
		Keys: []string{"team-search"},
	}
}

func build(t testing.TB, m *Metrics, cfg Config) *Set {
	t.Helper()
	s, err := m.Build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m.Activate(s)
	return s
}

// scrape GETs the metrics endpoint of a real server and parses the exposition.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("scrape: %s: %s", resp.Status, b)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return fams
}

func serve(t *testing.T, m *Metrics, key string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(m.Handler(key))
	t.Cleanup(srv.Close)
	return srv
}

// series finds the one series of family name whose labels include want; ok is false
// when there is none.
func series(fams map[string]*dto.MetricFamily, name string, want map[string]string) (*dto.Metric, bool) {
	f := fams[name]
	if f == nil {
		return nil, false
	}
	for _, m := range f.GetMetric() {
		if hasLabels(m, want) {
			return m, true
		}
	}
	return nil, false
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	got := map[string]string{}
	for _, l := range m.GetLabel() {
		got[l.GetName()] = l.GetValue()
	}
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}

// value returns a counter's or gauge's value, or a histogram's sample count.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	t.Helper()
	m, ok := series(fams, name, want)
	if !ok {
		t.Fatalf("no series %s%v; have:\n%s", name, want, describe(fams[name]))
	}
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	}
	t.Fatalf("series %s%v has no value", name, want)
	return 0
}

func describe(f *dto.MetricFamily) string {
	if f == nil {
		return "  (no family)"
	}
	var lines []string
	for _, m := range f.GetMetric() {
		var ls []string
		for _, l := range m.GetLabel() {
			ls = append(ls, l.GetName()+"="+l.GetValue())
		}
		lines = append(lines, "  {"+strings.Join(ls, ",")+"}")
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// seriesCount counts every exported series (a histogram counts once per label set).
func seriesCount(t *testing.T, m *Metrics) int {
	t.Helper()
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range fams {
		n += len(f.GetMetric())
	}
	return n
}
