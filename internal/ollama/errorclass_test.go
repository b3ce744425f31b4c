package ollama

import (
	"bytes"
	"testing"

	"github.com/llmrouter/llmrouter/internal/wire"
)

// Ollama's refusals of a prompt longer than the context window, in both
// recorded shapes, are context-window overflows; its other errors are
// classified by status.
func TestErrorClassOfRecordedBodies(t *testing.T) {
	tests := []struct {
		file   string
		status int
		want   wire.ErrorClass
	}{
		{"errors/ollama-input-too-long-400.json", 400, wire.ErrorContextWindow},
		{"errors/ollama-context-size-400.json", 400, wire.ErrorContextWindow},
		{"fixtures/ollama-error.json", 500, wire.ErrorRetryable},
		{"fixtures/ollama-error.json", 400, wire.ErrorOther},
		{"ollama-real/api_chat_think_unsupported.body", 400, wire.ErrorOther},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			if got := Chat.ErrorClass(tt.status, readTestdata(t, tt.file)); got != tt.want {
				t.Errorf("ErrorClass(%d) = %v, want %v", tt.status, got, tt.want)
			}
		})
	}
}

// The recorded in-band error line of a generate stream is the upstream's
// failure (its status stands at 500).
func TestErrorClassOfInBandLine(t *testing.T) {
	lines := bytes.Split(bytes.TrimSpace(readTestdata(t, "fixtures/ollama-generate-stream-error.ndjson")), []byte("\n"))
	line := lines[len(lines)-1]
	if got := Generate.ErrorClass(500, line); got != wire.ErrorRetryable {
		t.Errorf("ErrorClass = %v, want retryable", got)
	}
}
