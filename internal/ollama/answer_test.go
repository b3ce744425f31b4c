package ollama

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/llmrouter/llmrouter/internal/wire"
)

func TestReadAnswer(t *testing.T) {
	tests := []struct {
		name string
		api  API
		want wire.Answer
	}{
		{"ollama-real/api_chat_nostream.body", Chat, wire.Answer{Model: "tiny", Finish: []string{"stop"}}},
		{"ollama-real/api_chat_length_stream.body", Chat, wire.Answer{Model: "tiny", Finish: []string{"length"}}},
		{"ollama-real/api_generate_stream.body", Generate, wire.Answer{Model: "tiny", Finish: []string{"stop"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a wire.Answer
			for line := range bytes.Lines(readTestdata(t, tt.name)) {
				tt.api.ReadAnswer(line, &a)
			}
			if diff := cmp.Diff(tt.want, a); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
		})
	}
}

// With Content, the lines' message contents make the answer's text, bounded by
// wire.MaxText.
func TestReadAnswerText(t *testing.T) {
	a := wire.Answer{Content: true}
	for line := range bytes.Lines(readTestdata(t, "ollama-real/api_chat_stream.body")) {
		Chat.ReadAnswer(line, &a)
	}
	if string(a.Text) != "Hello! I am a tiny test model." {
		t.Errorf("text %q", a.Text)
	}
	big := wire.Answer{Content: true}
	line := []byte(`{"model":"m","response":"` + strings.Repeat("é", 1000) + `"}`)
	for range 100 {
		Generate.ReadAnswer(line, &big)
	}
	if len(big.Text) > wire.MaxText || !utf8.Valid(big.Text) {
		t.Errorf("text of %d bytes (valid UTF-8: %v), want at most %d", len(big.Text), utf8.Valid(big.Text), wire.MaxText)
	}
}
