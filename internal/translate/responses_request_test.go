package translate

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/llmrouter/llmrouter/internal/openai"
	"github.com/llmrouter/llmrouter/internal/wire"
)

// convertResponses converts a Responses request for upstream with opt, whose
// Model is "up" unless set.
func convertResponses(t *testing.T, upstream wire.Protocol, opt Options, body string) (any, []string, error) {
	t.Helper()
	opt.Model = cmpOr(opt.Model, "up")
	tr := New(wire.OpenAIResponses, upstream, opt)
	out, err := tr.Request([]byte(body))
	if err != nil {
		return nil, tr.Dropped(), err
	}
	return decodeJSON(t, out), tr.Dropped(), nil
}

type respRequestCase struct {
	name        string
	opt         Options
	body        string
	want        string
	wantDropped []string
}

func runRespRequests(t *testing.T, upstream wire.Protocol, tests []respRequestCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, dropped, err := convertResponses(t, upstream, tt.opt, tt.body)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(decodeJSON(t, []byte(tt.want)), got); diff != "" {
				t.Errorf("request (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantDropped, dropped); diff != "" {
				t.Errorf("dropped (-want +got):\n%s", diff)
			}
		})
	}
}

func TestResponsesToAnthropicRequest(t *testing.T) {
	runRespRequests(t, wire.AnthropicMessages, []respRequestCase{{
		name: "instructions and system/developer messages are the system prompt; outputs come first in their user turn",
		body: `{"model":"gpt","instructions":"I","input":[{"role":"developer","content":"D"},{"role":"user","content":"q"},
			{"type":"function_call","id":"fc_1","status":"completed","call_id":"c1","name":"f","arguments":"{\"a\":1}"},
			{"type":"function_call","call_id":"c2","name":"g","arguments":""},
			{"type":"function_call_output","id":"fco_1","call_id":"c1","output":"r1"},
			{"type":"function_call_output","call_id":"c2","output":[{"type":"input_text","text":"r2"}]},
			{"role":"user","content":[{"type":"input_text","text":"and?"}]}],"store":false}`,
		want: `{"model":"up","max_tokens":4096,"system":"I\nD","messages":[
			{"role":"user","content":"q"},
			{"role":"assistant","content":[{"type":"tool_use","id":"c1","name":"f","input":{"a":1}},
				{"type":"tool_use","id":"c2","name":"g","input":{}}]},
			{"role":"user","content":[{"type":"tool_result","tool_use_id":"c1","content":"r1"},
				{"type":"tool_result","tool_use_id":"c2","content":"r2"},{"type":"text","text":"and?"}]}]}`,
	}, {
		name: "custom tools become functions of one string; their calls go back as {input}",
		body: `{"input":[{"role":"user","content":"patch"},
			{"type":"custom_tool_call","id":"ctc_1","call_id":"c1","name":"apply_patch","input":"*** Begin Patch\n"},
			{"type":"custom_tool_call_output","call_id":"c1","output":"Done"}],
			"tools":[{"type":"custom","name":"apply_patch","description":"Edit files.","format":{"type":"text"}}],
			"tool_choice":{"type":"custom","name":"apply_patch"},"parallel_tool_calls":false}`,
		want: `{"model":"up","max_tokens":4096,"messages":[{"role":"user","content":"patch"},
			{"role":"assistant","content":[{"type":"tool_use","id":"c1","name":"apply_patch","input":{"input":"*** Begin Patch\n"}}]},
			{"role":"user","content":[{"type":"tool_result","tool_use_id":"c1","content":"Done"}]}],
			"tools":[{"name":"apply_patch","description":"Edit files.","input_schema":{"type":"object",
				"properties":{"input":{"type":"string","description":"The tool's whole input, as plain text (not JSON)."}},
				"required":["input"],"additionalProperties":false}}],
			"tool_choice":{"type":"tool","name":"apply_patch","disable_parallel_tool_use":true}}`,
	}, {
		name: "hosted tools, store:true, metadata and unknown members are dropped and listed; cache hints consumed",
		body: `{"input":"hi","store":true,"metadata":{"a":"b"},"prompt_cache_key":"k","client_metadata":{},
			"include":["reasoning.encrypted_content","message.output_text.logprobs"],"text":{"verbosity":"low"},
			"tools":[{"type":"web_search"},{"type":"namespace","name":"n","tools":[]},{"type":"function","name":"f","strict":true}]}`,
		want: `{"model":"up","max_tokens":4096,"messages":[{"role":"user","content":"hi"}],
			"tools":[{"name":"f","input_schema":{"type":"object"}}]}`,
		wantDropped: []string{"store", "metadata", "include[1]", "text.verbosity",
			"tools[0]", "tools[1]", "tools[2].strict"},
	}, {
		name: "reasoning effort is a budget below max_output_tokens for Claude 4.5 and older",
		opt:  Options{Model: "claude-sonnet-4-5-20250929"},
		body: `{"input":"hi","reasoning":{"effort":"high","summary":"auto"},"max_output_tokens":10000}`,
		want: `{"model":"claude-sonnet-4-5-20250929","max_tokens":10000,"messages":[{"role":"user","content":"hi"}],
			"thinking":{"type":"enabled","budget_tokens":9999}}`,
	}, {
		name: "without max_output_tokens the budget is added to the default",
		opt:  Options{Model: "claude-3-7-sonnet-latest", MaxTokens: 1000},
		body: `{"input":"hi","reasoning":{"effort":"low"}}`,
		want: `{"model":"claude-3-7-sonnet-latest","max_tokens":6144,"messages":[{"role":"user","content":"hi"}],
			"thinking":{"type":"enabled","budget_tokens":2048}}`,
	}, {
		name: "newer and unknown models think adaptive at the effort; sampling is dropped with thinking",
		body: `{"input":"hi","reasoning":{"effort":"xhigh"},"temperature":0.5}`,
		want: `{"model":"up","max_tokens":4096,"messages":[{"role":"user","content":"hi"}],
			"thinking":{"type":"adaptive"},"output_config":{"effort":"xhigh"}}`,
		wantDropped: []string{"temperature"},
	}, {
		name: "effort none disables thinking",
		body: `{"input":"hi","reasoning":{"effort":"none"}}`,
		want: `{"model":"up","max_tokens":4096,"messages":[{"role":"user","content":"hi"}],"thinking":{"type":"disabled"}}`,
	}, {
		name: "a forced tool call leaves thinking off; effort none too",
		body: `{"input":"hi","reasoning":{"effort":"medium"},"tools":[{"type":"function","name":"f"}],"tool_choice":"required"}`,
		want: `{"model":"up","max_tokens":4096,"messages":[{"role":"user","content":"hi"}],
			"tools":[{"name":"f","input_schema":{"type":"object"}}],"tool_choice":{"type":"any"}}`,
		wantDropped: []string{"reasoning.effort"},
	}, {
		name: "json_schema is output_config.format; images are blocks; user is metadata.user_id",
		body: `{"user":"u1","input":[{"role":"user","content":[{"type":"input_text","text":"see"},
			{"type":"input_image","image_url":"data:image/png;base64,AAAA","detail":"high"},
			{"type":"input_image","image_url":"https://x/y.jpg","detail":"auto"}]}],
			"text":{"format":{"type":"json_schema","name":"P","strict":true,"schema":{"type":"object"}}}}`,
		want: `{"model":"up","max_tokens":4096,"messages":[{"role":"user","content":[{"type":"text","text":"see"},
			{"type":"image","source":{"type":"base64","media_type":"image/png","data":"AAAA"}},
			{"type":"image","source":{"type":"url","url":"https://x/y.jpg"}}]}],
			"metadata":{"user_id":"u1"},"output_config":{"format":{"type":"json_schema","schema":{"type":"object"}}}}`,
		wantDropped: []string{"input[0].content[1].detail"},
	}})
}

