package gateway

import (
	"io"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/llmrouter/llmrouter/internal/config"
	"github.com/llmrouter/llmrouter/internal/logging"
)

const routeBenchConfig = `
models:
  - {name: solo, provider: openai, endpoint: http://127.0.0.1:1/v1}
  - {name: four, id: f1, provider: openai, endpoint: http://127.0.0.1:1/a/v1, weight: 3}
  - {name: four, id: f2, provider: openai, endpoint: http://127.0.0.1:1/b/v1}
  - {name: four, id: f3, provider: openai, endpoint: http://127.0.0.1:1/c/v1}
  - {name: four, id: f4, provider: openai, endpoint: http://127.0.0.1:1/d/v1, priority: 1}
  - {name: "claude-*", provider: anthropic, endpoint: http://127.0.0.1:1}
`

// BenchmarkRoutingDecision is what routing adds to a request that succeeds at
// its first attempt: the model's group looked up, the plan started, a
// deployment picked, its success reported at the commit point, the attempt
// settled (in-flight slot freed, the try listed for the access log). "solo" is
// a one-deployment model (every config before deployments existed), "four" a
// weighted group with a priority fallback, "glob" a model only a glob serves.
// The call, its record and its upstream request exist for every request
// anyway and are not counted.
func BenchmarkRoutingDecision(b *testing.B) {
	cfg, err := config.Parse([]byte(routeBenchConfig), "bench.yaml")
	if err != nil {
		b.Fatal(err)
	}
	g, err := New(cfg, logging.New(cfg.Logging, io.Discard, nil))
	if err != nil {
		b.Fatal(err)
	}
	r := httptest.NewRequest("POST", "/v1/chat/completions", nil)
	deadline := time.Now().Add(time.Hour)
	for _, model := range []string{"solo", "four", "claude-sonnet-4-5"} {
		name := map[string]string{"solo": "solo", "four": "four", "claude-sonnet-4-5": "glob"}[model]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			c, rec, out := new(call), new(record), new(outbound) // every request has them already
			for b.Loop() {
				*c, *rec = call{g: g, r: r, rec: rec, model: model}, record{}
				grp, ok := g.lookup(model)
				if !ok {
					b.Fatal("no route")
				}
				c.startPlan(grp)
				pk, t, ok := c.next(deadline)
				if !ok {
					b.Fatal("no pick")
				}
				out.t = t
				c.cur = current{pick: pk, to: out, sent: time.Now()}
				c.committed()
				c.settle(outcome{done: true})
			}
		})
	}
}
