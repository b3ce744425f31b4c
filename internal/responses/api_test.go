package responses

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/openai/openai-go/v3"
	sdk "github.com/openai/openai-go/v3/responses"

	"github.com/llmrouter/llmrouter/internal/logging"
	"github.com/llmrouter/llmrouter/internal/sse"
	"github.com/llmrouter/llmrouter/internal/wire"
)

// transcript reads a recorded stream through the dialect into a transcript.
func transcript(t *testing.T, name string) string {
	t.Helper()
	tr := logging.NewTranscript(Responses, 64<<10)
	for _, ev := range events(t, name) {
		tr.Add(ev)
	}
	return string(tr.JSON())
}

// The response-body log of a Responses stream says what the recorded streams
// say: text, reasoning summary, calls keyed by output_index with their
// arguments or custom input, the status (with the reason it is incomplete), the
// usage, and the error of a failed stream.
func TestTranscribeRecordedStreams(t *testing.T) {
	usage := func(in, out, reasoning string) string {
		return `"usage":{"input_tokens":` + in + `,"input_tokens_details":{"cached_tokens":0},"output_tokens":` + out +
			`,"output_tokens_details":{"reasoning_tokens":` + reasoning + `},"total_tokens":`
	}
	tests := []struct{ file, want string }{
		{"openai-responses-stream-text.sse", `{"text":"Olá!","finish_reason":"completed",` + usage("20", "3", "0") + `23}}`},
		{"openai-responses-stream-parallel-function-calls.sse", `{"text":"","tool_calls":[` +
			`{"id":"call_NnEvpiwdL8XrZ6F3T9VJyVw7","name":"add","arguments":"{\"a\":2,\"b\":3}"},` +
			`{"id":"call_TQ8336oa6YnuT2leYzRDBBLz","name":"multiply","arguments":"{\"a\":2,\"b\":3}"}],` +
			`"finish_reason":"completed",` + usage("104", "51", "0") + `155}}`},
		{"openai-responses-stream-custom-tool.sse", `{"text":"","tool_calls":[` +
			`{"id":"call_2GHkSm2Jm0n7vgXsQEryfGmL","name":"execute_sql","arguments":"SELECT * FROM users LIMIT 5;"}],` +
			`"finish_reason":"completed",` + usage("63", "151", "128") + `214}}`},
		{"openai-responses-stream-incomplete-reasoning.sse", `{"text":"","finish_reason":"incomplete: max_output_tokens",` +
			usage("38", "64", "64") + `102}}`},
		{"openai-responses-stream-error-failed.sse", `{"text":"","error":{"code":"insufficient_quota","message":` +
			`"You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors."}}`},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			if got := transcript(t, "responses/"+tt.file); got != tt.want {
				t.Errorf("transcript\n got %s\nwant %s", got, tt.want)
			}
		})
	}
	reasoning := transcript(t, "responses/openai-responses-stream-reasoning-summary.sse")
	var r struct {
		Reasoning string                             `json:"reasoning"`
		Calls     []struct{ Name, Arguments string } `json:"tool_calls"`
	}
	if err := json.Unmarshal([]byte(reasoning), &r); err != nil || len(r.Reasoning) < 100 ||
		len(r.Calls) != 1 || r.Calls[0].Name != "weather" || r.Calls[0].Arguments != `{"location":"Florence, Italy"}` {
		t.Errorf("reasoning stream transcript: %s (%v)", reasoning, err)
	}
}

// The envelope is OpenAI's, which the official SDK reads, status, type, code
// and param included.
func TestErrorBodyReadBySDK(t *testing.T) {
	body := Responses.ErrorBody(http.StatusBadRequest, "", "previous_response_id", "this route is stateless")
	if !Responses.IsError(body) {
		t.Fatalf("%s is not an error of the envelope", body)
	}
	var e openai.Error
	if err := json.Unmarshal(body, &struct {
		Error *openai.Error `json:"error"`
	}{&e}); err != nil {
		t.Fatal(err)
	}
	if e.Message != "this route is stateless" || e.Type != "invalid_request_error" || e.Param != "previous_response_id" {
		t.Errorf("SDK read %+v from %s", e, body)
	}
	if typ, msg, ok := Responses.ParseError(body); !ok || typ != "invalid_request_error" || msg != "this route is stateless" {
		t.Errorf("ParseError: %q %q %v", typ, msg, ok)
	}
}

// A failure's code is its type when it has one, else what OpenAI's envelope
// says of the status.
func TestFailureCode(t *testing.T) {
	for _, tt := range []struct {
		status    int
		typ, want string
	}{
		{502, "", "upstream_unreachable"},
		{504, "", "upstream_timeout"},
		{500, "", "server_error"},
		{429, "", "rate_limit_exceeded"},
		{500, "insufficient_quota", "insufficient_quota"},
	} {
		if got := Responses.FailureCode(tt.status, tt.typ); got != tt.want {
			t.Errorf("FailureCode(%d, %q) = %q, want %q", tt.status, tt.typ, got, tt.want)
		}
	}
}