func TestResponsesToOllamaRequest(t *testing.T) {
	runRespRequests(t, wire.OllamaChat, []respRequestCase{{
		name: "calls join the assistant message; reasoning summaries are its thinking; outputs name their tool",
		body: `{"instructions":"I","stream":true,"input":[{"role":"user","content":"q"},
			{"type":"reasoning","id":"rs_1","summary":[{"type":"summary_text","text":"hmm"}],"encrypted_content":"gAAAA"},
			{"role":"assistant","content":[{"type":"output_text","text":"let me see"}]},
			{"type":"function_call","call_id":"c1","name":"f","arguments":"{\"a\":1}"},
			{"type":"function_call_output","call_id":"c1","output":"r1"}],
			"reasoning":{"effort":"minimal"},"max_output_tokens":50,"temperature":0.2,
			"text":{"format":{"type":"json_schema","name":"x","schema":{"type":"object"}}}}`,
		want: `{"model":"up","stream":true,"messages":[{"role":"system","content":"I"},{"role":"user","content":"q"},
			{"role":"assistant","content":"let me see","thinking":"hmm",
				"tool_calls":[{"id":"c1","function":{"index":0,"name":"f","arguments":{"a":1}}}]},
			{"role":"tool","content":"r1","tool_name":"f","tool_call_id":"c1"}],
			"format":{"type":"object"},"options":{"num_predict":50,"temperature":0.2},"think":true}`,
		wantDropped: []string{"input[1].encrypted_content"},
	}, {
		name: "tool_choice none sends no tools; required and parallel false cannot be said",
		body: `{"input":"x","tools":[{"type":"function","name":"f","parameters":{"type":"object"}}],"tool_choice":"required",
			"parallel_tool_calls":false,"user":"u"}`,
		want: `{"model":"up","stream":false,"messages":[{"role":"user","content":"x"}],
			"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}]}`,
		wantDropped: []string{"tool_choice", "parallel_tool_calls", "user"},
	}})
}

