package translate

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tidwall/gjson"

	"github.com/llmrouter/llmrouter/internal/openai"
	"github.com/llmrouter/llmrouter/internal/wire"
)

func TestAnthropicToOpenAIGolden(t *testing.T) {
	runGoldens(t, goldenSets["anthropic_openai"])
}

// convertMessages converts an Anthropic request with Options{Model:"gpt-test"}.
func convertMessages(t *testing.T, body string) (any, []string, error) {
	t.Helper()
	tr := New(wire.AnthropicMessages, wire.OpenAIChat, Options{Model: "gpt-test"})
	out, err := tr.Request([]byte(body))
	if err != nil {
		return nil, tr.Dropped(), err
	}
	return decodeJSON(t, out), tr.Dropped(), nil
}

func TestAnthropicToOpenAIRequest(t *testing.T) {
	tests := []struct {
		name        string
		body        string
		want        string
		wantDropped []string
	}{{
		name: "system blocks become text parts; cache_control, top_k and thinking are dropped",
		body: `{"model":"claude","max_tokens":100,"top_k":5,"thinking":{"type":"enabled","budget_tokens":50},
			"system":[{"type":"text","text":"A","cache_control":{"type":"ephemeral"}},{"type":"text","text":"B"}],
			"messages":[{"role":"user","content":"hi"}]}`,
		want: `{"model":"gpt-test","max_completion_tokens":100,"messages":[
			{"role":"system","content":[{"type":"text","text":"A"},{"type":"text","text":"B"}]},
			{"role":"user","content":"hi"}]}`,
		wantDropped: []string{"top_k", "thinking", "system[0].cache_control"},
	}, {
		name: "tool results become tool messages before the rest of the user turn",
		body: `{"max_tokens":10,"messages":[{"role":"user","content":"q"},
			{"role":"assistant","content":[{"type":"thinking","thinking":"t","signature":"s"},{"type":"text","text":"let me"},
				{"type":"tool_use","id":"t1","name":"f","input":{"a":1}},{"type":"tool_use","id":"t2","name":"g","input":{}}]},
			{"role":"user","content":[{"type":"text","text":"here"},
				{"type":"tool_result","tool_use_id":"t1","content":[{"type":"text","text":"r1"},{"type":"text","text":"more"}]},
				{"type":"tool_result","tool_use_id":"t2","content":"boom","is_error":true},
				{"type":"tool_result","tool_use_id":"t3","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"AA"}}]}]}]}`,
		want: `{"model":"gpt-test","max_completion_tokens":10,"messages":[
			{"role":"user","content":"q"},
			{"role":"assistant","content":"let me","tool_calls":[
				{"id":"t1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}},
				{"id":"t2","type":"function","function":{"name":"g","arguments":"{}"}}]},
			{"role":"tool","tool_call_id":"t1","content":"r1\nmore"},
			{"role":"tool","tool_call_id":"t2","content":"Error: boom"},
			{"role":"tool","tool_call_id":"t3","content":""},
			{"role":"user","content":"here"}]}`,
		wantDropped: []string{"messages[1].content[0]", "messages[2].content[3].content[0]"},
	}, {
		name: "images, sampling, stop, user, stream with usage",
		body: `{"max_tokens":10,"temperature":0.5,"top_p":0.9,"stop_sequences":["X","Y"],"metadata":{"user_id":"u"},"stream":true,
			"messages":[{"role":"user","content":[{"type":"text","text":"see"},
				{"type":"image","source":{"type":"base64","media_type":"image/png","data":"AAAA"}},
				{"type":"image","source":{"type":"url","url":"https://x.test/a.jpg"}}]}]}`,
		want: `{"model":"gpt-test","max_completion_tokens":10,"temperature":0.5,"top_p":0.9,"stop":["X","Y"],"user":"u",
			"stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":[
				{"type":"text","text":"see"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}},
				{"type":"image_url","image_url":{"url":"https://x.test/a.jpg"}}]}]}`,
	}, {
		name: "tools and tool_choice tool with disable_parallel_tool_use; server tools dropped",
		body: `{"max_tokens":10,"messages":[{"role":"user","content":"x"}],
			"tool_choice":{"type":"tool","name":"f","disable_parallel_tool_use":true},
			"tools":[{"name":"f","description":"d","input_schema":{"type":"object"},"cache_control":{"type":"ephemeral"}},
				{"type":"web_search_20250305","name":"web_search"},{"name":"g"}]}`,
		want: `{"model":"gpt-test","max_completion_tokens":10,"messages":[{"role":"user","content":"x"}],
			"tools":[{"type":"function","function":{"name":"f","description":"d","parameters":{"type":"object"}}},
				{"type":"function","function":{"name":"g","parameters":{"type":"object"}}}],
			"tool_choice":{"type":"function","function":{"name":"f"}},"parallel_tool_calls":false}`,
		wantDropped: []string{"tools[0].cache_control", "tools[1]"},
	}, {
		name:        "tool_choice any is required; without tools tool_choice is dropped",
		body:        `{"max_tokens":10,"messages":[{"role":"user","content":"x"}],"tool_choice":{"type":"any"}}`,
		want:        `{"model":"gpt-test","max_completion_tokens":10,"messages":[{"role":"user","content":"x"}]}`,
		wantDropped: []string{"tool_choice"},
	}, {
		name: "an assistant turn of thinking only is not sent; unknown fields dropped",
		body: `{"max_tokens":10,"service_tier":"auto","messages":[{"role":"user","content":"x"},
			{"role":"assistant","content":[{"type":"redacted_thinking","data":"zz"}]},{"role":"user","content":"y"}],
			"metadata":{"user_id":"u","tenant":"t"}}`,
		want: `{"model":"gpt-test","max_completion_tokens":10,"user":"u","messages":[{"role":"user","content":"x"},
			{"role":"user","content":"y"}]}`,
		wantDropped: []string{"service_tier", "messages[1].content[0]", "metadata.tenant"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, dropped, err := convertMessages(t, tt.body)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(decodeJSON(t, []byte(tt.want)), got); diff != "" {
				t.Errorf("request (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantDropped, dropped); diff != "" {
				t.Errorf("Dropped (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAnthropicToOpenAIRequestErrors(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		wantParam string
	}{
		{"invalid JSON", `{`, ""},
		{"messages missing", `{"max_tokens":1}`, "messages"},
		{"bad role", `{"messages":[{"role":"tool","content":"x"}]}`, "messages[0].role"},
		{"document block", `{"messages":[{"role":"user","content":[{"type":"document","source":{"type":"text","data":"x"}}]}]}`,
			"messages[0].content[0]"},
		{"unknown user block", `{"messages":[{"role":"user","content":[{"type":"tool_use","id":"x","name":"f","input":{}}]}]}`,
			"messages[0].content[0].type"},
		{"image file source", `{"messages":[{"role":"user","content":[{"type":"image","source":{"type":"file","file_id":"f"}}]}]}`,
			"messages[0].content[0].source.type"},
		{"tool_use input not an object", `{"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"x","name":"f","input":[1]}]}]}`,
			"messages[0].content[0].input"},
		{"max_tokens not an integer", `{"max_tokens":1.5,"messages":[]}`, "max_tokens"},
		{"max_tokens zero", `{"max_tokens":0,"messages":[]}`, "max_tokens"},
		{"unknown tool_choice", `{"messages":[],"tools":[{"name":"f"}],"tool_choice":{"type":"maybe"}}`, "tool_choice.type"},
		{"system image", `{"messages":[],"system":[{"type":"image","source":{"type":"url","url":"https://x"}}]}`, "system[0].type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := convertMessages(t, tt.body)
			var re *RequestError
			if !errors.As(err, &re) {
				t.Fatalf("err = %v, want a *RequestError", err)
			}
			if re.Param != tt.wantParam {
				t.Errorf("Param = %q, want %q (%v)", re.Param, tt.wantParam, err)
			}
		})
	}
}

// TestAnthropicToOpenAIFixtureFacts checks what the goldens of the follow-up fixtures
// must hold: the thinking block is dropped and recorded, the tool_result follows the
// assistant tool call, and both parallel results become tool messages in order.
func TestAnthropicToOpenAIFixtureFacts(t *testing.T) {
	got, dropped, err := convertMessages(t, string(readFixture(t, "anthropic-messages-request-thinking-followup.json")))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"messages[1].content[0]", "thinking"}, dropped); diff != "" {
		t.Errorf("Dropped (-want +got):\n%s", diff)
	}
	want := `{"model":"gpt-test","max_completion_tokens":4096,"stream":true,"stream_options":{"include_usage":true},
		"tool_choice":"auto","messages":[
		{"role":"system","content":"You are a helpful assistant"},
		{"role":"user","content":"What's the weather in Florence, Italy?"},
		{"role":"assistant","tool_calls":[{"id":"toolu_01Js4AMfx5qpTLhwTusnvT68","type":"function",
			"function":{"name":"weather","arguments":"{\"location\":\"Florence, Italy\"}"}}]},
		{"role":"tool","tool_call_id":"toolu_01Js4AMfx5qpTLhwTusnvT68","content":"40 C"}],
		"tools":[{"type":"function","function":{"name":"weather","description":"Get weather information for a location",
			"parameters":{"properties":{"location":{"description":"the city","type":"string"}},"required":["location"],"type":"object"}}}]}`
	if diff := cmp.Diff(decodeJSON(t, []byte(want)), got); diff != "" {
		t.Errorf("request (-want +got):\n%s", diff)
	}

	got, _, err = convertMessages(t, string(readFixture(t, "anthropic-messages-request-parallel-tool-results.json")))
	if err != nil {
		t.Fatal(err)
	}
	msgs := got.(map[string]any)["messages"].([]any)
	var roles []string
	for _, m := range msgs {
		roles = append(roles, m.(map[string]any)["role"].(string))
	}
	if diff := cmp.Diff([]string{"system", "user", "assistant", "tool", "tool"}, roles); diff != "" {
		t.Errorf("roles (-want +got):\n%s", diff)
	}
	if c := msgs[4].(map[string]any)["content"]; c != "6" {
		t.Errorf("second tool result content = %v, want 6", c)
	}
}

func TestOpenAIToAnthropicMessageResponse(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string
	}{{
		name: "text, refusal and tool calls; cached tokens leave input_tokens",
		body: `{"id":"chatcmpl-1","model":"gpt-x","choices":[{"index":0,"message":{"role":"assistant","content":"hi",
			"refusal":"no","tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{\n\"a\": 1}"}},
			{"id":"call_2","type":"function","function":{"name":"g","arguments":"{\"cut"}}]},"finish_reason":"tool_calls"}],
			"usage":{"prompt_tokens":100,"completion_tokens":9,"total_tokens":109,"prompt_tokens_details":{"cached_tokens":60}}}`,
		want: `{"id":"msg_1","type":"message","role":"assistant","model":"gpt-x","content":[
			{"type":"text","text":"hi"},{"type":"text","text":"no"},
			{"type":"tool_use","id":"call_1","name":"f","input":{"a":1}},{"type":"tool_use","id":"call_2","name":"g","input":{}}],
			"stop_reason":"tool_use","stop_sequence":null,
			"usage":{"input_tokens":40,"cache_creation_input_tokens":0,"cache_read_input_tokens":60,"output_tokens":9}}`,
	}, {
		name: "reasoning_content (vLLM, DeepSeek) is a thinking block without a signature",
		body: `{"id":"chatcmpl-2","model":"deepseek-reasoner","choices":[{"index":0,"message":{"role":"assistant",
			"content":"4","reasoning_content":"2+2 is 4","reasoning":"ignored: the same text under the other name"},
			"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":8,"total_tokens":13}}`,
		want: `{"id":"msg_2","type":"message","role":"assistant","model":"deepseek-reasoner","content":[
			{"type":"thinking","thinking":"2+2 is 4","signature":""},{"type":"text","text":"4"}],
			"stop_reason":"end_turn","stop_sequence":null,
			"usage":{"input_tokens":5,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":8}}`,
	}, {
		name: "no choices and no usage",
		body: `{"id":"x","model":"m","choices":[]}`,
		want: `{"id":"msg_x","type":"message","role":"assistant","model":"m","content":[],"stop_reason":"end_turn","stop_sequence":null,
			"usage":{"input_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":0}}`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := New(wire.AnthropicMessages, wire.OpenAIChat, Options{}).Response([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(decodeJSON(t, []byte(tt.want)), decodeJSON(t, out)); diff != "" {
				t.Errorf("response (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOpenAIToAnthropicStop(t *testing.T) {
	tests := []struct{ finish, want string }{
		{"stop", "end_turn"}, {"length", "max_tokens"}, {"tool_calls", "tool_use"},
		{"function_call", "tool_use"}, {"content_filter", "refusal"}, {"", "end_turn"}, {"other", "end_turn"},
	}
	for _, tt := range tests {
		if got := finishOfOpenAI(tt.finish).anthropic(); got != tt.want {
			t.Errorf("finishOfOpenAI(%q).anthropic() = %q, want %q", tt.finish, got, tt.want)
		}
	}
}

// messageSummary is what an Anthropic client accumulates from an event stream.
type messageSummary struct {
	ID, Model  string
	Blocks     []blockSummary
	StopReason string
	Usage      usageSummary
}

// usageSummary is an Anthropic usage object with every count read as a number.
type usageSummary struct {
	InputTokens              int64 `json:"input_tokens"`
	CacheCreationInputTokens int64 `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int64 `json:"cache_read_input_tokens"`
	OutputTokens             int64 `json:"output_tokens"`
}

type blockSummary struct {
	Type, ID, Name, Text string // Text: text or thinking deltas, or the concatenated partial_json
}

// summarizeMessage accumulates Anthropic events like a client would, checking the
// event order: message_start first, block indexes 0,1,… each started, fed and
// stopped in turn, message_delta then message_stop last, data.type == event name.
func summarizeMessage(t *testing.T, out []byte) messageSummary {
	t.Helper()
	var s messageSummary
	open := -1
	evs := sseEvents(t, out)
	for i, ev := range evs {
		var e struct {
			Type         string
			Index        int
			Message      struct{ ID, Model string }
			ContentBlock struct{ Type, ID, Name string } `json:"content_block"`
			Delta        struct {
				Type, Text  string
				Thinking    string
				PartialJSON string `json:"partial_json"`
				StopReason  string `json:"stop_reason"`
			}
			Usage usageSummary
		}
		if err := json.Unmarshal(ev.Data, &e); err != nil || e.Type != ev.Name {
			t.Fatalf("event %q data %s: %v", ev.Name, ev.Data, err)
		}
		switch {
		case (i == 0) != (e.Type == "message_start"), (i == len(evs)-1) != (e.Type == "message_stop"):
			t.Fatalf("event %d is %s", i, e.Type)
		case e.Type == "message_start":
			s.ID, s.Model = e.Message.ID, e.Message.Model
		case e.Type == "content_block_start":
			if open != -1 || e.Index != len(s.Blocks) {
				t.Fatalf("block %d starts while %d is open or out of order", e.Index, open)
			}
			open = e.Index
			s.Blocks = append(s.Blocks, blockSummary{Type: e.ContentBlock.Type, ID: e.ContentBlock.ID, Name: e.ContentBlock.Name})
		case e.Type == "content_block_delta":
			if e.Index != open {
				t.Fatalf("delta for block %d while %d is open", e.Index, open)
			}
			s.Blocks[open].Text += e.Delta.Text + e.Delta.Thinking + e.Delta.PartialJSON
		case e.Type == "content_block_stop":
			if e.Index != open {
				t.Fatalf("stop for block %d while %d is open", e.Index, open)
			}
			open = -1
		case e.Type == "message_delta":
			if open != -1 {
				t.Fatalf("message_delta with block %d open", open)
			}
			s.StopReason, s.Usage = e.Delta.StopReason, e.Usage
		}
	}
	return s
}

func TestOpenAIStreamToAnthropic(t *testing.T) {
	tests := []struct {
		fixture string
		want    messageSummary
	}{{
		fixture: "openai-chat-stream-usage.sse",
		want: messageSummary{ID: "msg_DuLdCoxuLDs8HRMlOuz0Bi4wgi4XJ", Model: "gpt-4o-2024-08-06",
			Blocks: []blockSummary{{Type: "text", Text: "Olá!"}}, StopReason: "end_turn",
			Usage: usageSummary{InputTokens: 20, OutputTokens: 2}},
	}, {
		fixture: "openai-chat-stream-parallel-tools.sse",
		want: messageSummary{ID: "msg_DuLdMEdkw5VsZSxKY3i9G934hT7LM", Model: "gpt-4o-2024-08-06",
			Blocks: []blockSummary{
				{Type: "tool_use", ID: "call_ehIWdjL1abZk1h8FWGLQ0Hie", Name: "add", Text: `{"a": 2, "b": 3}`},
				{Type: "tool_use", ID: "call_fBSgA47J5VeONggizTIvl7AH", Name: "multiply", Text: `{"a": 2, "b": 3}`},
			},
			StopReason: "tool_use", Usage: usageSummary{InputTokens: 106, OutputTokens: 50}},
	}, {
		fixture: "openai-chat-stream-reasoning-length.sse",
		want: messageSummary{ID: "msg_C4Hq5a6K3RaPMymUv70btQNYv6SvY", Model: "gpt-5-nano-2025-08-07",
			StopReason: "max_tokens", Usage: usageSummary{InputTokens: 12, OutputTokens: 100}},
	}, {
		// Two usage chunks (an SDK test body): the last wins; its cached_tokens (10)
		// exceed prompt_tokens (0), so input_tokens stays at 0.
		fixture: "openai-chat-stream-tools.sse",
		want: messageSummary{ID: "msg_A3Tguz3LSXTHBTY2NAPBCSyfBltxF", Model: "gpt-4o-2024-05-13",
			Blocks: []blockSummary{
				{Type: "text", Text: fixtureContent(t, "openai-chat-stream-tools.sse")},
				{Type: "tool_use", ID: "call_FXoAjBUMcVv1k40fficJ9cSs", Name: "get_weather", Text: `{"location":"Santorini, Greece"}`},
			},
			StopReason: "tool_use", Usage: usageSummary{CacheReadInputTokens: 10, OutputTokens: 50}},
	}}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			out, err := runStream(newTranslator(t, "anthropic_openai"), bytes.NewReader(readFixture(t, tt.fixture)))
			if err != nil {
				t.Fatal(err)
			}
			got := summarizeMessage(t, out)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("stream summary (-want +got):\n%s", diff)
			}
		})
	}
}

// fixtureContent concatenates the delta.content of an OpenAI chunk stream fixture.
func fixtureContent(t *testing.T, name string) string {
	t.Helper()
	var b strings.Builder
	for _, ev := range sseEvents(t, readFixture(t, name)) {
		b.WriteString(gjson.GetBytes(ev.Data, "choices.0.delta.content").String())
	}
	return b.String()
}

func TestOpenAIStreamToAnthropicEdges(t *testing.T) {
	const head = `"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt"`
	chunk := func(delta string) string {
		return "data: {" + head + `,"choices":[{"index":0,"delta":` + delta + `,"finish_reason":null}]}` + "\n\n"
	}
	tests := []struct {
		name    string
		body    string
		want    messageSummary
		wantErr error
	}{{
		name: "a tool call without id gets one; fragments of a closed call are ignored",
		body: chunk(`{"tool_calls":[{"index":0,"function":{"name":"f","arguments":"{\"a\""}}]}`) +
			chunk(`{"tool_calls":[{"index":1,"id":"x","function":{"name":"g","arguments":"{}"}}]}`) +
			chunk(`{"tool_calls":[{"index":0,"function":{"arguments":":1}"}}]}`) +
			chunk(`{"content":"after"}`) + "data: [DONE]\n\n",
		want: messageSummary{ID: "msg_c1", Model: "gpt", StopReason: "end_turn", Blocks: []blockSummary{
			{Type: "tool_use", ID: "generated", Name: "f", Text: `{"a"`},
			{Type: "tool_use", ID: "x", Name: "g", Text: `{}`},
			{Type: "text", Text: "after"},
		}},
	}, {
		name: "reasoning_content and reasoning deltas are one thinking block before the text",
		body: chunk(`{"role":"assistant","content":"","reasoning_content":"Let"}`) +
			chunk(`{"reasoning":" me"}`) + chunk(`{"content":"Hi"}`) + "data: [DONE]\n\n",
		want: messageSummary{ID: "msg_c1", Model: "gpt", StopReason: "end_turn", Blocks: []blockSummary{
			{Type: "thinking", Text: "Let me"},
			{Type: "text", Text: "Hi"},
		}},
	}, {
		name:    "finish_reason without [DONE] is truncated",
		body:    chunk(`{"content":"x"}`) + "data: {" + head + `,"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}` + "\n\n",
		wantErr: ErrTruncated,
	}, {
		name: "[DONE] alone still makes a whole message",
		body: "data: [DONE]\n\n",
		want: messageSummary{StopReason: "end_turn", ID: "generated"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := runStream(newTranslator(t, "anthropic_openai"), bytes.NewReader([]byte(tt.body)))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			got := summarizeMessage(t, out)
			for i, b := range got.Blocks {
				if i < len(tt.want.Blocks) && tt.want.Blocks[i].ID == "generated" && len(b.ID) > len("toolu_") {
					got.Blocks[i].ID = "generated"
				}
			}
			if tt.want.ID == "generated" && len(got.ID) > len("msg_") {
				got.ID = "generated"
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("stream summary (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOpenAIStreamErrorChunk(t *testing.T) {
	body := "data: {\"error\":{\"message\":\"boom\",\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n"
	out, err := runStream(newTranslator(t, "anthropic_openai"), bytes.NewReader([]byte(body)))
	var se *StreamError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want *StreamError", err)
	}
	if diff := cmp.Diff(StreamError{Type: "server_error", Message: "boom"}, *se); diff != "" {
		t.Errorf("StreamError (-want +got):\n%s", diff)
	}
	if len(out) != 0 {
		t.Errorf("output before the error: %q", out)
	}
}

// An Anthropic client's max_tokens reaches an OpenAI upstream in the field it
// reads (issue 9 item 2). Towards an OpenAI-compatible server (max_tokens) the
// request is the one Ollama's /v1 was seen to honour: the captured
// v1_chat_length request, answered with finish_reason "length" after 3 tokens.
func TestAnthropicToOpenAIOutputLimitField(t *testing.T) {
	in := readTestdata(t, "ollama-real/v1_messages_length.req.json")
	tests := []struct {
		name  string
		field openai.LimitField
		want  string
	}{
		{"OpenAI-compatible server", openai.MaxTokens, string(readTestdata(t, "ollama-real/v1_chat_length.req.json"))},
		{"OpenAI", openai.MaxCompletionTokens, `{"model":"tiny","max_completion_tokens":3,"messages":[{"role":"user","content":"Hi"}]}`},
		{"zero value is OpenAI's field", "", `{"model":"tiny","max_completion_tokens":3,"messages":[{"role":"user","content":"Hi"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := New(wire.AnthropicMessages, wire.OpenAIChat, Options{MaxTokensField: tt.field}).Request(in)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(decodeJSON(t, []byte(tt.want)), decodeJSON(t, out)); diff != "" {
				t.Errorf("request (-want +got):\n%s", diff)
			}
		})
	}
}
