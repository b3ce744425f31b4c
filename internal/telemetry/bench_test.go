package telemetry

import (
	"context"
	"net/http"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// discard is an exporter that drops spans, so the benchmark measures span
// creation, attributes and propagation, not a collector.
type discard struct{}

func (discard) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discard) Shutdown(context.Context) error                             { return nil }

var stop = []string{"stop"}

// oneRequest is what the gateway does per request: continue the client's trace,
// one attempt span injected into the upstream headers, both ended with a result.
func oneRequest(tr *Tracer, client, upstream http.Header) {
	ctx, s := tr.StartRequest(context.Background(), client, Request{
		Operation: "chat", Model: "gpt-4o", Route: "gpt-4o", ClientAPI: "openai-chat", Stream: true, Method: "POST", Path: "/v1/chat/completions",
	})
	_, a := tr.StartAttempt(ctx, Attempt{Operation: "chat", Provider: "openai", Model: "gpt-4o", Route: "gpt-4o",
		Deployment: "gpt-4o-a", Number: 1, Endpoint: "https://api.openai.com/v1"})
	a.Inject(upstream)
	r := Result{Status: 200, ResponseModel: "gpt-4o-2024-08-06", FinishReasons: stop, Usage: Usage{Input: 812, Output: 95}}
	a.End(r)
	s.End(r)
}

// BenchmarkRequest compares tracing off (the baseline) with tracing on, every span
// sampled and handed to an exporter.
//
//	go test -run '^$' -bench BenchmarkRequest -benchmem ./internal/telemetry
func BenchmarkRequest(b *testing.B) {
	on, err := New(context.Background(), Config{}, Options{Exporter: discard{}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = on.Shutdown(context.Background()) })
	off, err := New(context.Background(), Config{}, Options{})
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		tr   *Tracer
	}{{"off", off}, {"on", on}} {
		b.Run(c.name, func(b *testing.B) {
			client := http.Header{"Traceparent": {"00-" + clientTrace + "-" + clientParent + "-01"}}
			upstream := http.Header{}
			b.ReportAllocs()
			for b.Loop() {
				oneRequest(c.tr, client, upstream)
			}
		})
	}
}
