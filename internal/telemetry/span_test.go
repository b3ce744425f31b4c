package telemetry

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

const (
	clientTrace  = "4bf92f3577b34da6a3ce929d0e0e4736"
	clientParent = "00f067aa0ba902b7"
	clientKey    = "sk-client-0123456789abcdef0123"
	upstreamKey  = "sk-upstream-abcdef0123456789abcd"
)

func newRecorder(t *testing.T, cfg Config, o Options) (*Tracer, *tracetest.InMemoryExporter) {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	o.Exporter = exp
	tr, err := New(context.Background(), cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Shutdown(context.Background()) })
	return tr, exp
}

func clientHeaders(flags string) http.Header {
	h := http.Header{}
	h.Set("Traceparent", "00-"+clientTrace+"-"+clientParent+"-"+flags)
	h.Set("Authorization", "Bearer "+clientKey)
	h.Set("X-Api-Key", clientKey)
	return h
}

// fakeUpstream records the traceparent of every request it receives.
func fakeUpstream(t *testing.T) (*httptest.Server, chan string) {
	t.Helper()
	got := make(chan string, 8)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Get("Traceparent")
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

// callUpstream sends a request to the fake upstream with the attempt span's context
// injected, as the gateway does, and returns the traceparent the upstream received.
func callUpstream(t *testing.T, srv *httptest.Server, got chan string, s *Span, clientTP string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/v1/chat/completions", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Traceparent", clientTP) // forwarded from the client; Inject replaces it
	req.Header.Set("Authorization", "Bearer "+upstreamKey)
	s.Inject(req.Header)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return <-got
}

// TestSpanTreeOfRetryAndFallback builds the spans of a request whose first attempt
// fails, is retried, and then falls back to another model, and checks the tree,
// the attributes, and the traceparent each upstream call carried.
func TestSpanTreeOfRetryAndFallback(t *testing.T) {
	tr, exp := newRecorder(t, Config{}, Options{})
	up, got := fakeUpstream(t)
	hdr := clientHeaders("01")
	ctx, srvSpan := tr.StartRequest(context.Background(), hdr, Request{
		Operation: "chat", Model: "gpt-4o", Route: "gpt-4o", ClientAPI: "openai-chat", Stream: true,
		Method: "POST", Path: "/v1/chat/completions",
	})
	attempts := []struct {
		a Attempt
		r Result
	}{
		{Attempt{Operation: "chat", Provider: "openai", Model: "gpt-4o-2024-08-06", Route: "gpt-4o", Deployment: "gpt-4o-a", Number: 1, Endpoint: up.URL},
			Result{Status: 503, ErrorType: "server_error"}},
		{Attempt{Operation: "chat", Provider: "openai", Model: "gpt-4o-2024-08-06", Route: "gpt-4o", Deployment: "gpt-4o-b", Number: 2, RetryCause: "server_error", Endpoint: up.URL},
			Result{Status: 429, ErrorType: "rate_limited"}},
		{Attempt{Operation: "chat", Provider: "anthropic", Model: "claude-sonnet-4-5", Route: "claude", Deployment: "claude#1", Number: 3, FallbackFrom: "gpt-4o", FallbackCause: "rate_limited", Endpoint: up.URL},
			Result{Status: 200, ResponseModel: "claude-sonnet-4-5-20250929", ResponseID: "msg_01", FinishReasons: []string{"end_turn"}, Usage: Usage{Input: 30, Output: 7, CacheRead: 20}}},
	}
	var received []string
	for _, at := range attempts {
		_, s := tr.StartAttempt(ctx, at.a)
		received = append(received, callUpstream(t, up, got, s, hdr.Get("Traceparent")))
		s.End(at.r)
	}
	srvSpan.End(Result{Status: 200, ResponseModel: "claude-sonnet-4-5-20250929", Deployment: "claude#1", FinishReasons: []string{"end_turn"}, Usage: Usage{Input: 30, Output: 7}})

	spans := exp.GetSpans()
	if len(spans) != 4 {
		t.Fatalf("%d spans, want 4", len(spans))
	}
	server := spans[3]
	checkServerSpan(t, server)
	for i, s := range spans[:3] {
		if s.Parent.SpanID() != server.SpanContext.SpanID() || s.SpanKind != trace.SpanKindClient {
			t.Errorf("attempt %d: parent %s kind %s, want a client child of the server span", i+1, s.Parent.SpanID(), s.SpanKind)
		}
		want := "00-" + clientTrace + "-" + s.SpanContext.SpanID().String() + "-01"
		if received[i] != want {
			t.Errorf("attempt %d: upstream got traceparent %q, want %q", i+1, received[i], want)
		}
	}
	checkAttemptSpans(t, spans[:3])
}

