package openai

import (
	"bytes"
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
		{"chat completion", readFixture(t, "openai-chat-response.json"), tokens{Input: 19, Output: 10}, true},
		{"text completion", readFixture(t, "openai-completions-response.json"), tokens{Input: 31, Output: 25}, true},
		{"cached and reasoning tokens are parts of the totals",
			[]byte(`{"choices":[],"usage":{"prompt_tokens":100,"completion_tokens":30,"total_tokens":130,` +
				`"prompt_tokens_details":{"cached_tokens":60,"cache_write_tokens":5},"completion_tokens_details":{"reasoning_tokens":20}}}`),
			tokens{Input: 100, Output: 30, CacheRead: 60, CacheWrite: 5, Reasoning: 20}, true},
		{"usage null on an ordinary chunk", []byte(`{"choices":[{"index":0,"delta":{"content":"hi"}}],"usage":null}`), tokens{}, false},
		{"no usage", []byte(`{"choices":[{"index":0,"delta":{"content":"usage"}}]}`), tokens{}, false},
		{"[DONE]", []byte(Done), tokens{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, ok := readUsage(tt.body)
			if ok != tt.wantOK {
				t.Fatalf("ok = %v, want %v", ok, tt.wantOK)
			}
			if diff := cmp.Diff(tt.want, tokensOf(u)); diff != "" {
				t.Errorf("tokens (-want +got):\n%s", diff)
			}
		})
	}
}

// A same-protocol relay calls readUsage (its Meter's Read) on every event of a stream, as it passes:
// only the include_usage chunk carries usage.
func TestReadUsageOnEveryStreamEvent(t *testing.T) {
	tests := []struct {
		fixture string
		want    tokens
		chunks  int // events that carry usage
	}{
		{"openai-chat-stream-usage.sse", tokens{Input: 20, Output: 2}, 1},
		{"openai-chat-stream-reasoning-length.sse", tokens{Input: 12, Output: 100, Reasoning: 100}, 1},
		{"openai-chat-stream-parallel-tools.sse", tokens{Input: 106, Output: 50}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			rd := sse.NewReader(bytes.NewReader(readFixture(t, tt.fixture)), 0)
			var got tokens
			n := 0
			for {
				ev, err := rd.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if u, ok := readUsage(ev.Data); ok {
					got, n = tokensOf(u), n+1
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" || n != tt.chunks {
				t.Errorf("%d usage events, want %d; tokens (-want +got):\n%s", n, tt.chunks, diff)
			}
		})
	}
}
