package anthropic

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/llmrouter/llmrouter/internal/wire"
)

// Recorded Anthropic error bodies: a context-window overflow is an
// invalid_request_error told by its message (Anthropic's only signal); other
// invalid requests move nowhere; overload and rate limits are the upstream's.
func TestErrorClassOfRecordedBodies(t *testing.T) {
	tests := []struct {
		file   string
		status int
		want   wire.ErrorClass
	}{
		{"errors/anthropic-prompt-too-long-400.json", 400, wire.ErrorContextWindow},
		{"errors/anthropic-context-limit-400.json", 400, wire.ErrorContextWindow},
		{"fixtures/anthropic-error-400.json", 400, wire.ErrorOther},
		{"fixtures/anthropic-error-429.json", 429, wire.ErrorRetryable},
		{"fixtures/anthropic-error-529.json", 529, wire.ErrorRetryable},
		// The OpenAI shapes mean nothing to Anthropic's reader: status decides.
		{"errors/openai-context-length-400.json", 400, wire.ErrorOther},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("..", "..", "testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if got := Messages.ErrorClass(tt.status, b); got != tt.want {
				t.Errorf("ErrorClass(%d) = %v, want %v", tt.status, got, tt.want)
			}
		})
	}
}

// The recorded in-band `event: error` (overloaded) is the upstream's failure at
// the status its type stands for.
func TestErrorClassOfInBandEvent(t *testing.T) {
	evs := readFixture(t, "anthropic-messages-stream-error.sse")
	data := evs[len("event: error\ndata: "):]
	if got := Messages.ErrorClass(529, data); got != wire.ErrorRetryable {
		t.Errorf("ErrorClass = %v, want retryable", got)
	}
	msg := `{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 219898 tokens > 200000 maximum"}}`
	if got := Messages.ErrorClass(400, []byte(msg)); got != wire.ErrorContextWindow {
		t.Errorf("ErrorClass = %v, want context_window", got)
	}
}