func checkServerSpan(t *testing.T, s tracetest.SpanStub) {
	t.Helper()
	if s.Name != "chat gpt-4o" || s.SpanKind != trace.SpanKindServer {
		t.Errorf("server span %q kind %s", s.Name, s.SpanKind)
	}
	if s.SpanContext.TraceID().String() != clientTrace || s.Parent.SpanID().String() != clientParent || !s.Parent.IsRemote() {
		t.Errorf("server span does not continue the client's trace: trace %s parent %s", s.SpanContext.TraceID(), s.Parent.SpanID())
	}
	want := map[string]any{
		"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o", "llmrouter.route": "gpt-4o",
		"llmrouter.client_api": "openai-chat", "llmrouter.stream": true, "http.request.method": "POST",
		"http.route": "/v1/chat/completions", "http.response.status_code": int64(200),
		"gen_ai.response.model": "claude-sonnet-4-5-20250929", "llmrouter.deployment": "claude#1",
		"gen_ai.response.finish_reasons": []string{"end_turn"},
		"gen_ai.usage.input_tokens":      int64(30), "gen_ai.usage.output_tokens": int64(7),
	}
	if diff := cmp.Diff(want, attrMap(s.Attributes)); diff != "" {
		t.Errorf("server span attributes (-want +got):\n%s", diff)
	}
	if s.Status.Code != codes.Unset {
		t.Errorf("server span status %v, want unset", s.Status)
	}
}

func checkAttemptSpans(t *testing.T, spans []tracetest.SpanStub) {
	t.Helper()
	want := []map[string]any{
		{"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o-2024-08-06",
			"llmrouter.route": "gpt-4o", "llmrouter.deployment": "gpt-4o-a", "llmrouter.attempt": int64(1),
			"http.response.status_code": int64(503), "error.type": "server_error"},
		{"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o-2024-08-06",
			"llmrouter.route": "gpt-4o", "llmrouter.deployment": "gpt-4o-b", "llmrouter.attempt": int64(2),
			"llmrouter.retry.cause": "server_error", "http.response.status_code": int64(429), "error.type": "rate_limited"},
		{"gen_ai.operation.name": "chat", "gen_ai.provider.name": "anthropic", "gen_ai.request.model": "claude-sonnet-4-5",
			"llmrouter.route": "claude", "llmrouter.deployment": "claude#1", "llmrouter.attempt": int64(3),
			"llmrouter.fallback.from": "gpt-4o", "llmrouter.fallback.cause": "rate_limited",
			"http.response.status_code": int64(200), "gen_ai.response.model": "claude-sonnet-4-5-20250929",
			"gen_ai.response.id": "msg_01", "gen_ai.response.finish_reasons": []string{"end_turn"},
			"gen_ai.usage.input_tokens": int64(30), "gen_ai.usage.output_tokens": int64(7),
			"gen_ai.usage.cache_read.input_tokens": int64(20)},
	}
	wantStatus := []codes.Code{codes.Error, codes.Error, codes.Unset}
	for i, s := range spans {
		got := attrMap(s.Attributes)
		delete(got, "server.address") // checked in TestNoKeyInSpans
		delete(got, "server.port")
		if diff := cmp.Diff(want[i], got); diff != "" {
			t.Errorf("attempt %d attributes (-want +got):\n%s", i+1, diff)
		}
		if s.Status.Code != wantStatus[i] {
			t.Errorf("attempt %d status %v, want %v", i+1, s.Status.Code, wantStatus[i])
		}
	}
	if spans[2].Name != "chat claude-sonnet-4-5" {
		t.Errorf("fallback attempt span named %q", spans[2].Name)
	}
}

func attrMap(attrs []attribute.KeyValue) map[string]any {
	m := map[string]any{}
	for _, a := range attrs {
		m[string(a.Key)] = a.Value.AsInterface()
	}
	return m
}