func TestResponsesToChatRequest(t *testing.T) {
	runRespRequests(t, wire.OpenAIChat, []respRequestCase{{
		name: "developer is system; calls join the assistant message; reasoning items are dropped",
		body: `{"instructions":"I","stream":true,"input":[{"role":"developer","content":"D"},{"role":"user","content":"q"},
			{"type":"reasoning","id":"rs_1","summary":[]},
			{"type":"function_call","call_id":"c1","name":"f","arguments":"{}"},
			{"type":"function_call_output","call_id":"c1","output":"r"}],
			"tools":[{"type":"function","name":"f","parameters":{"type":"object"},"strict":false}],"tool_choice":{"type":"function","name":"f"},
			"reasoning":{"effort":"low"},"max_output_tokens":64,"text":{"format":{"type":"json_object"}}}`,
		want: `{"model":"up","stream":true,"stream_options":{"include_usage":true},"max_completion_tokens":64,
			"reasoning_effort":"low","response_format":{"type":"json_object"},
			"messages":[{"role":"system","content":"I"},{"role":"system","content":"D"},{"role":"user","content":"q"},
				{"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},
				{"role":"tool","content":"r","tool_call_id":"c1"}],
			"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}],
			"tool_choice":{"type":"function","function":{"name":"f"}}}`,
		wantDropped: []string{"input[2]"},
	}, {
		name: "images keep their detail; json_schema keeps name and strict",
		body: `{"input":[{"role":"user","content":[{"type":"input_text","text":"see"},
			{"type":"input_image","image_url":"https://x/y.png","detail":"low"}]}],
			"text":{"format":{"type":"json_schema","name":"P","strict":true,"schema":{"type":"object"}}}}`,
		want: `{"model":"up","messages":[{"role":"user","content":[{"type":"text","text":"see"},
			{"type":"image_url","image_url":{"url":"https://x/y.png","detail":"low"}}]}],
			"response_format":{"type":"json_schema","json_schema":{"name":"P","schema":{"type":"object"},"strict":true}}}`,
	}})
}

