package openai

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/llmrouter/llmrouter/internal/wire"
)

func TestReadAnswer(t *testing.T) {
	tests := []struct {
		name    string
		api     API
		fixture string
		stream  bool
		want    wire.Answer
	}{
		{"chat body", Chat, "openai-chat-response.json", false, wire.Answer{Model: "gpt-5.4", Finish: []string{"stop"}}},
		{"completions body", Completions, "openai-completions-response.json", false, wire.Answer{Model: "babbage:2023-07-21-v2", Finish: []string{"length"}}},
		{"chat stream, finish on one chunk", Chat, "openai-chat-stream-parallel-tools.sse", true, wire.Answer{Model: "gpt-4o-2024-08-06", Finish: []string{"tool_calls"}}},
		{"chat stream ending on length", Chat, "openai-chat-stream-reasoning-length.sse", true, wire.Answer{Model: "gpt-5-nano-2025-08-07", Finish: []string{"length"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a wire.Answer
			if tt.stream {
				for _, ev := range events(t, tt.fixture) {
					tt.api.ReadAnswer(ev.Data, &a)
				}
			} else {
				tt.api.ReadAnswer(readFixture(t, tt.fixture), &a)
			}
			if diff := cmp.Diff(tt.want, a); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
		})
	}
}

// An upstream sending a finish reason on every chunk cannot grow the answer past
// wire.MaxFinish; [DONE] and non-objects say nothing.
func TestReadAnswerBounds(t *testing.T) {
	var a wire.Answer
	for range 1000 {
		Chat.ReadAnswer([]byte(`{"model":"m","choices":[{"index":0,"finish_reason":"stop"},{"index":1,"finish_reason":"length"}]}`), &a)
	}
	Chat.ReadAnswer([]byte(Done), &a)
	Chat.ReadAnswer([]byte(`"model"`), &a)
	if len(a.Finish) != wire.MaxFinish || a.Model != "m" {
		t.Errorf("answer = %d reasons, model %q; want %d, m", len(a.Finish), a.Model, wire.MaxFinish)
	}
}

// With Content the first choice's text is read from a body and from a stream's
// chunks; without it, none.
func TestReadAnswerText(t *testing.T) {
	a := wire.Answer{Content: true}
	Chat.ReadAnswer(readFixture(t, "openai-chat-response.json"), &a)
	if string(a.Text) != "Hello! How can I assist you today?" {
		t.Errorf("body text %q", a.Text)
	}
	a = wire.Answer{Content: true}
	for _, ev := range events(t, "openai-chat-stream-usage.sse") {
		Chat.ReadAnswer(ev.Data, &a)
	}
	if string(a.Text) != "Olá!" {
		t.Errorf("stream text %q", a.Text)
	}
	var off wire.Answer
	Chat.ReadAnswer(readFixture(t, "openai-chat-response.json"), &off)
	if off.Text != nil {
		t.Errorf("text read without Content: %q", off.Text)
	}
}