// TestUnsampledClientTraceIsRespected: a client that sent traceparent with the
// sampled flag off gets no spans recorded (parent-based sampling), and the upstream
// still receives the trace, unsampled, through the router.
func TestUnsampledClientTraceIsRespected(t *testing.T) {
	tr, exp := newRecorder(t, Config{}, Options{})
	up, got := fakeUpstream(t)
	hdr := clientHeaders("00")
	ctx, srvSpan := tr.StartRequest(context.Background(), hdr, Request{Operation: "chat", Model: "m"})
	_, s := tr.StartAttempt(ctx, Attempt{Operation: "chat", Provider: "openai", Model: "m", Number: 1})
	tp := callUpstream(t, up, got, s, hdr.Get("Traceparent"))
	s.End(Result{Status: 200})
	srvSpan.End(Result{Status: 200})
	if n := len(exp.GetSpans()); n != 0 {
		t.Errorf("%d spans recorded for an unsampled trace", n)
	}
	if !strings.HasPrefix(tp, "00-"+clientTrace+"-") || !strings.HasSuffix(tp, "-00") || strings.Contains(tp, clientParent) {
		t.Errorf("upstream got traceparent %q, want the client's trace, a router span id, unsampled", tp)
	}
}

// TestServerSpanStatus: only a 5xx, or an error after a 200 (a broken stream),
// marks the server span as an error; a 4xx is the client's problem.
func TestServerSpanStatus(t *testing.T) {
	tests := []struct {
		name string
		r    Result
		want codes.Code
	}{
		{"ok", Result{Status: 200}, codes.Unset},
		{"client error", Result{Status: 400, ErrorType: "invalid_request"}, codes.Unset},
		{"server error", Result{Status: 502, ErrorType: "server_error"}, codes.Error},
		{"stream broke after the first byte", Result{Status: 200, ErrorType: "stream_error"}, codes.Error},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, exp := newRecorder(t, Config{}, Options{})
			_, s := tr.StartRequest(context.Background(), http.Header{}, Request{Operation: "chat", Model: "m"})
			s.End(tt.r)
			spans := exp.GetSpans()
			if len(spans) != 1 || spans[0].Status.Code != tt.want {
				t.Fatalf("spans %d, status %v, want %v", len(spans), spans[0].Status.Code, tt.want)
			}
		})
	}
}

// allText gathers every string a span carries: its name, attribute keys and values,
// event names and attributes, status, and resource.
func allText(spans tracetest.SpanStubs) string {
	var b strings.Builder
	for _, s := range spans {
		b.WriteString(s.Name + "\n" + s.Status.Description + "\n")
		for _, a := range s.Attributes {
			b.WriteString(string(a.Key) + "=" + a.Value.Emit() + "\n")
		}
		for _, e := range s.Events {
			b.WriteString(e.Name + "\n")
			for _, a := range e.Attributes {
				b.WriteString(string(a.Key) + "=" + a.Value.Emit() + "\n")
			}
		}
		if s.Resource != nil {
			b.WriteString(s.Resource.String() + "\n")
		}
	}
	return b.String()
}

// TestNoKeyInSpans: the client's key arrives in Authorization and x-api-key, the
// upstream's endpoint carries a key in its user info and query, and the prompt
// contains one too; with content capture on and the gateway's scrubber, none of
// them reaches a span.
func TestNoKeyInSpans(t *testing.T) {
	scrub := func(s string) string {
		for _, k := range []string{clientKey, upstreamKey} {
			s = strings.ReplaceAll(s, k, "sk-...")
		}
		return s
	}
	tr, exp := newRecorder(t, Config{CaptureContent: true}, Options{Scrub: scrub})
	ctx, s := tr.StartRequest(context.Background(), clientHeaders("01"), Request{Operation: "chat", Model: "gpt-4o"})
	s.SetInput(`[{"role":"user","parts":[{"type":"text","content":"my key is ` + clientKey + `"}]}]`)
	_, a := tr.StartAttempt(ctx, Attempt{Operation: "chat", Provider: "openai", Model: "gpt-4o", Number: 1,
		Endpoint: "https://user:" + upstreamKey + "@api.example.com:8443/v1?key=" + upstreamKey})
	a.Inject(http.Header{"Authorization": {"Bearer " + upstreamKey}})
	a.End(Result{Status: 200})
	s.SetOutput(`[{"role":"assistant","parts":[{"type":"text","content":"noted: ` + clientKey + `"}]}]`)
	s.End(Result{Status: 200})

	spans := exp.GetSpans()
	text := allText(spans)
	for _, k := range []string{clientKey, upstreamKey} {
		if strings.Contains(text, k) {
			t.Errorf("a key reached a span:\n%s", text)
		}
	}
	got := attrMap(spans[0].Attributes)
	if got["server.address"] != "api.example.com" || got["server.port"] != int64(8443) {
		t.Errorf("server.address %v server.port %v", got["server.address"], got["server.port"])
	}
	if !strings.Contains(text, "gen_ai.input.messages=") || !strings.Contains(text, "noted: sk-...") {
		t.Errorf("captured content is missing or unscrubbed:\n%s", text)
	}
}

