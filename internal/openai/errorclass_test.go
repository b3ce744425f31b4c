package openai

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/llmrouter/llmrouter/internal/wire"
)

// Recorded error bodies (testdata/fixtures, testdata/errors) classified by their
// code: the context-window and content-policy refusals that pick a fallback
// chain, the upstream's own failures, and the client errors that move nowhere.
func TestErrorClassOfRecordedBodies(t *testing.T) {
	tests := []struct {
		file   string
		status int
		want   wire.ErrorClass
	}{
		{"errors/openai-context-length-400.json", 400, wire.ErrorContextWindow},
		{"errors/deepseek-context-length-400.json", 400, wire.ErrorContextWindow},
		{"errors/llamacpp-context-size-400.json", 400, wire.ErrorContextWindow},
		{"errors/azure-content-filter-400.json", 400, wire.ErrorContentPolicy},
		{"errors/openai-content-policy-400.json", 400, wire.ErrorContentPolicy},
		{"errors/openai-invalid-prompt-400.json", 400, wire.ErrorContentPolicy},
		{"errors/vllm-bad-request-400.json", 400, wire.ErrorOther},
		{"fixtures/openai-error-400.json", 400, wire.ErrorOther},
		{"fixtures/openai-error-401.json", 401, wire.ErrorOther},
		{"fixtures/openai-error-404.json", 404, wire.ErrorOther},
		{"fixtures/openai-error-429.json", 429, wire.ErrorRetryable},
		{"fixtures/openai-error-500.json", 500, wire.ErrorRetryable},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("..", "..", "testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if got := Chat.ErrorClass(tt.status, b); got != tt.want {
				t.Errorf("ErrorClass(%d) = %v, want %v", tt.status, got, tt.want)
			}
		})
	}
}

// An in-band error chunk has the body's shape; its status is the one its type
// stands for. A body that is no error is classified by status alone.
func TestErrorClassOfChunksAndOtherBodies(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		want   wire.ErrorClass
	}{
		{"in-band server error", 500, `{"error":{"message":"The server is overloaded","type":"server_error","param":null,"code":null}}`, wire.ErrorRetryable},
		{"in-band context length", 400, `{"error":{"message":"too long","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}`, wire.ErrorContextWindow},
		{"plain text 503", 503, `upstream connect error`, wire.ErrorRetryable},
		{"HTML 502", 502, `<html><title>502 Bad Gateway</title></html>`, wire.ErrorRetryable},
		{"empty 400", 400, ``, wire.ErrorOther},
		{"unrelated code", 400, `{"error":{"message":"bad","type":"invalid_request_error","code":"unsupported_parameter"}}`, wire.ErrorOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Chat.ErrorClass(tt.status, []byte(tt.body)); got != tt.want {
				t.Errorf("ErrorClass = %v, want %v", got, tt.want)
			}
		})
	}
}
