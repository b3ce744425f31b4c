package translate

import (
	"fmt"
	"strings"
	"testing"

	"github.com/llmrouter/llmrouter/internal/sse"
	"github.com/llmrouter/llmrouter/internal/wire"
)

// benchPairs are the translators benchmarked, each with a streaming client request
// and the upstream fixtures (under the repository's testdata/) it converts.
var benchPairs = []struct {
	name             string
	client, upstream wire.Protocol
	request          string
	stream, response string
}{
	{"anthropic-to-openai", wire.OpenAIChat, wire.AnthropicMessages,
		`{"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`,
		"fixtures/anthropic-messages-stream-tools.sse", "fixtures/anthropic-messages-response-tool-use.json"},
	{"anthropic-to-completions", wire.OpenAICompletions, wire.AnthropicMessages,
		`{"model":"m","prompt":"hi","stream":true,"stream_options":{"include_usage":true}}`,
		"fixtures/anthropic-messages-stream-text.sse", "fixtures/anthropic-messages-response.json"},
	{"openai-to-anthropic", wire.AnthropicMessages, wire.OpenAIChat,
		`{"model":"m","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"hi"}]}`,
		"fixtures/openai-chat-stream-tools.sse", "fixtures/openai-chat-response-tools.json"},
	{"ollama-to-openai", wire.OpenAIChat, wire.OllamaChat,
		`{"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`,
		"ollama-real/api_chat_think_stream.body", "ollama-real/api_chat_tools_nostream.body"},
	{"ollama-to-anthropic", wire.AnthropicMessages, wire.OllamaChat,
		`{"model":"m","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"hi"}]}`,
		"ollama-real/api_chat_think_stream.body", "ollama-real/api_chat_tools_nostream.body"},
	{"ollama-to-completions", wire.OpenAICompletions, wire.OllamaGenerate,
		`{"model":"m","prompt":"hi","stream":true,"stream_options":{"include_usage":true}}`,
		"ollama-real/api_generate_stream.body", "ollama-real/api_generate_nostream.body"},
	{"anthropic-to-responses", wire.OpenAIResponses, wire.AnthropicMessages,
		`{"model":"m","stream":true,"input":"hi","tools":[{"type":"function","name":"get_weather"}]}`,
		"fixtures/anthropic-messages-stream-tools.sse", "fixtures/anthropic-messages-response-tool-use.json"},
	{"responses-to-openai", wire.OpenAIChat, wire.OpenAIResponses,
		`{"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`,
		"responses/openai-responses-stream-function-call.sse", "responses/openai-responses-response-function-call.json"},
}

// benchEvents reads an upstream stream fixture into its events.
func benchEvents(b *testing.B, name string, ndjson bool) []sse.Event {
	b.Helper()
	return upstreamEvents(b, readTestdata(b, name), ndjson)
}

// BenchmarkStream converts one whole upstream stream per iteration, as the gateway
// does: a fresh translator, its Request, every event through Stream into a reused
// buffer, then End. Bytes are the upstream stream's event data.
func BenchmarkStream(b *testing.B) {
	for _, p := range benchPairs {
		b.Run(p.name, func(b *testing.B) {
			evs := benchEvents(b, p.stream, p.upstream.NDJSON())
			size := 0
			for _, ev := range evs {
				size += len(ev.Data)
			}
			b.SetBytes(int64(size))
			b.ReportAllocs()
			var out []byte
			for b.Loop() {
				tr := New(p.client, p.upstream, Options{Model: "up-model"})
				if _, err := tr.Request([]byte(p.request)); err != nil {
					b.Fatal(err)
				}
				for _, ev := range evs {
					var err error
					if out, err = tr.Stream(out[:0], ev); err != nil {
						b.Fatal(err)
					}
				}
				if _, err := tr.End(out[:0]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkResponse converts one non-streaming upstream answer per iteration.
func BenchmarkResponse(b *testing.B) {
	for _, p := range benchPairs {
		b.Run(p.name, func(b *testing.B) {
			body := readTestdata(b, p.response)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				tr := New(p.client, p.upstream, Options{Model: "up-model"})
				if _, err := tr.Response(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchText is about size bytes of prose.
func benchText(size int) string {
	return strings.Repeat("lorem ipsum ", size/12+1)[:size]
}

// BenchmarkRequest converts one client request of about 5 KB per iteration (a
// fresh translator and its Request, as the gateway does): a Responses request to
// Anthropic next to the Chat request of the same content, and the other new
// directions, plus Codex's 47 KB first request for scale.
func BenchmarkRequest(b *testing.B) {
	text := benchText(5 << 10)
	chat := fmt.Sprintf(`{"model":"m","temperature":0.3,"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":%q}]}`, text)
	resp := fmt.Sprintf(`{"model":"m","temperature":0.3,"instructions":"Be brief.","input":[{"role":"user","content":[{"type":"input_text","text":%q}]}]}`, text)
	anth := fmt.Sprintf(`{"model":"m","max_tokens":256,"system":"Be brief.","messages":[{"role":"user","content":%q}]}`, text)
	cases := []struct {
		name             string
		client, upstream wire.Protocol
		body             []byte
	}{
		{"chat-to-anthropic-5KB", wire.OpenAIChat, wire.AnthropicMessages, []byte(chat)},
		{"responses-to-anthropic-5KB", wire.OpenAIResponses, wire.AnthropicMessages, []byte(resp)},
		{"responses-to-ollama-5KB", wire.OpenAIResponses, wire.OllamaChat, []byte(resp)},
		{"responses-to-chat-5KB", wire.OpenAIResponses, wire.OpenAIChat, []byte(resp)},
		{"chat-to-responses-5KB", wire.OpenAIChat, wire.OpenAIResponses, []byte(chat)},
		{"anthropic-to-responses-5KB", wire.AnthropicMessages, wire.OpenAIResponses, []byte(anth)},
		{"codex-to-anthropic-47KB", wire.OpenAIResponses, wire.AnthropicMessages, readTestdata(b, "responses/codex-cli-request.json")},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := New(c.client, c.upstream, Options{Model: "up-model"}).Request(c.body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
