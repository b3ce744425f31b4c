package gateway

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/llmrouter/llmrouter/internal/config"
	"github.com/llmrouter/llmrouter/internal/health"
	"github.com/llmrouter/llmrouter/internal/logging"
	"github.com/llmrouter/llmrouter/internal/metrics"
)

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
			sw := &statusWriter{ResponseWriter: httptest.NewRecorder(), x: &exchange{}}
			rec := &sw.x.rec // what the hooks find through sw (exchangeOf)
			rr := r
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
				rec.obs.attemptEnded(nil, c, outcome{done: true})
				sw.status = 200
				g.observed(rr, rec, sw)
			}
		})
	}
}