// Translated routes keep no state: what needs it is a 400 that says so, on
// every upstream.
func TestResponsesStatelessRefusals(t *testing.T) {
	bodies := map[string]string{
		"previous_response_id": `{"previous_response_id":"resp_1","input":"x"}`,
		"conversation":         `{"conversation":"conv_1","input":"x"}`,
		"prompt":               `{"prompt":{"id":"pmpt_1"},"input":"x"}`,
		"background":           `{"background":true,"input":"x"}`,
		"input[0]":             `{"input":[{"type":"item_reference","id":"msg_1"}]}`,
	}
	for _, up := range []wire.Protocol{wire.AnthropicMessages, wire.OllamaChat, wire.OpenAIChat} {
		for param, body := range bodies {
			t.Run(up.String()+"/"+param, func(t *testing.T) {
				_, _, err := convertResponses(t, up, Options{}, body)
				var re *RequestError
				if !errors.As(err, &re) || re.Param != param || !strings.Contains(re.Message, "stateless") || !strings.Contains(re.Message, "whole conversation") {
					t.Errorf("err = %v, want a RequestError on %s saying the route is stateless", err, param)
				}
			})
		}
	}
}

func TestResponsesRequestErrors(t *testing.T) {
	tests := []struct{ name, body, param string }{
		{"no input", `{"model":"m"}`, "input"},
		{"input of the wrong type", `{"input":5}`, "input"},
		{"unknown role", `{"input":[{"role":"tool","content":"x"}]}`, "input[0].role"},
		{"an item without a type", `{"input":[{"call_id":"c"}]}`, "input[0].type"},
		{"a file", `{"input":[{"role":"user","content":[{"type":"input_file","file_id":"f"}]}]}`, "input[0].content[0]"},
		{"an image by file id", `{"input":[{"role":"user","content":[{"type":"input_image","file_id":"f"}]}]}`, "input[0].content[0].image_url"},
		{"arguments that are not an object", `{"input":[{"type":"function_call","call_id":"c","name":"f","arguments":"[1]"}]}`, "input[0].arguments"},
		{"an unknown effort", `{"input":"x","reasoning":{"effort":"extreme"}}`, "reasoning.effort"},
		{"an unknown format", `{"input":"x","text":{"format":{"type":"yaml"}}}`, "text.format.type"},
		{"a grammar without a definition", `{"input":"x","tools":[{"type":"custom","name":"c","format":{"type":"grammar","syntax":"lark"}}]}`, "tools[0].format.definition"},
		{"max_output_tokens 0", `{"input":"x","max_output_tokens":0}`, "max_output_tokens"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := convertResponses(t, wire.AnthropicMessages, Options{}, tt.body)
			var re *RequestError
			if !errors.As(err, &re) || re.Param != tt.param {
				t.Errorf("err = %v, want a RequestError on %s", err, tt.param)
			}
		})
	}
}

// The output limit goes in the field the Chat server reads (Options.MaxTokensField).
func TestResponsesToChatLimitField(t *testing.T) {
	for field, want := range map[openai.LimitField]string{"": "max_completion_tokens", openai.MaxCompletionTokens: "max_completion_tokens",
		openai.MaxTokens: "max_tokens"} {
		got, _, err := convertResponses(t, wire.OpenAIChat, Options{MaxTokensField: field}, `{"input":"x","max_output_tokens":20}`)
		if err != nil {
			t.Fatal(err)
		}
		m := got.(map[string]any)
		if m[want] != float64(20) || len(m) != 3 {
			t.Errorf("field %q: %v, want %s: 20", field, m, want)
		}
	}
}
