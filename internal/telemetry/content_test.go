package telemetry

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

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
