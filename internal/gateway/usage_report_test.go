package gateway_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Every answer's token usage reaches the access log: read from the raw body or
// events by the upstream protocol's meter when the bytes pass through, from the
// translator when they are translated; streams and whole answers alike. Counts
// the answer does not report are left out.
func TestAccessLogReportsUsage(t *testing.T) {
	const chatStream = `{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]}`
	tests := []struct {
		name, path, body string
		upstream         http.HandlerFunc
		want             map[string]int64
	}{
		{"openai, passed through", "/v1/chat/completions", chatReq,
			replay(200, "application/json", fixture(t, "fixtures/openai-chat-response.json")),
			map[string]int64{"input_tokens": 19, "output_tokens": 10}},
		{"openai stream, passed through", "/v1/chat/completions", chatStream,
			replaySSE(fixture(t, "fixtures/openai-chat-stream-usage.sse")),
			map[string]int64{"input_tokens": 20, "output_tokens": 2}},
		{"openai stream with reasoning, passed through", "/v1/chat/completions", chatStream,
			replaySSE(fixture(t, "fixtures/openai-chat-stream-reasoning-length.sse")),
			map[string]int64{"input_tokens": 12, "output_tokens": 100, "reasoning_tokens": 100}},
		{"anthropic, passed through", "/v1/messages", msgsReq,
			replay(200, "application/json", fixture(t, "fixtures/anthropic-messages-response.json")),
			map[string]int64{"input_tokens": 16, "output_tokens": 34}},
		{"anthropic stream, passed through", "/v1/messages", strings.Replace(msgsReq, `"max_tokens"`, `"stream":true,"max_tokens"`, 1),
			replaySSE(fixture(t, "fixtures/anthropic-messages-stream-text.sse")),
			map[string]int64{"input_tokens": 11, "output_tokens": 6}},
		{"anthropic client, openai upstream, stream", "/v1/messages", msgsToOpenAI,
			replaySSE(fixture(t, "fixtures/openai-chat-stream-usage.sse")),
			map[string]int64{"input_tokens": 20, "output_tokens": 2}},
		{"openai client, anthropic upstream", "/v1/chat/completions", strings.Replace(chatReq, "gpt-4o", "claude-x", 1),
			replay(200, "application/json", fixture(t, "fixtures/anthropic-messages-response.json")),
			map[string]int64{"input_tokens": 16, "output_tokens": 34}},
		{"openai client, ollama upstream, stream", "/v1/chat/completions", strings.Replace(chatStream, "gpt-4o", "llama", 1),
			replay(200, "application/x-ndjson", fixture(t, "ollama-real/api_chat_stream.body")),
			map[string]int64{"input_tokens": 29, "output_tokens": 10}},
		{"responses, passed through", "/v1/responses", `{"model":"gpt-4o","input":"hi"}`,
			replay(200, "application/json", fixture(t, "responses/openai-responses-response-text.json")),
			map[string]int64{"input_tokens": 20, "output_tokens": 3}},
		{"responses stream with reasoning, passed through", "/v1/responses", `{"model":"gpt-4o","input":"hi","stream":true}`,
			replaySSE(fixture(t, "responses/openai-responses-stream-reasoning-summary.sse")),
			map[string]int64{"input_tokens": 63, "output_tokens": 121, "reasoning_tokens": 64}},
		{"responses client, anthropic upstream, stream", "/v1/responses", `{"model":"claude-x","input":"hi","stream":true}`,
			replaySSE(fixture(t, "fixtures/anthropic-messages-stream-text.sse")),
			map[string]int64{"input_tokens": 11, "output_tokens": 6}},
		{"an answer without usage", "/v1/chat/completions", chatReq,
			jsonReply(200, `{"id":"c","object":"chat.completion","created":1,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}]}`),
			map[string]int64{}},
	}
	keys := []string{"input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "reasoning_tokens"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := newUpstream(t, tt.upstream)
			rt := newRouter(t, faultConfig(quickRetry), up.URL)
			o := observe(t, rt)
			resp, line := logged(t, o, rt, tt.path, tt.body, nil)
			if line.Get("status").Int() != 200 {
				t.Fatalf("status %d: %s", line.Get("status").Int(), resp)
			}
			got := map[string]int64{}
			for _, k := range keys {
				if v := line.Get(k); v.Exists() {
					got[k] = v.Int()
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("usage in the access log (-want +got):\n%s\n%s", diff, line.Raw)
			}
		})
	}
}
