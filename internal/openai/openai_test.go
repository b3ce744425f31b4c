package openai

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tidwall/gjson"

	"github.com/llmrouter/llmrouter/internal/sse"
	"github.com/llmrouter/llmrouter/internal/wire"
)

// events reads a recorded SSE stream.
func events(t *testing.T, fixture string) []sse.Event {
	t.Helper()
	rd := sse.NewReader(bytes.NewReader(readFixture(t, fixture)), 0)
	var out []sse.Event
	for {
		ev, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		// The reader reuses its buffer: an event is copied to outlive Next.
		out = append(out, sse.Event{Name: ev.Name, Data: bytes.Clone(ev.Data), Raw: bytes.Clone(ev.Raw)})
	}
}

// Recorded streams: the role chunk is not content (the commit point waits past
// it), the first delta that says something is, and [DONE] alone ends the stream.
func TestStreamEvents(t *testing.T) {
	tests := []struct {
		api          API
		fixture      string
		firstContent int // index of the first content event
	}{
		{Chat, "openai-chat-stream-usage.sse", 1},
		{Chat, "openai-chat-stream-tools.sse", 1},
		{Chat, "openai-chat-stream-parallel-tools.sse", 1},
		{Chat, "openai-chat-stream-reasoning-length.sse", 1}, // no text: its finish_reason is the content
		{Completions, "openai-completions-stream-usage.sse", 0},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			evs := events(t, tt.fixture)
			first := -1
			for i, ev := range evs {
				if tt.api.Content(ev.Name, ev.Data) && first < 0 {
					first = i
				}
				if term := tt.api.Terminal(ev.Name, ev.Data); term != (i == len(evs)-1) {
					t.Errorf("event %d: Terminal = %v", i, term)
				}
				if _, _, ok := tt.api.StreamError(ev.Name, ev.Data); ok {
					t.Errorf("event %d is taken for an error: %s", i, ev.Data)
				}
			}
			if first != tt.firstContent {
				t.Errorf("first content event %d, want %d", first, tt.firstContent)
			}
		})
	}
}

func TestStreamError(t *testing.T) {
	tests := []struct {
		data, typ, msg string
		ok             bool
	}{
		{`{"error":{"message":"boom","type":"server_error","param":null,"code":null}}`, "server_error", "boom", true},
		{`{"error":{"code":"x"}}`, "", `{"code":"x"}`, true}, // no message: the raw object
		{`{"error":"quota"}`, "", `"quota"`, true},
		{`{"choices":[],"error":null}`, "", "", false},
		{`{"choices":[{"index":0,"delta":{"content":"error"}}]}`, "", "", false},
	}
	for _, tt := range tests {
		typ, msg, ok := Chat.StreamError("", []byte(tt.data))
		if typ != tt.typ || msg != tt.msg || ok != tt.ok {
			t.Errorf("StreamError(%s) = %q, %q, %v; want %q, %q, %v", tt.data, typ, msg, ok, tt.typ, tt.msg, tt.ok)
		}
	}
}

func TestPathAndAuth(t *testing.T) {
	for _, tt := range []struct {
		api  API
		op   wire.Operation
		path string
		ok   bool
	}{
		{Chat, wire.Generate, ChatPath, true},
		{Completions, wire.Generate, CompletionsPath, true},
		{Chat, wire.CountTokens, InputTokensPath, true}, // with the Responses API (RequiredAPI)
		{Completions, wire.CountTokens, "", false},
		{Chat, wire.Embed, EmbeddingsPath, true},
		{Completions, wire.Embed, EmbeddingsPath, true},
	} {
		if p, ok := tt.api.Path(tt.op, "gpt-4o", true); p != tt.path || ok != tt.ok {
			t.Errorf("Path(%s) = %q, %v; want %q, %v", tt.op, p, ok, tt.path, tt.ok)
		}
	}
	if Chat.RequiredAPI(wire.CountTokens) != "responses" || Chat.RequiredAPI(wire.Generate) != "" {
		t.Error("a count needs the Responses API, an answer no other API")
	}
	h := http.Header{}
	Chat.SetAuth(h, "")
	if len(h) != 0 {
		t.Errorf("SetAuth without a key set %v", h)
	}
	Chat.SetAuth(h, "sk-1")
	if diff := cmp.Diff(http.Header{"Authorization": {"Bearer sk-1"}}, h); diff != "" {
		t.Errorf("SetAuth (-want +got):\n%s", diff)
	}
}

// The envelope the router writes is one IsError recognises, with OpenAI's type and
// code for the status unless a type is given.
func TestErrorEnvelope(t *testing.T) {
	body := Chat.ErrorBody(http.StatusTooManyRequests, "", "", "slow down")
	want := `{"error":{"message":"slow down","type":"requests","param":null,"code":"rate_limit_exceeded"}}`
	if string(body) != want {
		t.Errorf("ErrorBody = %s, want %s", body, want)
	}
	if got := gjson.GetBytes(Chat.ErrorBody(400, "invalid_request_error", "model", "m"), "error.param").Str; got != "model" {
		t.Errorf("param = %q", got)
	}
	if ev := Completions.ErrorEvent(500, "", "", "x"); !bytes.HasPrefix(ev, []byte("data: {")) || !bytes.HasSuffix(ev, []byte("}\n\n")) {
		t.Errorf("ErrorEvent = %q", ev)
	}
	for body, want := range map[string]bool{
		want:                           true,
		`{"error":{"message":"m"}}`:    true,
		`{"error":{"message":3}}`:      false,
		`{"error":"m"}`:                false,
		`{"error":{"message":"m"}`:     false, // cut
		`<html>502 Bad Gateway</html>`: false,
	} {
		if got := Chat.IsError([]byte(body)); got != want {
			t.Errorf("IsError(%s) = %v", body, got)
		}
	}
	for typ, want := range map[string]bool{"server_error": true, "insufficient_quota": true, "overloaded_error": false, "": false} {
		if got := Chat.KnowsErrorType(typ); got != want {
			t.Errorf("KnowsErrorType(%q) = %v", typ, got)
		}
	}
}

// The transforms see chat texts in messages, legacy texts in the prompt.
func TestTexts(t *testing.T) {
	if diff := cmp.Diff(wire.Texts{Messages: wire.Content}, Chat.Texts()); diff != "" {
		t.Errorf("Chat (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wire.Texts{Prompt: true}, Completions.Texts()); diff != "" {
		t.Errorf("Completions (-want +got):\n%s", diff)
	}
}
