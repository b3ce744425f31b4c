package translate

import (
	"runtime"
	"testing"

	"github.com/llmrouter/llmrouter/internal/sse"
	"github.com/llmrouter/llmrouter/internal/wire"
)

// A translated stream holds constant memory however long it runs: feeding 200,000
// text events through each stream converter leaves the live heap where 2,000 left it.
func TestStreamMemoryConstant(t *testing.T) {
	cases := []struct {
		name             string
		client, upstream wire.Protocol
		request          string
		head             []sse.Event
		event            sse.Event
	}{
		{"anthropic upstream to openai client", wire.OpenAIChat, wire.AnthropicMessages,
			`{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`,
			[]sse.Event{
				{Name: "message_start", Data: []byte(`{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"m","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":1,"output_tokens":1}}}`)},
				{Name: "content_block_start", Data: []byte(`{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`)},
			},
			sse.Event{Name: "content_block_delta", Data: []byte(`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"token "}}`)}},
		{"openai upstream to anthropic client", wire.AnthropicMessages, wire.OpenAIChat,
			`{"model":"m","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"hi"}]}`,
			[]sse.Event{{Data: []byte(`{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}`)}},
			sse.Event{Data: []byte(`{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"token "},"finish_reason":null}]}`)}},
		{"ollama upstream to openai client", wire.OpenAIChat, wire.OllamaChat,
			`{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`, nil,
			sse.Event{Data: []byte(`{"model":"m","created_at":"2026-11-27T04:31:58Z","message":{"role":"assistant","content":"token "},"done":false}`)}},
		{"ollama upstream to anthropic client", wire.AnthropicMessages, wire.OllamaChat,
			`{"model":"m","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"hi"}]}`, nil,
			sse.Event{Data: []byte(`{"model":"m","created_at":"2026-11-27T04:31:58Z","message":{"role":"assistant","content":"token "},"done":false}`)}},
		{"responses upstream to openai client", wire.OpenAIChat, wire.OpenAIResponses,
			`{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`,
			[]sse.Event{{Name: "response.output_item.added", Data: []byte(`{"type":"response.output_item.added","output_index":0,"item":{"id":"msg_1","type":"message","status":"in_progress","content":[],"role":"assistant"},"sequence_number":2}`)}},
			sse.Event{Name: "response.output_text.delta", Data: []byte(`{"type":"response.output_text.delta","content_index":0,"delta":"token ","item_id":"msg_1","logprobs":[],"output_index":0,"sequence_number":4}`)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr := New(c.client, c.upstream, Options{Model: "m"})
			if _, err := tr.Request([]byte(c.request)); err != nil {
				t.Fatal(err)
			}
			var dst []byte
			feed := func(n int) {
				for range n {
					var err error
					if dst, err = tr.Stream(dst[:0], c.event); err != nil {
						t.Fatal(err)
					}
				}
			}
			for _, ev := range c.head {
				if _, err := tr.Stream(nil, ev); err != nil {
					t.Fatal(err)
				}
			}
			feed(2000)
			before := liveHeap()
			feed(200000)
			after := liveHeap()
			if grown := int64(after) - int64(before); grown > 256<<10 {
				t.Errorf("live heap grew by %d bytes over 200,000 events", grown)
			}
			runtime.KeepAlive(tr)
		})
	}
}

func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
