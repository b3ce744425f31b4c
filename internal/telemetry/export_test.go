package telemetry

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// export is one OTLP/HTTP export request as the receiver decoded it.
type export struct {
	path, contentType string
	req               *coltracepb.ExportTraceServiceRequest
}

// otlpReceiver is an in-process OTLP/HTTP collector: it decodes each protobuf
// export request and answers as a collector does.
func otlpReceiver(t *testing.T) (*httptest.Server, chan export) {
	t.Helper()
	got := make(chan export, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		req := &coltracepb.ExportTraceServiceRequest{}
		if err := proto.Unmarshal(body, req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		got <- export{path: r.URL.Path, contentType: r.Header.Get("Content-Type"), req: req}
		out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

// clearEnv unsets every variable New reads, so that the machine's environment does
// not decide a test.
func clearEnv(t *testing.T) {
	t.Helper()
	for _, name := range []string{
		"OTEL_SDK_DISABLED", "OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
		"OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES",
		"OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER_ARG", "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
	} {
		t.Setenv(name, "")
	}
}

// emit starts and ends one request with one attempt, then shuts the tracer down,
// which flushes the batch to the collector before it returns.
func emit(t *testing.T, tr *Tracer) {
	t.Helper()
	ctx, s := tr.StartRequest(context.Background(), http.Header{}, Request{Operation: "chat", Model: "gpt-4o"})
	_, a := tr.StartAttempt(ctx, Attempt{Operation: "chat", Provider: "openai", Model: "gpt-4o", Deployment: "gpt-4o-a", Number: 1})
	a.End(Result{Status: 200, Usage: Usage{Input: 12, Output: 3}})
	s.End(Result{Status: 200})
	if err := tr.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestExportsToTheConfiguredEndpoint(t *testing.T) {
	tests := []struct {
		name     string
		endpoint string            // Config.Endpoint, from the receiver's URL
		env      map[string]string // values with {url} replaced by the receiver's URL
		path     string            // the path the collector must see
		service  string
	}{
		{name: "yaml base URL", endpoint: "{url}", path: "/v1/traces", service: "llmrouter"},
		{name: "yaml full URL", endpoint: "{url}/custom/traces", path: "/custom/traces", service: "llmrouter"},
		{name: "OTEL_EXPORTER_OTLP_ENDPOINT", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "{url}", "OTEL_SERVICE_NAME": "gw-eu"}, path: "/v1/traces", service: "gw-eu"},
		{name: "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", env: map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "{url}/otlp/v1/traces"}, path: "/otlp/v1/traces", service: "llmrouter"},
		{name: "yaml wins over the environment", endpoint: "{url}", env: map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:1/v1/traces"}, path: "/v1/traces", service: "llmrouter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			srv, got := otlpReceiver(t)
			fill := func(s string) string { return strings.ReplaceAll(s, "{url}", srv.URL) }
			for k, v := range tt.env {
				t.Setenv(k, fill(v))
			}
			tr, err := New(context.Background(), Config{Endpoint: fill(tt.endpoint)}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if !tr.Enabled() {
				t.Fatal("tracing is off")
			}
			emit(t, tr)
			checkExport(t, collect(got), tt.path, tt.service)
		})
	}
}

// collect takes every export already received (Shutdown has flushed them all).
func collect(got chan export) []export {
	var out []export
	for {
		select {
		case e := <-got:
			out = append(out, e)
		default:
			return out
		}
	}
}

func checkExport(t *testing.T, exports []export, path, service string) {
	t.Helper()
	if len(exports) == 0 {
		t.Fatal("the collector received nothing")
	}
	var spans []*tracepb.Span
	for _, e := range exports {
		if e.path != path || e.contentType != "application/x-protobuf" {
			t.Errorf("export to %s as %s, want %s as application/x-protobuf", e.path, e.contentType, path)
		}
		for _, rs := range e.req.GetResourceSpans() {
			if got := attr(rs.GetResource().GetAttributes(), "service.name").GetStringValue(); got != service {
				t.Errorf("service.name %q, want %q", got, service)
			}
			for _, ss := range rs.GetScopeSpans() {
				spans = append(spans, ss.GetSpans()...)
			}
		}
	}
	if len(spans) != 2 {
		t.Fatalf("%d spans exported, want 2", len(spans))
	}
	attempt, server := spans[0], spans[1]
	if server.GetKind() != tracepb.Span_SPAN_KIND_SERVER || attempt.GetKind() != tracepb.Span_SPAN_KIND_CLIENT {
		t.Errorf("kinds %v, %v", server.GetKind(), attempt.GetKind())
	}
	if string(attempt.GetParentSpanId()) != string(server.GetSpanId()) {
		t.Error("the attempt span is not the server span's child")
	}
	if got := attr(attempt.GetAttributes(), "gen_ai.usage.input_tokens").GetIntValue(); got != 12 {
		t.Errorf("exported gen_ai.usage.input_tokens = %d, want 12", got)
	}
}

func attr(kvs []*commonpb.KeyValue, key string) *commonpb.AnyValue {
	for _, kv := range kvs {
		if kv.GetKey() == key {
			return kv.GetValue()
		}
	}
	return nil
}

// TestOffUnlessConfigured: with nothing configured, or with the SDK disabled by
// the environment, New returns a tracer that starts nothing and leaves headers alone;
// an environment asking for what we do not support is an error.
func TestOffUnlessConfigured(t *testing.T) {
	tests := []struct {
		name     string
		endpoint string
		env      map[string]string
		err      error
	}{
		{name: "nothing configured"},
		{name: "SDK disabled", endpoint: "http://127.0.0.1:4318", env: map[string]string{"OTEL_SDK_DISABLED": "true"}},
		{name: "exporter none", endpoint: "http://127.0.0.1:4318", env: map[string]string{"OTEL_TRACES_EXPORTER": "none"}},
		{name: "exporter zipkin", endpoint: "http://127.0.0.1:4318", env: map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"}, err: ErrExporter},
		{name: "gRPC protocol", endpoint: "http://127.0.0.1:4318", env: map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, err: ErrProtocol},
		{name: "endpoint without scheme", endpoint: "collector:4318", err: ErrEndpoint},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			tr, err := New(context.Background(), Config{Endpoint: tt.endpoint}, Options{})
			if !errors.Is(err, tt.err) {
				t.Fatalf("New: %v, want %v", err, tt.err)
			}
			if tr.Enabled() {
				t.Fatal("tracing is on")
			}
			ctx := context.Background()
			hdr := clientHeaders("01")
			got, s := tr.StartRequest(ctx, hdr, Request{Operation: "chat", Model: "m"})
			if s != nil || got != ctx {
				t.Error("an off tracer started a span or changed the context")
			}
			_, a := tr.StartAttempt(got, Attempt{})
			up := http.Header{}
			a.Inject(up)
			a.End(Result{})
			s.End(Result{})
			if len(up) != 0 {
				t.Errorf("an off tracer wrote headers: %v", up)
			}
		})
	}
}
