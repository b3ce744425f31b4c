package translate

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/llmrouter/llmrouter/internal/openai"
	"github.com/llmrouter/llmrouter/internal/wire"
)

func TestOpenAIToAnthropicGolden(t *testing.T) {
	runGoldens(t, goldenSets["openai_anthropic"])
}

// chatRequest converts an OpenAI Chat request with Options{Model:"claude-test"} plus opt.
func convertChat(t *testing.T, opt Options, body string) (any, []string, error) {
	t.Helper()
	opt.Model = "claude-test"
	tr := New(wire.OpenAIChat, wire.AnthropicMessages, opt)
	out, err := tr.Request([]byte(body))
	if err != nil {
		return nil, tr.Dropped(), err
	}
	return decodeJSON(t, out), tr.Dropped(), nil
}

func TestOpenAIToAnthropicRequest(t *testing.T) {
	tests := []struct {
		name        string
		opt         Options
		body        string
		want        string
		wantDropped []string
	}{{
		name: "system and developer messages are hoisted and joined, users merged",
		body: `{"model":"gpt","messages":[{"role":"system","content":"A"},{"role":"user","content":"hi"},
			{"role":"developer","content":[{"type":"text","text":"B"}]},{"role":"user","content":"there"}]}`,
		want: `{"model":"claude-test","max_tokens":4096,"system":"A\nB","messages":[
			{"role":"user","content":[{"type":"text","text":"hi"},{"type":"text","text":"there"}]}]}`,
	}, {
		name: "consecutive tool messages become one user turn, results before later user text",
		body: `{"messages":[{"role":"user","content":"q"},
			{"role":"assistant","content":"","tool_calls":[
				{"id":"c1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}},
				{"id":"c2","type":"function","function":{"name":"g","arguments":""}}]},
			{"role":"user","content":"also"},
			{"role":"tool","tool_call_id":"c1","content":"r1"},
			{"role":"tool","tool_call_id":"c2","content":[{"type":"text","text":"r2"}]}]}`,
		want: `{"model":"claude-test","max_tokens":4096,"messages":[
			{"role":"user","content":"q"},
			{"role":"assistant","content":[
				{"type":"tool_use","id":"c1","name":"f","input":{"a":1}},
				{"type":"tool_use","id":"c2","name":"g","input":{}}]},
			{"role":"user","content":[
				{"type":"tool_result","tool_use_id":"c1","content":"r1"},
				{"type":"tool_result","tool_use_id":"c2","content":[{"type":"text","text":"r2"}]},
				{"type":"text","text":"also"}]}]}`,
	}, {
		name: "assistant text goes before its tool calls; a leading assistant message is kept",
		body: `{"messages":[{"role":"assistant","content":"hello"},{"role":"user","content":"hi"},
			{"role":"assistant","content":[{"type":"text","text":"let me see"}],"tool_calls":[
				{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]}]}`,
		want: `{"model":"claude-test","max_tokens":4096,"messages":[
			{"role":"assistant","content":"hello"},{"role":"user","content":"hi"},
			{"role":"assistant","content":[{"type":"text","text":"let me see"},
				{"type":"tool_use","id":"c1","name":"f","input":{}}]}]}`,
	}, {
		name: "max_completion_tokens wins over max_tokens",
		opt:  Options{MaxTokens: 10},
		body: `{"max_tokens":70,"max_completion_tokens":50,"messages":[{"role":"user","content":"x"}]}`,
		want: `{"model":"claude-test","max_tokens":50,"messages":[{"role":"user","content":"x"}]}`,
	}, {
		name: "Options.MaxTokens when the client gives none",
		opt:  Options{MaxTokens: 10},
		body: `{"messages":[{"role":"user","content":"x"}]}`,
		want: `{"model":"claude-test","max_tokens":10,"messages":[{"role":"user","content":"x"}]}`,
	}, {
		name: "sampling, stop string, user, stream; temperature above 1 passes unchanged",
		body: `{"messages":[{"role":"user","content":"x"}],"temperature":1.5,"top_p":0.9,"stop":"END",
			"user":"u-1","stream":true,"stream_options":{"include_usage":true},"n":1}`,
		want: `{"model":"claude-test","max_tokens":4096,"messages":[{"role":"user","content":"x"}],
			"metadata":{"user_id":"u-1"},"stop_sequences":["END"],"temperature":1.5,"top_p":0.9,"stream":true}`,
	}, {
		name: "tools, named tool_choice and parallel_tool_calls false",
		body: `{"messages":[{"role":"user","content":"x"}],"parallel_tool_calls":false,
			"tool_choice":{"type":"function","function":{"name":"f"}},
			"tools":[{"type":"function","function":{"name":"f","description":"d","strict":true,
				"parameters":{"type":"object","properties":{"a":{"type":"integer"}}}}},
				{"type":"function","function":{"name":"g"}}]}`,
		want: `{"model":"claude-test","max_tokens":4096,"messages":[{"role":"user","content":"x"}],
			"tools":[{"name":"f","description":"d","input_schema":{"type":"object","properties":{"a":{"type":"integer"}}}},
				{"name":"g","input_schema":{"type":"object"}}],
			"tool_choice":{"type":"tool","name":"f","disable_parallel_tool_use":true}}`,
		wantDropped: []string{"tools[0].function.strict"},
	}, {
		name: "parallel_tool_calls false without tool_choice creates auto",
		body: `{"messages":[{"role":"user","content":"x"}],"parallel_tool_calls":false,
			"tools":[{"type":"function","function":{"name":"g"}}]}`,
		want: `{"model":"claude-test","max_tokens":4096,"messages":[{"role":"user","content":"x"}],
			"tools":[{"name":"g","input_schema":{"type":"object"}}],
			"tool_choice":{"type":"auto","disable_parallel_tool_use":true}}`,
	}, {
		name: "images: data URL to base64, https URL to url source, detail dropped",
		body: `{"messages":[{"role":"user","content":[
			{"type":"image_url","image_url":{"url":"data:image/JPEG;base64,AAAA"}},
			{"type":"image_url","image_url":{"url":"https://x.test/a.png","detail":"high"}}]}]}`,
		want: `{"model":"claude-test","max_tokens":4096,"messages":[{"role":"user","content":[
			{"type":"image","source":{"type":"base64","media_type":"image/jpeg","data":"AAAA"}},
			{"type":"image","source":{"type":"url","url":"https://x.test/a.png"}}]}]}`,
		wantDropped: []string{"messages[0].content[1].image_url.detail"},
	}, {
		name: "fields without an Anthropic equivalent are dropped in document order",
		body: `{"logit_bias":{"1":2},"messages":[{"role":"user","name":"bob","content":[
				{"type":"text","text":"x","cache_control":{"type":"ephemeral"}}]}],
			"seed":1,"response_format":{"type":"json_object"},"store":true,
			"metadata":{"a":"b"},"frequency_penalty":0.5,"logprobs":true,"functions":[],"x-custom":1,"refusal":null}`,
		want: `{"model":"claude-test","max_tokens":4096,"messages":[{"role":"user","content":[{"type":"text","text":"x"}]}]}`,
		wantDropped: []string{"logit_bias", "messages[0].name", "messages[0].content[0].cache_control", "seed",
			"response_format", "store", "metadata", "frequency_penalty", "logprobs",
			"functions", "x-custom"},
	}, {
		name: "an empty assistant message is not sent; a refusal becomes text",
		body: `{"messages":[{"role":"user","content":"a"},{"role":"assistant","content":null},
			{"role":"user","content":"b"},{"role":"assistant","content":null,"refusal":"no"}]}`,
		want: `{"model":"claude-test","max_tokens":4096,"messages":[
			{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},
			{"role":"assistant","content":[{"type":"text","text":"no"}]}]}`,
		wantDropped: []string{"messages[1]"},
	}, {
		name: "tool_choice none, required",
		body: `{"messages":[{"role":"user","content":"x"}],"tool_choice":"required",
			"tools":[{"type":"function","function":{"name":"g","parameters":null}}]}`,
		want: `{"model":"claude-test","max_tokens":4096,"messages":[{"role":"user","content":"x"}],
			"tools":[{"name":"g","input_schema":{"type":"object"}}],"tool_choice":{"type":"any"}}`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, dropped, err := convertChat(t, tt.opt, tt.body)
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

func TestOpenAIToAnthropicToolChoiceNoneKeepsParallel(t *testing.T) {
	got, _, err := convertChat(t, Options{}, `{"messages":[{"role":"user","content":"x"}],"tool_choice":"none",
		"parallel_tool_calls":false,"tools":[{"type":"function","function":{"name":"g"}}]}`)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"type": "none"}
	if diff := cmp.Diff(want, got.(map[string]any)["tool_choice"]); diff != "" {
		t.Errorf("tool_choice (-want +got):\n%s", diff)
	}
}

func TestOpenAIToAnthropicRequestErrors(t *testing.T) {
	const user = `{"role":"user","content":"x"}`
	tests := []struct {
		name      string
		body      string
		wantParam string
	}{
		{"invalid JSON", `{"messages":`, ""},
		{"not an object", `[]`, ""},
		{"messages missing", `{"model":"m"}`, "messages"},
		{"messages not an array", `{"messages":{}}`, "messages"},
		{"n above 1", `{"n":2,"messages":[` + user + `]}`, "n"},
		{"audio part", `{"messages":[{"role":"user","content":[{"type":"text","text":"x"},
			{"type":"input_audio","input_audio":{"data":"AA","format":"wav"}}]}]}`, "messages[0].content[1]"},
		{"file part", `{"messages":[{"role":"user","content":[{"type":"file","file":{"file_id":"f"}}]}]}`,
			"messages[0].content[0]"},
		{"unsupported image type", `{"messages":[{"role":"user","content":[
			{"type":"image_url","image_url":{"url":"data:image/bmp;base64,AA"}}]}]}`, "messages[0].content[0].image_url.url"},
		{"data URL not base64", `{"messages":[{"role":"user","content":[
			{"type":"image_url","image_url":{"url":"data:image/png,%89PNG"}}]}]}`, "messages[0].content[0].image_url.url"},
		{"ftp image URL", `{"messages":[{"role":"user","content":[
			{"type":"image_url","image_url":{"url":"ftp://x/a.png"}}]}]}`, "messages[0].content[0].image_url.url"},
		{"invalid arguments", `{"messages":[` + user + `,{"role":"assistant","tool_calls":[
			{"id":"c","type":"function","function":{"name":"f","arguments":"{\"a\":"}}]}]}`,
			"messages[1].tool_calls[0].function.arguments"},
		{"arguments not an object", `{"messages":[` + user + `,{"role":"assistant","tool_calls":[
			{"id":"c","type":"function","function":{"name":"f","arguments":"[1]"}}]}]}`,
			"messages[1].tool_calls[0].function.arguments"},
		{"function role", `{"messages":[{"role":"function","name":"f","content":"x"}]}`, "messages[0].role"},
		{"assistant function_call", `{"messages":[{"role":"assistant","function_call":{"name":"f","arguments":"{}"}}]}`,
			"messages[0].function_call"},
		{"tool message without id", `{"messages":[{"role":"tool","content":"x"}]}`, "messages[0].tool_call_id"},
		{"custom tool", `{"messages":[` + user + `],"tools":[{"type":"custom","custom":{"name":"c"}}]}`, "tools[0].type"},
		{"temperature string", `{"messages":[` + user + `],"temperature":"1"}`, "temperature"},
		{"max_tokens zero", `{"messages":[` + user + `],"max_tokens":0}`, "max_tokens"},
		{"max_completion_tokens fractional", `{"messages":[` + user + `],"max_completion_tokens":1.5}`, "max_completion_tokens"},
		{"unknown tool_choice", `{"messages":[` + user + `],"tool_choice":"sometimes"}`, "tool_choice"},
		{"image in system message", `{"messages":[{"role":"system","content":[
			{"type":"image_url","image_url":{"url":"https://x/a.png"}}]}]}`, "messages[0].content[0].type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := convertChat(t, Options{}, tt.body)
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

// TestOpenAIToAnthropicFixtureFacts checks facts of the fixture conversions that the
// goldens hold, so that a regenerated golden cannot quietly lose them.
func TestOpenAIToAnthropicFixtureFacts(t *testing.T) {
	got, dropped, err := convertChat(t, Options{}, string(readFixture(t, "openai-chat-request-tool-results.json")))
	if err != nil {
		t.Fatal(err)
	}
	req := got.(map[string]any)
	msgs := req["messages"].([]any)
	if len(msgs) != 3 {
		t.Fatalf("got %d messages, want user, assistant, user", len(msgs))
	}
	results := msgs[2].(map[string]any)["content"].([]any)
	wantResults := []any{
		map[string]any{"type": "tool_result", "tool_use_id": "call_ehIWdjL1abZk1h8FWGLQ0Hie", "content": "5"},
		map[string]any{"type": "tool_result", "tool_use_id": "call_fBSgA47J5VeONggizTIvl7AH", "content": "6"},
	}
	if diff := cmp.Diff(wantResults, results); diff != "" {
		t.Errorf("tool results (-want +got):\n%s", diff)
	}
	use := msgs[1].(map[string]any)["content"].([]any)[1].(map[string]any)
	if diff := cmp.Diff(map[string]any{"a": 2.0, "b": 3.0}, use["input"]); diff != "" {
		t.Errorf("tool_use input (-want +got):\n%s", diff)
	}
	if req["max_tokens"] != 4000.0 || req["system"] != "You are a helpful assistant. Always use both add and multiply at the same time." {
		t.Errorf("max_tokens = %v, system = %v", req["max_tokens"], req["system"])
	}
	if diff := cmp.Diff([]string{"tools[0].function.strict", "tools[1].function.strict"}, dropped); diff != "" {
		t.Errorf("Dropped (-want +got):\n%s", diff)
	}
}

func TestAnthropicToChatResponse(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string
	}{{
		name: "text, thinking and tool use; usage includes cache counts",
		body: `{"id":"msg_1","type":"message","role":"assistant","model":"claude-x","content":[
			{"type":"thinking","thinking":"hmm","signature":"sig"},{"type":"redacted_thinking","data":"zz"},
			{"type":"text","text":"Hel"},{"type":"text","text":"lo"},
			{"type":"tool_use","id":"toolu_1","name":"f","input":{"b": [1, 2], "a": "x"}}],
			"stop_reason":"tool_use","stop_sequence":null,
			"usage":{"input_tokens":10,"cache_creation_input_tokens":5,"cache_read_input_tokens":20,"output_tokens":7}}`,
		want: `{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"claude-x","choices":[{"index":0,
			"message":{"role":"assistant","content":"Hello","refusal":null,"reasoning_content":"hmm","tool_calls":[
				{"id":"toolu_1","type":"function","function":{"name":"f","arguments":"{\"b\":[1,2],\"a\":\"x\"}"}}]},
			"logprobs":null,"finish_reason":"tool_calls"}],
			"usage":{"prompt_tokens":35,"completion_tokens":7,"total_tokens":42,
				"prompt_tokens_details":{"cached_tokens":20,"cache_write_tokens":5}}}`,
	}, {
		name: "no text block gives null content",
		body: `{"id":"m","model":"c","content":[],"stop_reason":"max_tokens","usage":{"input_tokens":1,"output_tokens":2}}`,
		want: `{"id":"chatcmpl-m","object":"chat.completion","created":1700000000,"model":"c","choices":[{"index":0,
			"message":{"role":"assistant","content":null,"refusal":null},"logprobs":null,"finish_reason":"length"}],
			"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3,"prompt_tokens_details":{"cached_tokens":0}}}`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := fixed(New(wire.OpenAIChat, wire.AnthropicMessages, Options{})).Response([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(decodeJSON(t, []byte(tt.want)), decodeJSON(t, out)); diff != "" {
				t.Errorf("response (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := New(wire.OpenAIChat, wire.AnthropicMessages, Options{}).Response([]byte("{")); err == nil {
		t.Error("invalid JSON: want an error")
	}
}

func TestAnthropicToOpenAIFinish(t *testing.T) {
	tests := []struct{ stop, want string }{
		{"end_turn", "stop"}, {"stop_sequence", "stop"}, {"pause_turn", "stop"},
		{"max_tokens", "length"}, {"model_context_window_exceeded", "length"},
		{"tool_use", "tool_calls"}, {"refusal", "content_filter"}, {"", "stop"}, {"future_reason", "stop"},
	}
	for _, tt := range tests {
		if got := finishOfAnthropic(tt.stop).openAI(); got != tt.want {
			t.Errorf("finishOfAnthropic(%q).openAI() = %q, want %q", tt.stop, got, tt.want)
		}
	}
}

// chatSummary is what an OpenAI client accumulates from a chunk stream.
type chatSummary struct {
	Content, Reasoning string
	Tools              []toolSummary
	Finish             string
	Usage              *openai.Usage
	Done               bool
}

type toolSummary struct {
	Index          int
	ID, Name, Args string
}

// summarizeChat accumulates OpenAI chunks like a client would, checking on the way
// that every chunk repeats id, object, created and model, that tool fragments name
// an index already started, and that nothing follows [DONE].
func summarizeChat(t *testing.T, out []byte, id, model, object string) chatSummary {
	t.Helper()
	var s chatSummary
	byIndex := map[int]int{}
	for _, ev := range sseEvents(t, out) {
		if s.Done {
			t.Fatalf("event after [DONE]: %s", ev.Data)
		}
		if string(ev.Data) == "[DONE]" {
			s.Done = true
			continue
		}
		var c struct {
			openai.ChatChunk
			Usage *openai.Usage `json:"usage"` // null on ordinary chunks
		}
		if err := json.Unmarshal(ev.Data, &c); err != nil || ev.Name != "" {
			t.Fatalf("bad chunk %q (event %q): %v", ev.Data, ev.Name, err)
		}
		if c.ID != id || c.Model != model || c.Object != object || c.Created != fixedCreated {
			t.Errorf("chunk header = %q %q %q %d, want %q %q %q", c.ID, c.Model, c.Object, c.Created, id, model, object)
		}
		if c.Usage != nil {
			if len(c.Choices) != 0 {
				t.Errorf("usage chunk has choices: %s", ev.Data)
			}
			s.Usage = c.Usage
		}
		for _, ch := range c.Choices {
			summarizeDelta(t, &s, byIndex, ch)
		}
	}
	return s
}

func summarizeDelta(t *testing.T, s *chatSummary, byIndex map[int]int, ch openai.ChunkChoice) {
	t.Helper()
	if ch.Delta.Content != nil {
		s.Content += *ch.Delta.Content
	}
	s.Reasoning += ch.Delta.ReasoningContent
	for _, tc := range ch.Delta.ToolCalls {
		k, ok := byIndex[tc.Index]
		switch {
		case tc.ID != "":
			byIndex[tc.Index] = len(s.Tools)
			s.Tools = append(s.Tools, toolSummary{Index: tc.Index, ID: tc.ID, Name: tc.Function.Name, Args: tc.Function.Arguments})
		case !ok:
			t.Errorf("arguments for tool index %d before its start", tc.Index)
		default:
			s.Tools[k].Args += tc.Function.Arguments
		}
	}
	if ch.FinishReason != nil {
		s.Finish = *ch.FinishReason
	}
}

func TestAnthropicStreamToOpenAI(t *testing.T) {
	thinking := string(readFixture(t, "anthropic-messages-request-thinking-followup.json"))
	var followup struct {
		Messages []struct {
			Content []struct{ Thinking string }
		}
	}
	if err := json.Unmarshal([]byte(thinking), &followup); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		fixture   string
		id, model string
		want      chatSummary
	}{{
		fixture: "anthropic-messages-stream-text.sse", id: "chatcmpl-4QpJur2dWWDjF6C758FbBw5vm12BaVipnK", model: "claude-3-opus-latest",
		want: chatSummary{Content: "Hello there!", Finish: "stop", Done: true,
			Usage: &openai.Usage{PromptTokens: 11, CompletionTokens: 6, TotalTokens: 17, PromptTokensDetails: &openai.PromptTokensDetails{}}},
	}, {
		fixture: "anthropic-messages-stream-parallel-tools.sse", id: "chatcmpl-01PSvJdjd5keNSD63VHjYzex", model: "claude-sonnet-4-20250514",
		want: chatSummary{Content: "I'll add and multiply the numbers 2 and 3 for you.", Finish: "tool_calls", Done: true,
			Tools: []toolSummary{
				{0, "toolu_01UYxUYC2zRPY8wiutnF48eP", "add", `{"a": 2, "b": 3}`},
				{1, "toolu_01VaRx1jpWCvPhi7L4kywAcd", "multiply", `{"a": 2, "b": 3}`},
			},
			Usage: &openai.Usage{PromptTokens: 502, CompletionTokens: 137, TotalTokens: 639, PromptTokensDetails: &openai.PromptTokensDetails{}}},
	}, {
		fixture: "anthropic-messages-stream-tools.sse", id: "chatcmpl-019Q1hrJbZG26Fb9BQhrkHEr", model: "claude-sonnet-4-20250514",
		want: chatSummary{Content: "I'll check the current weather in Paris for you.", Finish: "tool_calls", Done: true,
			Tools: []toolSummary{{0, "toolu_01NRLabsLyVHZPKxbKvkfSMn", "get_weather", `{"location": "Paris"}`}},
			Usage: &openai.Usage{PromptTokens: 377, CompletionTokens: 65, TotalTokens: 442, PromptTokensDetails: &openai.PromptTokensDetails{}}},
	}, {
		fixture: "anthropic-messages-stream-thinking.sse", id: "chatcmpl-01KTBB57LAzaSZs8kMNvfnsY", model: "claude-sonnet-4-20250514",
		want: chatSummary{Reasoning: followup.Messages[1].Content[0].Thinking, Finish: "tool_calls", Done: true,
			Tools: []toolSummary{{0, "toolu_01Js4AMfx5qpTLhwTusnvT68", "weather", `{"location": "Florence, Italy"}`}},
			Usage: &openai.Usage{PromptTokens: 424, CompletionTokens: 119, TotalTokens: 543, PromptTokensDetails: &openai.PromptTokensDetails{}}},
	}, {
		fixture: "anthropic-messages-stream-max-tokens.sse", id: "chatcmpl-01UdjYBBipA9omjYhicnevgq", model: "claude-3-7-sonnet-20250219",
		want: chatSummary{Content: "I'll create a comprehensive tax guide for someone with multiple W2s and save it in a file called taxes.txt. Let me do that for you now.",
			Finish: "length", Done: true,
			Tools: []toolSummary{{0, "toolu_01EKqbqmZrGRXy18eN7m9kvY", "make_file",
				"{\"filename\": \"taxes.txt\", \"lines_of_text\": [\n\"# COMPREHENSIVE TAX GUIDE FOR INDIVIDUALS WITH MULTIPLE W-2s\",\n\"\",\n\"## INTRODUCTION\",\n\"\",\n\"Filing taxes"}},
			Usage: &openai.Usage{PromptTokens: 450, CompletionTokens: 124, TotalTokens: 574, PromptTokensDetails: &openai.PromptTokensDetails{}}},
	}, {
		fixture: "anthropic-messages-stream-refusal.sse", id: "chatcmpl-01RefusalTestMessage123456789", model: "claude-opus-4-7",
		want: chatSummary{Finish: "content_filter", Done: true, Usage: &openai.Usage{PromptTokens: 20, CompletionTokens: 0, TotalTokens: 20, PromptTokensDetails: &openai.PromptTokensDetails{}}},
	}}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			out, err := runStream(newTranslator(t, "openai_anthropic"), bytes.NewReader(readFixture(t, tt.fixture)))
			if err != nil {
				t.Fatal(err)
			}
			got := summarizeChat(t, out, tt.id, tt.model, "chat.completion.chunk")
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("stream summary (-want +got):\n%s", diff)
			}
			for _, tool := range got.Tools {
				if got.Finish != "length" && !json.Valid([]byte(tool.Args)) {
					t.Errorf("tool %d arguments are not JSON: %s", tool.Index, tool.Args)
				}
			}
			first := sseEvents(t, out)[0].Data
			if !bytes.Contains(first, []byte(`"delta":{"role":"assistant","content":""}`)) {
				t.Errorf("first chunk is not the role chunk: %s", first)
			}
		})
	}
}

func TestAnthropicStreamToOpenAIEnds(t *testing.T) {
	text := readFixture(t, "anthropic-messages-stream-text.sse")
	cut := text[:bytes.Index(text, []byte("event: message_stop"))]
	tests := []struct {
		name      string
		body      []byte
		usage     bool
		wantErr   error
		wantUsage bool
	}{
		{"without include_usage no usage chunk", text, false, nil, false},
		{"with include_usage", text, true, nil, true},
		{"no message_stop is truncated", cut, true, ErrTruncated, false},
		{"empty body is truncated", nil, true, ErrTruncated, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := fixed(New(wire.OpenAIChat, wire.AnthropicMessages, Options{Model: "m"}))
			req := `{"stream":true,"messages":[{"role":"user","content":"x"}]}`
			if tt.usage {
				req = `{"stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"x"}]}`
			}
			if _, err := tr.Request([]byte(req)); err != nil {
				t.Fatal(err)
			}
			out, err := runStream(tr, bytes.NewReader(tt.body))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if got := bytes.Contains(out, []byte(`"usage":{`)); got != tt.wantUsage {
				t.Errorf("usage chunk present = %v, want %v:\n%s", got, tt.wantUsage, out)
			}
		})
	}
}

func TestAnthropicStreamErrorEvent(t *testing.T) {
	for _, pair := range []string{"openai_anthropic", "completions_anthropic"} {
		t.Run(pair, func(t *testing.T) {
			out, err := runStream(newTranslator(t, pair), bytes.NewReader(readFixture(t, "anthropic-messages-stream-error.sse")))
			var se *StreamError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v, want *StreamError", err)
			}
			if diff := cmp.Diff(StreamError{Type: "overloaded_error", Message: "Overloaded"}, *se); diff != "" {
				t.Errorf("StreamError (-want +got):\n%s", diff)
			}
			if len(out) != 0 {
				t.Errorf("output before the error: %q", out)
			}
		})
	}
}

// TestDeepNesting feeds deeply nested JSON (as a body, inside an arguments string,
// and as a stream event): each must be refused as a client or upstream error, in
// linear time and without exhausting the stack.
func TestDeepNesting(t *testing.T) {
	deep := strings.Repeat("[", 1<<20)
	args, err := json.Marshal(deep)
	if err != nil {
		t.Fatal(err)
	}
	bodies := map[string]string{
		"body":      `{"messages":` + deep,
		"arguments": `{"messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":` + string(args) + `}}]}]}`,
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			_, _, err := convertChat(t, Options{}, body)
			var re *RequestError
			if !errors.As(err, &re) {
				t.Fatalf("err = %v, want *RequestError", err)
			}
		})
	}
	t.Run("stream event", func(t *testing.T) {
		_, err := runStream(newTranslator(t, "openai_anthropic"), strings.NewReader("event: message_start\ndata: "+deep+"\n\n"))
		if err == nil || errors.Is(err, ErrTruncated) {
			t.Fatalf("err = %v, want a decoding error", err)
		}
	})
}
