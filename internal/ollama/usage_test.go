package ollama

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

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// tokens is Metrics.Tokens as a comparable value.
type tokens struct{ Input, Output, CacheRead, CacheWrite, Reasoning int64 }

func tokensOf(m Metrics) tokens {
	var t tokens
	t.Input, t.Output, t.CacheRead, t.CacheWrite, t.Reasoning = m.Tokens()
	return t
}

func TestReadUsageBodies(t *testing.T) {
	tests := []struct {
		name   string
		body   []byte
		want   tokens
		wantOK bool
	}{
		{"chat", readTestdata(t, "ollama-real/api_chat_nostream.body"), tokens{Input: 50, Output: 10}, true},
		{"generate", readTestdata(t, "ollama-real/api_generate_nostream.body"), tokens{Input: 29, Output: 10}, true},
		{"a line before the end", []byte(`{"model":"m","message":{"role":"assistant","content":"eval_count"},"done":false}`), tokens{}, false},
		{"error", []byte(`{"error":"model 'x' not found"}`), tokens{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, ok := readUsage(tt.body)
			if ok != tt.wantOK {
				t.Fatalf("ok = %v, want %v", ok, tt.wantOK)
			}
			if diff := cmp.Diff(tt.want, tokensOf(m)); diff != "" {
				t.Errorf("tokens (-want +got):\n%s", diff)
			}
		})
	}
}

// A same-protocol relay calls readUsage (its Meter's Read) on every NDJSON line as it passes: only
// the done line carries the counters.
func TestReadUsageOnEveryStreamLine(t *testing.T) {
	tests := []struct {
		file string
		want tokens
	}{
		{"ollama-real/api_chat_stream.body", tokens{Input: 29, Output: 10}},
		{"ollama-real/api_generate_raw_length.body", tokens{Input: 9, Output: 32}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			rd := sse.NewNDJSONReader(bytes.NewReader(readTestdata(t, tt.file)), 0)
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
				if m, ok := readUsage(ev.Data); ok {
					got, n = tokensOf(m), n+1
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" || n != 1 {
				t.Errorf("%d lines with usage, want 1; tokens (-want +got):\n%s", n, diff)
			}
		})
	}
}
