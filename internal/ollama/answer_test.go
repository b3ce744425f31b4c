package ollama

import (
	"bytes"
	"testing"

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
