package anthropic

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/llmrouter/llmrouter/internal/sse"
)

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "fixtures", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// tokens is Usage.Tokens as a comparable value.
type tokens struct{ Input, Output, CacheRead, CacheWrite, Reasoning int64 }

func tokensOf(u Usage) tokens {
	var t tokens
	t.Input, t.Output, t.CacheRead, t.CacheWrite, t.Reasoning = u.Tokens()
	return t
}

func TestReadUsageBodies(t *testing.T) {
	tests := []struct {
		name   string
		body   []byte
		want   tokens
		wantOK bool
	}{
		{"message", readFixture(t, "anthropic-messages-response.json"), tokens{Input: 16, Output: 34}, true},
		{"cache reads and writes are parts of the input",
			[]byte(`{"type":"message","content":[],"usage":{"input_tokens":10,"cache_creation_input_tokens":5,"cache_read_input_tokens":20,"output_tokens":7}}`),
			tokens{Input: 35, Output: 7, CacheRead: 20, CacheWrite: 5}, true},
		{"content_block_delta", []byte(`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"usage"}}`), tokens{}, false},
		{"error event", []byte(`{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`), tokens{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var u Usage
			if ok := readUsage(&u, tt.body); ok != tt.wantOK {
				t.Fatalf("ok = %v, want %v", ok, tt.wantOK)
			}
			if diff := cmp.Diff(tt.want, tokensOf(u)); diff != "" {
				t.Errorf("tokens (-want +got):\n%s", diff)
			}
		})
	}
}

// A same-protocol relay calls readUsage (its Meter's Read) on every event of a stream, as it passes:
// message_start gives the input, message_delta the cumulative output, with or
// without repeating the input counts.
func TestReadUsageOnEveryStreamEvent(t *testing.T) {
	tests := []struct {
		fixture string
		want    tokens
	}{
		{"anthropic-messages-stream-text.sse", tokens{Input: 11, Output: 6}},              // delta omits the input
		{"anthropic-messages-stream-parallel-tools.sse", tokens{Input: 502, Output: 137}}, // delta repeats it
		{"anthropic-messages-stream-error.sse", tokens{}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			rd := sse.NewReader(bytes.NewReader(readFixture(t, tt.fixture)), 0)
			var u Usage
			for {
				ev, err := rd.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				readUsage(&u, ev.Data)
			}
			if diff := cmp.Diff(tt.want, tokensOf(u)); diff != "" {
				t.Errorf("tokens (-want +got):\n%s", diff)
			}
		})
	}
}

// Cache counts are left out of the JSON when unknown, and written, zero or not,
// when known.
func TestUsageCacheCounts(t *testing.T) {
	zero := int64(0)
	for _, tt := range []struct {
		u    Usage
		want string
	}{
		{Usage{InputTokens: 3, OutputTokens: 4}, `{"input_tokens":3,"output_tokens":4}`},
		{Usage{InputTokens: 3, CacheCreationInputTokens: &zero, CacheReadInputTokens: &zero, OutputTokens: 4},
			`{"input_tokens":3,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":4}`},
	} {
		b, err := json.Marshal(tt.u)
		if err != nil || string(b) != tt.want {
			t.Errorf("Marshal = %s, %v; want %s", b, err, tt.want)
		}
	}
}
