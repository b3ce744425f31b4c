package translate

import (
	"errors"
	"testing"

	"github.com/llmrouter/llmrouter/internal/wire"
)

// A count request for OpenAI is the Chat request of the same Anthropic request,
// converted to Responses, with only what the input token count takes; its answer
// is Anthropic's count.
func TestCountTokensForOpenAI(t *testing.T) {
	tr := New(wire.AnthropicMessages, wire.OpenAIChat, Options{Op: wire.CountTokens, Model: "gpt-4o"})
	f, ok := tr.(Finisher)
	if !ok {
		t.Fatalf("%T is no Finisher", tr)
	}
	chat, err := tr.Request([]byte(`{"model":"claude","system":"Be brief","messages":[{"role":"user","content":"Hi"}],` +
		`"tool_choice":{"type":"auto"},"tools":[{"name":"f","input_schema":{"type":"object"}}],"thinking":{"type":"enabled","budget_tokens":2048}}`))
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.Finish(chat)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"model":"gpt-4o","input":[{"type":"message","role":"system","content":"Be brief"},{"type":"message","role":"user","content":"Hi"}],` +
		`"tools":[{"type":"function","name":"f","parameters":{"type":"object"},"strict":false}],"tool_choice":"auto"}`
	if string(got) != want {
		t.Errorf("count request\n%s\nwant\n%s", got, want)
	}
	out, err := tr.Response([]byte(`{"object":"response.input_tokens","input_tokens":42}`))
	if err != nil || string(out) != `{"input_tokens":42}` {
		t.Errorf("Response = %s, %v", out, err)
	}
	for _, body := range []string{`{"error":{"type":"invalid_request_error","message":"no"}}`, `{"object":"response","input_tokens":1}`, `nope`} {
		_, err := tr.Response([]byte(body))
		var se *StreamError
		var sh *ShapeError
		if !errors.As(err, &se) && !errors.As(err, &sh) {
			t.Errorf("Response(%s) = %v", body, err)
		}
	}
}
