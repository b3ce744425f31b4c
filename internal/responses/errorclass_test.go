package responses

import (
	"testing"

	"github.com/llmrouter/llmrouter/internal/wire"
)

// A Responses error is classified by its code wherever its shape keeps it: an
// HTTP error body (OpenAI's envelope), an `error` event (nested, as recorded, or
// flat, as the spec has it) or response.failed; without a code that classifies,
// by status.
func TestErrorClass(t *testing.T) {
	body := readTestdata(t, "errors/openai-context-length-400.json")
	var failed []string // the data of the recorded failure's events
	for _, ev := range events(t, "responses/openai-responses-stream-error-failed.sse") {
		failed = append(failed, string(ev.Data))
	}
	tests := []struct {
		name   string
		status int
		data   string
		want   wire.ErrorClass
	}{
		{"HTTP body", 400, string(body), wire.ErrorContextWindow},
		{"error event, nested", 400, `{"type":"error","sequence_number":2,"error":{"type":"invalid_request_error","code":"context_length_exceeded","message":"too long","param":null}}`, wire.ErrorContextWindow},
		{"error event, flat", 400, `{"type":"error","code":"content_filter","message":"filtered","param":null}`, wire.ErrorContentPolicy},
		{"recorded error event", 429, failed[2], wire.ErrorRetryable},
		{"recorded response.failed", 429, failed[3], wire.ErrorRetryable},
		{"invalid request", 400, `{"error":{"message":"bad","type":"invalid_request_error","code":"unsupported_parameter"}}`, wire.ErrorOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Responses.ErrorClass(tt.status, []byte(tt.data)); got != tt.want {
				t.Errorf("ErrorClass = %v, want %v", got, tt.want)
			}
		})
	}
}
