package translate

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Every translator reports the request's usage in the terms every protocol shares,
// read from the body, or from the events that carry it, as it converts them.
func TestTranslatorUsage(t *testing.T) {
	tests := []struct {
		name   string
		pair   string
		stream bool
		file   string // under the repository's testdata/
		body   string // instead of file
		want   Usage
	}{
		{name: "anthropic stream: input from message_start, output from message_delta", pair: "openai_anthropic", stream: true,
			file: "fixtures/anthropic-messages-stream-text.sse", want: Usage{Input: 11, Output: 6}},
		{name: "anthropic stream repeating the input in message_delta", pair: "completions_anthropic", stream: true,
			file: "fixtures/anthropic-messages-stream-parallel-tools.sse", want: Usage{Input: 502, Output: 137}},
		{name: "anthropic message", pair: "openai_anthropic", file: "fixtures/anthropic-messages-response.json",
			want: Usage{Input: 16, Output: 34}},
		{name: "anthropic message with cache reads and writes", pair: "completions_anthropic",
			body: `{"type":"message","content":[],"usage":{"input_tokens":10,"cache_creation_input_tokens":5,"cache_read_input_tokens":20,"output_tokens":7}}`,
			want: Usage{Input: 35, Output: 7, CacheRead: 20, CacheWrite: 5}},
		{name: "openai stream: the usage chunk, with reasoning", pair: "anthropic_openai", stream: true,
			file: "fixtures/openai-chat-stream-reasoning-length.sse", want: Usage{Input: 12, Output: 100, Reasoning: 100}},
		{name: "openai stream with two usage chunks: the last wins", pair: "anthropic_openai", stream: true,
			file: "fixtures/openai-chat-stream-tools.sse", want: Usage{Input: 0, Output: 50, CacheRead: 10, Reasoning: 3}},
		{name: "openai completion", pair: "anthropic_openai", file: "fixtures/openai-chat-response.json",
			want: Usage{Input: 19, Output: 10}},
		{name: "ollama chat stream: the done line", pair: "openai_ollama", stream: true,
			file: "ollama-real/api_chat_stream.body", want: Usage{Input: 29, Output: 10}},
		{name: "ollama chat body", pair: "anthropic_ollama", file: "ollama-real/api_chat_think_nostream.body",
			want: Usage{Input: 30, Output: 19}},
		{name: "ollama generate stream", pair: "completions_ollama", stream: true,
			file: "ollama-real/api_generate_raw_length.body", want: Usage{Input: 9, Output: 32}},
		{name: "ollama generate body", pair: "completions_ollama", file: "ollama-real/api_generate_nostream.body",
			want: Usage{Input: 29, Output: 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := goldenSets[tt.pair]
			body := []byte(tt.body)
			if tt.file != "" {
				body = readTestdata(t, tt.file)
			}
			tr := newStreamer(t, s)
			var err error
			if tt.stream {
				_, err = drive(tr, s.upstream.NDJSON(), bytes.NewReader(body))
			} else {
				_, err = tr.Response(body)
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, tr.Usage()); diff != "" {
				t.Errorf("Usage (-want +got):\n%s", diff)
			}
		})
	}
}

// Usage is what the upstream has reported so far: mid-stream, an Anthropic
// stream's input and first output count, before any usage a stream that has
// reported none.
func TestTranslatorUsageSoFar(t *testing.T) {
	tr := newTranslator(t, "openai_anthropic")
	if diff := cmp.Diff(Usage{}, tr.Usage()); diff != "" {
		t.Errorf("before any event (-want +got):\n%s", diff)
	}
	evs := upstreamEvents(t, readFixture(t, "anthropic-messages-stream-text.sse"), false)
	if _, err := tr.Stream(nil, evs[0]); err != nil { // message_start
		t.Fatal(err)
	}
	if diff := cmp.Diff(Usage{Input: 11, Output: 1}, tr.Usage()); diff != "" {
		t.Errorf("after message_start (-want +got):\n%s", diff)
	}
}
