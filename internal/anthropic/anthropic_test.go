package anthropic

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

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

// Recorded streams: message_start, an empty text or thinking block's start and
// pings are not content (the commit point waits past them); message_stop alone
// ends the stream. Events read the same without their `event:` line.
func TestStreamEvents(t *testing.T) {
	tests := []struct {
		fixture      string
		firstContent int
	}{
		{"anthropic-messages-stream-text.sse", 3},
		{"anthropic-messages-stream-thinking.sse", 3},
		{"anthropic-messages-stream-tools.sse", 3},
		{"anthropic-messages-stream-parallel-tools.sse", 3},
		{"anthropic-messages-stream-max-tokens.sse", 3},
		{"anthropic-messages-stream-refusal.sse", 2},
	}
	for _, tt := range tests {
		for _, named := range []bool{true, false} {
			how := map[bool]string{true: "/by name", false: "/by data.type"}[named]
			t.Run(tt.fixture+how, func(t *testing.T) {
				evs := events(t, tt.fixture)
				first := -1
				for i, ev := range evs {
					name := ev.Name
					if !named {
						name = ""
					}
					if Messages.Content(name, ev.Data) && first < 0 {
						first = i
					}
					if term := Messages.Terminal(name, ev.Data); term != (i == len(evs)-1) {
						t.Errorf("event %d: Terminal = %v", i, term)
					}
					if _, _, ok := Messages.StreamError(name, ev.Data); ok {
						t.Errorf("event %d is taken for an error: %s", i, ev.Data)
					}
				}
				if first != tt.firstContent {
					t.Errorf("first content event %d, want %d", first, tt.firstContent)
				}
			})
		}
	}
}

func TestStreamError(t *testing.T) {
	ev := events(t, "anthropic-messages-stream-error.sse")[0]
	for _, name := range []string{ev.Name, ""} {
		typ, msg, ok := Messages.StreamError(name, ev.Data)
		if typ != "overloaded_error" || msg != "Overloaded" || !ok {
			t.Errorf("StreamError(%q) = %q, %q, %v", name, typ, msg, ok)
		}
	}
	// An error event without a message is reported with its data.
	if _, msg, ok := Messages.StreamError("error", []byte(`{"type":"error"}`)); !ok || msg != `{"type":"error"}` {
		t.Errorf("StreamError without a message = %q, %v", msg, ok)
	}
}

func TestPathAndAuth(t *testing.T) {
	for op, want := range map[wire.Operation]string{wire.Generate: MessagesPath, wire.CountTokens: CountTokensPath} {
		if p, ok := Messages.Path(op, "claude-x", false); p != want || !ok {
			t.Errorf("Path(%s) = %q, %v", op, p, ok)
		}
	}
	h := http.Header{}
	Messages.SetAuth(h, "")
	if diff := cmp.Diff(http.Header{"Anthropic-Version": {version}}, h); diff != "" {
		t.Errorf("SetAuth without a key (-want +got):\n%s", diff)
	}
	h = http.Header{"Anthropic-Version": {"2024-01-01"}}
	Messages.SetAuth(h, "ant-1")
	if diff := cmp.Diff(http.Header{"Anthropic-Version": {"2024-01-01"}, "X-Api-Key": {"ant-1"}}, h); diff != "" {
		t.Errorf("SetAuth keeps the client's version (-want +got):\n%s", diff)
	}
}

// The envelope the router writes is one IsError recognises, with Anthropic's type
// for the status unless a type is given; OpenAI's envelope is not Anthropic's.
func TestErrorEnvelope(t *testing.T) {
	body := Messages.ErrorBody(529, "", "model", "busy")
	if want := `{"type":"error","error":{"type":"overloaded_error","message":"busy"}}`; string(body) != want {
		t.Errorf("ErrorBody = %s, want %s", body, want)
	}
	if ev := Messages.ErrorEvent(500, "", "", "x"); !bytes.HasPrefix(ev, []byte("event: error\ndata: {")) {
		t.Errorf("ErrorEvent = %q", ev)
	}
	for b, want := range map[string]bool{
		string(body): true,
		`{"error":{"message":"m","type":"server_error"}}`: false,
		`{"type":"error","error":{"type":"x"}}`:           false,
	} {
		if got := Messages.IsError([]byte(b)); got != want {
			t.Errorf("IsError(%s) = %v", b, got)
		}
	}
	for typ, want := range map[string]bool{"overloaded_error": true, "rate_limit_error": true, "server_error": false, "invalid_request_error": false} {
		if got := Messages.KnowsErrorType(typ); got != want {
			t.Errorf("KnowsErrorType(%q) = %v", typ, got)
		}
	}
}

// An answer must be an array of messages; a token count need not say so.
func TestRequestField(t *testing.T) {
	if name, array := Messages.RequestField(wire.Generate); name != "messages" || !array {
		t.Errorf("Generate: %q, %v", name, array)
	}
	if name, array := Messages.RequestField(wire.CountTokens); name != "messages" || array {
		t.Errorf("CountTokens: %q, %v", name, array)
	}
}