// sdkEvents parses an SSE text as the SDK's stream events, checking each
// event: line against its data's type.
func sdkEvents(t *testing.T, b []byte) []sdk.ResponseStreamEventUnion {
	t.Helper()
	rd := sse.NewReader(bytes.NewReader(b), 0)
	var out []sdk.ResponseStreamEventUnion
	for {
		ev, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		var u sdk.ResponseStreamEventUnion
		if err := json.Unmarshal(ev.Data, &u); err != nil || u.Type != ev.Name {
			t.Fatalf("event %s: %v\n%s", ev.Name, err, ev.Data)
		}
		out = append(out, u)
	}
}

// A relayed stream that breaks is ended, through the Follower the dialect
// gives, by an error event and response.failed numbered after the last event
// relayed, which the SDK reads; ErrorEvent, for a stream of which nothing is
// known, is an error event the SDK reads.
func TestFollowerEndsRelayedStreams(t *testing.T) {
	var f wire.Follower = Responses.Follow()
	relayed := events(t, "responses/openai-responses-stream-function-call.sse")[:6]
	for _, ev := range relayed {
		f.Observe(ev.Name, ev.Data)
	}
	out := f.Fail([]byte("kept"), "upstream_timeout", "upstream timed out mid-stream")
	if !bytes.HasPrefix(out, []byte("kept")) {
		t.Fatalf("Fail did not append: %q", out)
	}
	evs := sdkEvents(t, out[len("kept"):])
	got := []any{len(evs)}
	for _, e := range evs {
		got = append(got, e.Type, e.SequenceNumber)
	}
	if want := []any{2, "error", int64(6), "response.failed", int64(7)}; !cmp.Equal(want, got) {
		t.Errorf("failure events %v, want %v", got, want)
	}
	if r := evs[1].Response; r.Error.Code != "upstream_timeout" || r.Error.Message != "upstream timed out mid-stream" || r.Status != "failed" {
		t.Errorf("response.failed %+v", r)
	}
	lone := sdkEvents(t, Responses.ErrorEvent(http.StatusBadGateway, "", "", "upstream connection failed"))
	if len(lone) != 1 || lone[0].Code != "upstream_unreachable" || lone[0].Message != "upstream connection failed" {
		t.Errorf("ErrorEvent: %+v", lone)
	}
}

// The gateway's questions about upstream answers: paths by operation, the
// commit point, the terminal event, in-band errors and usage, on recorded
// streams and bodies.
func TestUpstreamFacts(t *testing.T) {
	for op, want := range map[wire.Operation]string{wire.Generate: "/responses", wire.CountTokens: "/responses/input_tokens", wire.Stored: "/responses"} {
		if p, ok := Responses.Path(op, "m", true); !ok || p != want {
			t.Errorf("Path(%s) = %q, %v", op, p, ok)
		}
	}
	h := http.Header{}
	Responses.SetAuth(h, "")
	if len(h) != 0 {
		t.Errorf("SetAuth with no key set %v", h)
	}
	Responses.SetAuth(h, "sk-1")
	if h.Get("Authorization") != "Bearer sk-1" {
		t.Errorf("SetAuth: %v", h)
	}
	evs := events(t, "responses/openai-responses-stream-error-failed.sse")
	var errs, terminal int
	m := Responses.NewMeter()
	for _, ev := range evs {
		if _, _, ok := Responses.StreamError(ev.Name, ev.Data); ok {
			errs++
		}
		if Responses.Terminal(ev.Name, ev.Data) {
			terminal++
		}
	}
	if errs != 2 || terminal != 1 {
		t.Errorf("error-failed stream: %d errors, %d terminal events", errs, terminal)
	}
	if typ, msg, ok := Responses.StreamError("", readTestdata(t, "fixtures/openai-error-429.json")); !ok || typ == "" || msg == "" {
		t.Errorf("an error object answered in place of a response: %q %q %v", typ, msg, ok)
	}
	if _, _, ok := Responses.StreamError("", readTestdata(t, "responses/openai-responses-response-text.json")); ok {
		t.Error("a response (error: null) read as an error")
	}
	for _, ev := range events(t, "responses/openai-responses-stream-reasoning-summary.sse") {
		m.Read(ev.Data)
	}
	if in, out, _, _, reasoning := m.Tokens(); in != 63 || out != 121 || reasoning != 64 {
		t.Errorf("meter: %d in, %d out, %d reasoning", in, out, reasoning)
	}
	if marker, want, member := Responses.Answer(wire.Generate); marker != "object" || want != "response" || member != "output.#" {
		t.Errorf("Answer: %s %s %s", marker, want, member)
	}
	if marker, _, _ := Responses.Answer(wire.Stored); marker != "" {
		t.Errorf("stored calls answer several kinds, none checked; got marker %q", marker)
	}
}
