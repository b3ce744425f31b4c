package ollama

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

// lines reads a recorded NDJSON stream.
func lines(t *testing.T, name string) [][]byte {
	t.Helper()
	rd := sse.NewNDJSONReader(bytes.NewReader(readTestdata(t, name)), 0)
	var out [][]byte
	for {
		ev, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, bytes.Clone(ev.Data))
	}
}

// Recorded streams: every line with text, thinking or tool calls is content, and
// the done:true line alone ends the stream; an error line is an in-band error.
func TestStreamLines(t *testing.T) {
	for _, tt := range []struct {
		api  API
		name string
	}{
		{Chat, "fixtures/ollama-chat-stream.ndjson"},
		{Chat, "fixtures/ollama-chat-stream-tools.ndjson"},
		{Generate, "fixtures/ollama-generate-stream.ndjson"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ls := lines(t, tt.name)
			for i, l := range ls {
				last := i == len(ls)-1
				if !tt.api.Content("", l) {
					t.Errorf("line %d is not content: %s", i, l)
				}
				if tt.api.Terminal("", l) != last {
					t.Errorf("line %d: Terminal = %v", i, !last)
				}
				if _, _, ok := tt.api.StreamError("", l); ok {
					t.Errorf("line %d is taken for an error", i)
				}
			}
		})
	}
	ls := lines(t, "fixtures/ollama-generate-stream-error.ndjson")
	if _, msg, ok := Generate.StreamError("", ls[len(ls)-1]); !ok || msg != "an error was encountered while running the model" {
		t.Errorf("error line: %q, %v", msg, ok)
	}
	if Chat.Content("", []byte(`{"message":{"role":"assistant","content":""},"done":false}`)) {
		t.Error("an empty line is content")
	}
}

func TestPathAuthAndTexts(t *testing.T) {
	if p, ok := Chat.Path(wire.Generate, "llama3", true); p != ChatPath || !ok {
		t.Errorf("Chat path %q, %v", p, ok)
	}
	if p, ok := Generate.Path(wire.Generate, "llama3", false); p != GeneratePath || !ok {
		t.Errorf("Generate path %q, %v", p, ok)
	}
	if _, ok := Chat.Path(wire.CountTokens, "llama3", false); ok {
		t.Error("Ollama counts tokens")
	}
	h := http.Header{}
	Chat.SetAuth(h, "")
	Generate.SetAuth(h, "proxy-key")
	if diff := cmp.Diff(http.Header{"Authorization": {"Bearer proxy-key"}}, h); diff != "" {
		t.Errorf("SetAuth (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wire.Texts{Prompt: true, System: wire.String}, Generate.Texts()); diff != "" {
		t.Errorf("Generate texts (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wire.Texts{Messages: wire.String}, Chat.Texts()); diff != "" {
		t.Errorf("Chat texts (-want +got):\n%s", diff)
	}
}