// TestContentOnlyWhenCaptureIsOn: prompts and completions stay out of spans unless
// capture_content is on, and then they are bounded.
func TestContentOnlyWhenCaptureIsOn(t *testing.T) {
	const prompt = `[{"role":"user","parts":[{"type":"text","content":"héllo wörld"}]}]`
	tests := []struct {
		name      string
		capture   bool
		env       string
		max       int
		want      string // the gen_ai.input.messages value; "" = absent
		truncated bool
	}{
		{name: "off by default", want: ""},
		{name: "on in the config", capture: true, want: prompt},
		{name: "on by the GenAI variable", env: "true", want: prompt},
		{name: "cut at the bound, not inside a character", capture: true, max: 53, want: prompt[:52], truncated: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			t.Setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", tt.env)
			tr, exp := newRecorder(t, Config{CaptureContent: tt.capture}, Options{MaxContentBytes: tt.max})
			if tr.CaptureContent() != (tt.want != "") {
				t.Errorf("CaptureContent() = %v", tr.CaptureContent())
			}
			_, s := tr.StartRequest(context.Background(), http.Header{}, Request{Operation: "chat", Model: "m"})
			s.SetInput(prompt)
			s.End(Result{Status: 200})
			got := attrMap(exp.GetSpans()[0].Attributes)
			if v, _ := got["gen_ai.input.messages"].(string); v != tt.want {
				t.Errorf("gen_ai.input.messages = %q, want %q", v, tt.want)
			}
			if got["llmrouter.content.truncated"] != nil != tt.truncated {
				t.Errorf("truncated flag %v, want %v", got["llmrouter.content.truncated"], tt.truncated)
			}
		})
	}
}

// TestClientStringsAreBounded: a model name or finish reasons of any size make a
// span of bounded size.
func TestClientStringsAreBounded(t *testing.T) {
	tr, exp := newRecorder(t, Config{}, Options{})
	huge := strings.Repeat("m", 1<<20)
	reasons := make([]string, 1000)
	for i := range reasons {
		reasons[i] = huge
	}
	_, s := tr.StartRequest(context.Background(), http.Header{}, Request{Operation: "chat", Model: huge})
	s.End(Result{Status: 200, ResponseModel: huge, ResponseID: huge, FinishReasons: reasons})
	if n := len(allText(exp.GetSpans())); n > 8<<10 {
		t.Errorf("span text is %d bytes", n)
	}
}

// TestRoutedNamesTheServerSpan: a server span started before its request was
// read has no model; Routed adds the model, route and stream flag and renames it
// as the conventions name it. An attempt span ignores Routed.
func TestRoutedNamesTheServerSpan(t *testing.T) {
	tr, exp := newRecorder(t, Config{}, Options{})
	ctx, s := tr.StartRequest(context.Background(), http.Header{}, Request{Operation: "chat", ClientAPI: "openai-chat"})
	_, a := tr.StartAttempt(ctx, Attempt{Operation: "chat", Provider: "openai", Model: "gpt-4o-2024-08-06", Number: 1})
	a.Routed("chat", "other", "other", true)
	a.End(Result{Status: 200})
	s.Routed("chat", "gpt-4o", "gpt-*", true)
	s.End(Result{Status: 200})
	spans := exp.GetSpans()
	if len(spans) != 2 || spans[0].Name != "chat gpt-4o-2024-08-06" || spans[1].Name != "chat gpt-4o" {
		t.Fatalf("spans %v", spans)
	}
	got := attrMap(spans[1].Attributes)
	for k, want := range map[string]any{"gen_ai.request.model": "gpt-4o", "llmrouter.route": "gpt-*", "llmrouter.stream": true} {
		if got[k] != want {
			t.Errorf("%s = %v, want %v", k, got[k], want)
		}
	}
	if _, ok := attrMap(spans[0].Attributes)["llmrouter.stream"]; ok {
		t.Error("Routed changed an attempt span")
	}
}
