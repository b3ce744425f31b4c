package anthropic

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/llmrouter/llmrouter/internal/wire"
)

func TestReadAnswer(t *testing.T) {
	tests := []struct {
		fixture string
		stream  bool
		want    wire.Answer
	}{
		{"anthropic-messages-response.json", false, wire.Answer{Model: "claude-sonnet-4-20250514", Finish: []string{"end_turn"}}},
		{"anthropic-messages-stream-text.sse", true, wire.Answer{Model: "claude-3-opus-latest", Finish: []string{"end_turn"}}},
		{"anthropic-messages-stream-max-tokens.sse", true, wire.Answer{Model: "claude-3-7-sonnet-20250219", Finish: []string{"max_tokens"}}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			var a wire.Answer
			if tt.stream {
				for _, ev := range events(t, tt.fixture) {
					Messages.ReadAnswer(ev.Data, &a)
				}
			} else {
				Messages.ReadAnswer(readFixture(t, tt.fixture), &a)
			}
			if diff := cmp.Diff(tt.want, a); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
		})
	}
}

// With Content, a stream's text_delta pieces make the answer's text.
func TestReadAnswerText(t *testing.T) {
	a := wire.Answer{Content: true}
	for _, ev := range events(t, "anthropic-messages-stream-text.sse") {
		Messages.ReadAnswer(ev.Data, &a)
	}
	if string(a.Text) != "Hello there!" {
		t.Errorf("stream text %q", a.Text)
	}
	b := wire.Answer{Content: true}
	Messages.ReadAnswer([]byte(`{"type":"message","model":"m","content":[{"type":"thinking","thinking":"hm"},{"type":"text","text":"a"},{"type":"tool_use","id":"t","name":"f","input":{}},{"type":"text","text":"b"}],"stop_reason":"tool_use"}`), &b)
	if string(b.Text) != "ab" || b.Finish[0] != "tool_use" {
		t.Errorf("body: %+v", b)
	}
}
