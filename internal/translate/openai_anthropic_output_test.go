package translate

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/llmrouter/llmrouter/internal/wire"
)

// reasoning_effort reaches Anthropic as thinking in the form the model takes, with
// max_tokens above the budget (issue 9 item 4); response_format json_schema as
// output_config.format (issue 9 item 9).
func TestOpenAIToAnthropicThinkingAndFormat(t *testing.T) {
	const user = `"messages":[{"role":"user","content":"x"}]`
	tests := []struct {
		name, model, body, want string
		wantDropped             []string
	}{{
		name: "none turns thinking off", model: "claude-opus-4-8",
		body: `{` + user + `,"reasoning_effort":"none","temperature":0.2}`,
		want: `{"model":"claude-opus-4-8","max_tokens":4096,` + user + `,"temperature":0.2,"thinking":{"type":"disabled"}}`,
	}, {
		name: "a model that takes adaptive thinking gets the effort", model: "claude-opus-4-6",
		body: `{` + user + `,"reasoning_effort":"xhigh","max_completion_tokens":500}`,
		want: `{"model":"claude-opus-4-6","max_tokens":500,` + user + `,
			"thinking":{"type":"adaptive"},"output_config":{"effort":"xhigh"}}`,
	}, {
		name: "minimal is Anthropic's lowest effort", model: "claude-sonnet-5-5",
		body: `{` + user + `,"reasoning_effort":"minimal"}`,
		want: `{"model":"claude-sonnet-5-5","max_tokens":4096,` + user + `,
			"thinking":{"type":"adaptive"},"output_config":{"effort":"low"}}`,
	}, {
		name: "an older model gets a budget, and max_tokens grows past it when the client set none", model: "claude-sonnet-4-5",
		body: `{` + user + `,"reasoning_effort":"high","temperature":0.5,"top_p":0.9}`,
		want: `{"model":"claude-sonnet-4-5","max_tokens":20480,` + user + `,
			"thinking":{"type":"enabled","budget_tokens":16384}}`,
		wantDropped: []string{"temperature", "top_p"},
	}, {
		name: "the client's limit stays, and the budget shrinks below it", model: "claude-haiku-4-5",
		body: `{` + user + `,"reasoning_effort":"medium","max_tokens":3000}`,
		want: `{"model":"claude-haiku-4-5","max_tokens":3000,` + user + `,
			"thinking":{"type":"enabled","budget_tokens":2999}}`,
	}, {
		name: "a limit that leaves no room for the smallest budget: no thinking", model: "claude-3-7-sonnet-20250219",
		body:        `{` + user + `,"reasoning_effort":"low","max_completion_tokens":1024,"temperature":0.5}`,
		want:        `{"model":"claude-3-7-sonnet-20250219","max_tokens":1024,` + user + `,"temperature":0.5}`,
		wantDropped: []string{"reasoning_effort"},
	}, {
		name: "a forced tool call wins over thinking", model: "claude-opus-4-8",
		body: `{` + user + `,"reasoning_effort":"high","tool_choice":"required","tools":[{"type":"function","function":{"name":"g"}}]}`,
		want: `{"model":"claude-opus-4-8","max_tokens":4096,` + user + `,
			"tools":[{"name":"g","input_schema":{"type":"object"}}],"tool_choice":{"type":"any"}}`,
		wantDropped: []string{"reasoning_effort"},
	}, {
		name: "json_schema is output_config.format", model: "claude-opus-4-8",
		body: `{` + user + `,"response_format":{"type":"json_schema","json_schema":{"name":"city","strict":true,
			"schema":{"type":"object","properties":{"name":{"type":"string"}},"required":["name"],"additionalProperties":false}}}}`,
		want: `{"model":"claude-opus-4-8","max_tokens":4096,` + user + `,"output_config":{"format":{"type":"json_schema",
			"schema":{"type":"object","properties":{"name":{"type":"string"}},"required":["name"],"additionalProperties":false}}}}`,
		wantDropped: []string{"response_format.json_schema.name"},
	}, {
		name: "format and effort share output_config", model: "claude-opus-4-8",
		body: `{` + user + `,"reasoning_effort":"low","response_format":{"type":"json_schema","json_schema":{"name":"o","description":"d","schema":{"type":"object"}}}}`,
		want: `{"model":"claude-opus-4-8","max_tokens":4096,` + user + `,"thinking":{"type":"adaptive"},
			"output_config":{"effort":"low","format":{"type":"json_schema","schema":{"type":"object"}}}}`,
		wantDropped: []string{"response_format.json_schema.name", "response_format.json_schema.description"},
	}, {
		name: "json_schema without a schema sends nothing", model: "claude-opus-4-8",
		body:        `{` + user + `,"response_format":{"type":"json_schema","json_schema":{"name":"o"}}}`,
		want:        `{"model":"claude-opus-4-8","max_tokens":4096,` + user + `}`,
		wantDropped: []string{"response_format"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := New(wire.OpenAIChat, wire.AnthropicMessages, Options{Model: tt.model})
			out, err := tr.Request([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(decodeJSON(t, []byte(tt.want)), decodeJSON(t, out)); diff != "" {
				t.Errorf("request (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantDropped, tr.Dropped()); diff != "" {
				t.Errorf("Dropped (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOpenAIToAnthropicThinkingErrors(t *testing.T) {
	for _, tt := range []struct{ body, param string }{
		{`{"messages":[],"reasoning_effort":"extreme"}`, "reasoning_effort"},
		{`{"messages":[],"reasoning_effort":3}`, "reasoning_effort"},
		{`{"messages":[],"response_format":{"type":"yaml"}}`, "response_format.type"},
		{`{"messages":[],"response_format":{"type":"json_schema","json_schema":"x"}}`, "response_format.json_schema"},
		{`{"messages":[],"response_format":"json"}`, "response_format"},
	} {
		_, err := New(wire.OpenAIChat, wire.AnthropicMessages, Options{}).Request([]byte(tt.body))
		if param := requestErrorParam(t, err); param != tt.param {
			t.Errorf("%s: param %q, want %q", tt.body, param, tt.param)
		}
	}
}

// requestErrorParam is the Param of err, a *RequestError, failing the test for
// any other error.
func requestErrorParam(t *testing.T, err error) string {
	t.Helper()
	var re *RequestError
	if !errors.As(err, &re) {
		t.Fatalf("err = %v, want a *RequestError", err)
	}
	return re.Param
}
