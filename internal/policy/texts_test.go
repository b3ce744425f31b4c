package policy

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/llmrouter/llmrouter/internal/anthropic"
	"github.com/llmrouter/llmrouter/internal/ollama"
	"github.com/llmrouter/llmrouter/internal/openai"
	"github.com/llmrouter/llmrouter/internal/responses"
)

// Texts finds what the regex rules would rewrite, with the role each counts as,
// decoded; nothing else (images, tool calls, thinking, ids) and nothing from a
// body that is not one JSON object.
func TestTexts(t *testing.T) {
	type text struct{ Role, Text string }
	tests := []struct {
		name  string
		proto Dialect
		body  string
		want  []text
	}{
		{"openai chat", openai.Chat,
			`{"model":"m","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":[{"type":"text","text":"caf\u00e9"},{"type":"image_url","image_url":{"url":"data:x"}}]},{"role":"assistant","content":null,"tool_calls":[{"id":"c","function":{"name":"f","arguments":"{}"}}]}]}`,
			[]text{{"system", "Be brief."}, {"user", "café"}}},
		{"anthropic", anthropic.Messages,
			`{"model":"m","system":"Sys","messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":[{"type":"text","text":"42"}]},{"type":"text","text":"And?"}]},{"role":"assistant","content":[{"type":"thinking","thinking":"secret plan"},{"type":"text","text":"Done"}]}]}`,
			[]text{{"system", "Sys"}, {"tool", "42"}, {"user", "And?"}, {"assistant", "Done"}}},
		{"legacy completions", openai.Completions, `{"model":"m","prompt":["a","b"]}`, []text{{"user", "a"}, {"user", "b"}}},
		{"ollama generate", ollama.Generate, `{"model":"m","system":"S","prompt":"P"}`, []text{{"system", "S"}, {"user", "P"}}},
		{"responses", responses.Responses,
			`{"model":"m","instructions":"Be brief.","input":[{"role":"user","content":[{"type":"input_text","text":"Weather?"},{"type":"input_image","image_url":"data:x"}]},{"type":"function_call","call_id":"c","name":"weather","arguments":"{}"},{"type":"function_call_output","call_id":"c","output":"40 C"}]}`,
			[]text{{"system", "Be brief."}, {"user", "Weather?"}, {"tool", "40 C"}}},
		{"responses, input a string", responses.Responses, `{"model":"m","input":"Hi"}`, []text{{"user", "Hi"}}},
		{"not an object", openai.Chat, `["messages"]`, nil},
		{"not JSON", openai.Chat, `{"messages":[`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []text
			Texts([]byte(tt.body), tt.proto, func(role string, s []byte) { got = append(got, text{role, string(s)}) })
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("texts (-want +got):\n%s", diff)
			}
		})
	}
}
