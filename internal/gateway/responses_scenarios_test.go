package gateway_test

// What only the Responses API has, through the real server with the official
// SDK's Responses client: custom (freeform) tools round-tripped through upstreams
// without them, reasoning, the output limit (response.incomplete), the stateless
// rule of translated routes, and every stream dribbled byte by byte. The fakes
// answer recorded transcripts; where a scenario needs a call of a tool the
// recording does not call, only the call's name and arguments are changed.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/google/go-cmp/cmp"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"
	"github.com/tidwall/gjson"
)

// respRoute is an upstream kind a Responses client reaches.
type respRoute struct {
	p    *confProvider
	path string
	// call answers with one call of tool name with arguments args (a JSON
	// object), from the provider's recorded tool-call transcript.
	call func(t *testing.T, name, args string) confPair
}

func respRoutes() []respRoute {
	anth, oll, chat := confAnthropicProvider(), confOllamaProvider(), confOpenAIProvider()
	chat.name, chat.config = "openai-chat-api", confConfigAPIs(chat.config, "[chat, completions]")
	return []respRoute{
		{anth, "/v1/messages", confAnthropicCall},
		{oll, "/api/chat", confOllamaCall},
		{chat, "/v1/chat/completions", confChatCall},
	}
}

// respAsk sends params through the Responses client and returns the response
// (the terminal one of a stream, whose lifecycle is checked on the way) and the
// router's response headers.
func respAsk(t *testing.T, base string, params responses.ResponseNewParams, stream bool) (*responses.Response, http.Header, error) {
	t.Helper()
	client := openAIClient(base)
	var resp *http.Response
	ctx := context.Background()
	if !stream {
		r, err := client.Responses.New(ctx, params, option.WithResponseInto(&resp))
		return r, confHeader(resp), err
	}
	s := client.Responses.NewStreaming(ctx, params, option.WithResponseInto(&resp))
	defer s.Close()
	l := newRespLifecycle(t)
	for s.Next() {
		l.event(s.Current())
	}
	if err := s.Err(); err != nil {
		return nil, confHeader(resp), err
	}
	if _, err := l.result(); err != nil {
		return nil, confHeader(resp), err
	}
	if l.terminal == nil {
		return nil, confHeader(resp), errors.New("the stream ended without a terminal event")
	}
	return l.terminal, confHeader(resp), nil
}

// respServe starts a fake of p answering path with pair, and the router.
func respServe(t *testing.T, p *confProvider, path string, pair confPair) (*confFake, *router) {
	fake := newConfFake(t, p, confServePairs(p, map[string]confPair{path: pair}))
	return fake, newRouter(t, p.config, fake.URL)
}

func respModes(t *testing.T, run func(t *testing.T, stream bool)) {
	for _, stream := range []bool{false, true} {
		t.Run(map[bool]string{false: "nonstream", true: "stream"}[stream], func(t *testing.T) { run(t, stream) })
	}
}

const (
	sqlTool   = "execute_sql"
	sqlInput  = "SELECT * FROM users LIMIT 5;"
	sqlResult = "Result: 5 users found"
)

// Codex's apply_patch is a custom tool: its input is free text. A provider
// without custom tools gets a function with one string parameter, input; its
// call comes back as a custom_tool_call (streamed as custom_tool_call_input
// deltas), and the call and its output sent back reach the provider as its own
// tool call and result.
func TestResponsesCustomToolRoundTrip(t *testing.T) {
	params := func(prior bool) responses.ResponseNewParams {
		p := responses.ResponseNewParams{Model: confModel, Tools: []responses.ToolUnionParam{{OfCustom: &responses.CustomToolParam{
			Name: sqlTool, Description: openai.String("Execute SQL query on the database.")}}}}
		input := responses.ResponseInputParam{responses.ResponseInputItemParamOfMessage("List the first 5 users", responses.EasyInputMessageRoleUser)}
		if prior {
			input = append(input, responses.ResponseInputItemParamOfCustomToolCall("call_sql_1", sqlInput, sqlTool),
				responses.ResponseInputItemParamOfCustomToolCallOutput("call_sql_1", sqlResult))
		}
		p.Input = responses.ResponseNewParamsInputUnion{OfInputItemList: input}
		return p
	}
	for _, rt := range respRoutes() {
		t.Run(rt.p.name, func(t *testing.T) {
			respModes(t, func(t *testing.T, stream bool) {
				fake, r := respServe(t, rt.p, rt.path, rt.call(t, sqlTool, `{"input":"`+sqlInput+`"}`))
				resp, _, err := respAsk(t, r.URL, params(false), stream)
				if err != nil {
					t.Fatal(err)
				}
				if n := len(resp.Output); n == 0 || resp.Output[n-1].Type != "custom_tool_call" ||
					resp.Output[n-1].Name != sqlTool || resp.Output[n-1].Input != sqlInput {
					t.Errorf("output %s, want a custom_tool_call %s with input %q", resp.RawJSON(), sqlTool, sqlInput)
				}
				tool := gjson.GetBytes(fake.last(t).Body, "tools.0")
				if s := tool.Raw; !strings.Contains(s, `"input"`) || !strings.Contains(s, sqlTool) {
					t.Errorf("upstream tool %s, want function %s with a string parameter input", s, sqlTool)
				}
				fake.serve(confServePairs(rt.p, rt.p.text(t)))
				if _, _, err := respAsk(t, r.URL, params(true), stream); err != nil {
					t.Fatal(err)
				}
				got := rt.p.followUp(t, fake.last(t).Body)
				want := confFollowUp{Calls: []confCall{{ID: "call_sql_1", Name: sqlTool, Args: map[string]any{"input": sqlInput}}},
					Results: []confToolResult{{ID: "call_sql_1", Name: sqlTool, Content: sqlResult}}}
				if d := cmp.Diff(want, got); d != "" {
					t.Errorf("the custom call and its output as the %s upstream got them (-want +got):\n%s", rt.p.name, d)
				}
			})
		})
	}
	t.Run("passthrough", func(t *testing.T) {
		respModes(t, func(t *testing.T, stream bool) {
			p := confResponsesProvider()
			pair := confPair{fixture(t, "responses/openai-responses-stream-custom-tool.sse"),
				fixture(t, "responses/openai-responses-response-custom-tool-grammar.json")}
			fake, r := respServe(t, p, responsesPath, pair)
			resp, _, err := respAsk(t, r.URL, params(true), stream)
			if err != nil {
				t.Fatal(err)
			}
			want := gjson.GetBytes(confPick(pair, stream), "output.#(type==\"custom_tool_call\")")
			if stream {
				want = gjson.Get(confLastData(pair.stream), "response.output.#(type==\"custom_tool_call\")")
			}
			last := resp.Output[len(resp.Output)-1]
			if last.Type != "custom_tool_call" || last.Input != want.Get("input").String() || last.CallID != want.Get("call_id").String() {
				t.Errorf("passthrough custom call %s, want %s", last.RawJSON(), want.Raw)
			}
			in := gjson.GetBytes(fake.last(t).Body, "input")
			if items := in.Get("#.type").Raw; items != `["custom_tool_call","custom_tool_call_output"]` || in.Get("0.role").String() != "user" {
				t.Errorf("the passthrough upstream got input %s", in.Raw)
			}
		})
	})
}

// confLastData is the data of a transcript's last SSE event.
func confLastData(stream []byte) string {
	evs := confSSEEvents(stream)
	_, data, _ := strings.Cut(string(evs[len(evs)-1]), "data: ")
	return strings.TrimSpace(data)
}

// pieces cuts s into n pieces of about equal size (the last may be empty).
func pieces(s string, n int) []string {
	out := make([]string, n)
	size := (len(s) + n - 1) / n
	for i := range out {
		lo, hi := min(i*size, len(s)), min((i+1)*size, len(s))
		out[i] = s[lo:hi]
	}
	return out
}

// confAnthropicCall is the recorded tool_use answer with another call: the
// block's name, its input spread over the recorded input_json_delta events.
func confAnthropicCall(t *testing.T, name, args string) confPair {
	evs := confSSEEvents(fixture(t, "fixtures/anthropic-messages-stream-tools.sse"))
	var deltas []int
	for i, ev := range evs {
		if bytes.Contains(ev, []byte(`"input_json_delta"`)) {
			deltas = append(deltas, i)
		}
	}
	parts := pieces(args, len(deltas))
	out := make([][]byte, len(evs))
	for i, ev := range evs {
		name0, data, _ := bytes.Cut(ev, []byte("data: "))
		data = bytes.TrimSpace(data)
		switch {
		case gjson.GetBytes(data, "content_block.type").String() == "tool_use":
			data = confSet(t, data, "content_block.name", name)
		case bytes.Contains(data, []byte(`"input_json_delta"`)):
			for k, d := range deltas {
				if d == i {
					data = confSet(t, data, "delta.partial_json", parts[k])
				}
			}
		}
		out[i] = confJoin(name0, []byte("data: "), data, []byte("\n\n"))
	}
	whole := fixture(t, "fixtures/anthropic-messages-response-tool-use.json")
	whole = confSet(t, whole, "content.0.name", name)
	whole = confSet(t, whole, "content.0.input", json.RawMessage(args))
	return confPair{confJoin(out...), whole}
}

// confOllamaCall is the recorded tool call with another name and arguments.
func confOllamaCall(t *testing.T, name, args string) confPair {
	lines := confLines(fixture(t, "ollama-real/api_chat_tools_stream.body"))
	first := confSet(t, bytes.TrimSpace(lines[0]), "message.tool_calls.0.function.name", name)
	first = confSet(t, first, "message.tool_calls.0.function.arguments", json.RawMessage(args))
	whole := fixture(t, "ollama-real/api_chat_tools_nostream.body")
	whole = confSet(t, whole, "message.tool_calls.0.function.name", name)
	whole = confSet(t, whole, "message.tool_calls.0.function.arguments", json.RawMessage(args))
	return confPair{confJoin(first, []byte("\n"), lines[1]), whole}
}

// confChatCall is the recorded tool-call stream with another call: the name,
// the arguments spread over the recorded argument chunks.
func confChatCall(t *testing.T, name, args string) confPair {
	evs := confSSEEvents(fixture(t, "fixtures/openai-chat-stream-tools.sse"))
	var argChunks []int
	for i, ev := range evs {
		if gjson.GetBytes(sseData(ev), "choices.0.delta.tool_calls.0.function.arguments").Exists() {
			argChunks = append(argChunks, i)
		}
	}
	parts := pieces(args, len(argChunks))
	out := make([][]byte, len(evs))
	for i, ev := range evs {
		data := sseData(ev)
		if gjson.GetBytes(data, "choices.0.delta.tool_calls.0.function.name").Exists() {
			data = confSet(t, data, "choices.0.delta.tool_calls.0.function.name", name)
		}
		for k, c := range argChunks {
			if c == i {
				data = confSet(t, data, "choices.0.delta.tool_calls.0.function.arguments", parts[k])
			}
		}
		out[i] = confJoin([]byte("data: "), data, []byte("\n\n"))
	}
	whole := fixture(t, "fixtures/openai-chat-response-tools.json")
	whole = confSet(t, whole, "choices.0.message.tool_calls.0.function.name", name)
	whole = confSet(t, whole, "choices.0.message.tool_calls.0.function.arguments", args)
	return confPair{confJoin(out...), whole}
}

func sseData(ev []byte) []byte {
	_, data, _ := bytes.Cut(ev, []byte("data: "))
	return bytes.TrimSpace(data)
}

// TestResponsesReasoning: reasoning.effort reaches the upstream as its own
// thinking switch, and thinking comes back as a reasoning item whose summary is
// the thinking text, before the answer; passthrough keeps OpenAI's reasoning
// item (encrypted_content included) as it came.
func TestResponsesReasoning(t *testing.T) {
	params := responses.ResponseNewParams{Model: confModel,
		Input:     responses.ResponseNewParamsInputUnion{OfString: openai.String("Hi there")},
		Reasoning: openai.ReasoningParam{Effort: openai.ReasoningEffortHigh, Summary: openai.ReasoningSummaryAuto},
		Include:   []responses.ResponseIncludable{responses.ResponseIncludableReasoningEncryptedContent},
	}
	anth, oll, chat := respRoutes()[0].p, respRoutes()[1].p, respRoutes()[2].p
	cases := []struct {
		name     string
		p        *confProvider
		path     string
		pair     func(t *testing.T) confPair
		thinking func(pair []byte, stream bool) string // what the upstream thought
		asked    string                                // gjson path in the upstream request that enables it
	}{
		{"anthropic", anth, "/v1/messages", func(t *testing.T) confPair {
			return confPair{fixture(t, "fixtures/anthropic-messages-stream-thinking.sse"), fixture(t, "fixtures/anthropic-messages-response-thinking.json")}
		}, func(b []byte, stream bool) string {
			if !stream {
				return gjson.GetBytes(b, `content.#(type=="thinking").thinking`).String()
			}
			return joinData(b, "delta.thinking")
		}, "thinking.type"},
		{"ollama", oll, "/api/chat", func(t *testing.T) confPair {
			return confPair{fixture(t, "ollama-real/api_chat_think_stream.body"), fixture(t, "ollama-real/api_chat_think_nostream.body")}
		}, func(b []byte, stream bool) string {
			if !stream {
				return gjson.GetBytes(b, "message.thinking").String()
			}
			var s string
			for _, l := range confLines(b) {
				if !gjson.GetBytes(l, "done").Bool() {
					s += gjson.GetBytes(l, "message.thinking").String()
				}
			}
			return s
		}, "think"},
		{"openai-chat-api", chat, "/v1/chat/completions", func(t *testing.T) confPair {
			return confPair{fixture(t, "ollama-real/v1_chat_reasoning_stream_default.body"), fixture(t, "ollama-real/v1_chat_reasoning_nostream.body")}
		}, func(b []byte, stream bool) string {
			if !stream {
				return gjson.GetBytes(b, "choices.0.message.reasoning").String()
			}
			return joinData(b, "choices.0.delta.reasoning")
		}, "reasoning_effort"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			respModes(t, func(t *testing.T, stream bool) {
				pair := c.pair(t)
				fake, r := respServe(t, c.p, c.path, pair)
				resp, _, err := respAsk(t, r.URL, params, stream)
				if err != nil {
					t.Fatal(err)
				}
				want := c.thinking(confPick(pair, stream), stream)
				if len(resp.Output) == 0 || resp.Output[0].Type != "reasoning" || len(resp.Output[0].Summary) == 0 ||
					resp.Output[0].Summary[0].Text != want || want == "" {
					t.Errorf("output %s, want first a reasoning item summarising %q", resp.RawJSON(), want)
				}
				if v := gjson.GetBytes(fake.last(t).Body, c.asked); !v.Exists() {
					t.Errorf("the upstream request has no %s: %s", c.asked, fake.last(t).Body)
				}
			})
		})
	}
	t.Run("passthrough", func(t *testing.T) {
		respModes(t, func(t *testing.T, stream bool) {
			pair := confPair{fixture(t, "responses/openai-responses-stream-reasoning-summary.sse"),
				fixture(t, "responses/openai-responses-response-reasoning-summary.json")}
			_, r := respServe(t, confResponsesProvider(), responsesPath, pair)
			resp, _, err := respAsk(t, r.URL, params, stream)
			if err != nil {
				t.Fatal(err)
			}
			want := gjson.GetBytes(pair.json, "output.0")
			if stream {
				want = gjson.Get(confLastData(pair.stream), "response.output.0")
			}
			if got := resp.Output[0]; got.Type != "reasoning" || got.EncryptedContent != want.Get("encrypted_content").String() ||
				got.Summary[0].Text != want.Get("summary.0.text").String() {
				t.Errorf("reasoning item %s, want %s", got.RawJSON(), want.Raw)
			}
		})
	})
}

// Chat and Anthropic clients of a Responses upstream: a Chat client's
// reasoning_effort is reasoning.effort upstream, and the reasoning summary
// comes back as reasoning_content; an Anthropic client gets it as a thinking
// block.
func TestResponsesUpstreamReasoning(t *testing.T) {
	pair := confPair{fixture(t, "responses/openai-responses-stream-reasoning-summary.sse"),
		fixture(t, "responses/openai-responses-response-reasoning-summary.json")}
	summary := func(stream bool) string {
		if stream {
			return gjson.Get(confLastData(pair.stream), "response.output.0.summary.0.text").String()
		}
		return gjson.GetBytes(pair.json, "output.0.summary.0.text").String()
	}
	t.Run("chat", func(t *testing.T) {
		respModes(t, func(t *testing.T, stream bool) {
			fake, r := respServe(t, confResponsesProvider(), responsesPath, pair)
			params := openai.ChatCompletionNewParams{Model: confModel, ReasoningEffort: openai.ReasoningEffortHigh,
				Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Weather in Florence?")}}
			client := openAIClient(r.URL)
			var reasoning string
			if stream {
				s := client.Chat.Completions.NewStreaming(context.Background(), params)
				for s.Next() {
					reasoning += gjson.Get(s.Current().RawJSON(), "choices.0.delta.reasoning_content").String()
				}
				if err := s.Err(); err != nil {
					t.Fatal(err)
				}
			} else {
				c, err := client.Chat.Completions.New(context.Background(), params)
				if err != nil {
					t.Fatal(err)
				}
				reasoning = gjson.Get(c.RawJSON(), "choices.0.message.reasoning_content").String()
			}
			if want := summary(stream); reasoning != want || want == "" {
				t.Errorf("reasoning_content %q, want the summary %q", reasoning, want)
			}
			if e := gjson.GetBytes(fake.last(t).Body, "reasoning.effort").String(); e != "high" {
				t.Errorf("upstream reasoning.effort %q, want high", e)
			}
		})
	})
	t.Run("anthropic", func(t *testing.T) {
		respModes(t, func(t *testing.T, stream bool) {
			_, r := respServe(t, confResponsesProvider(), responsesPath, pair)
			params := anthropic.MessageNewParams{Model: confModel, MaxTokens: 1024,
				Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Weather in Florence?"))}}
			client := anthropicClient(r.URL)
			m := &anthropic.Message{}
			if stream {
				s := client.Messages.NewStreaming(context.Background(), params)
				for s.Next() {
					if err := m.Accumulate(s.Current()); err != nil {
						t.Fatal(err)
					}
				}
				if err := s.Err(); err != nil {
					t.Fatal(err)
				}
			} else {
				var err error
				if m, err = client.Messages.New(context.Background(), params); err != nil {
					t.Fatal(err)
				}
			}
			if want := summary(stream); len(m.Content) == 0 || m.Content[0].Type != "thinking" || m.Content[0].Thinking != want {
				t.Errorf("content %s, want first a thinking block %q", m.RawJSON(), want)
			}
		})
	})
}

// joinData concatenates the value at path of every event of an SSE transcript.
func joinData(b []byte, path string) string {
	var s string
	for _, ev := range confSSEEvents(b) {
		s += gjson.GetBytes(sseData(ev), path).String()
	}
	return s
}

// TestResponsesMaxOutputTokens: max_output_tokens reaches the upstream as its
// own limit, and an answer cut there is response.incomplete with reason
// max_output_tokens; Chat clients of a Responses upstream see finish_reason
// length.
func TestResponsesMaxOutputTokens(t *testing.T) {
	params := responses.ResponseNewParams{Model: confModel, MaxOutputTokens: openai.Int(64),
		Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("Say hi")}}
	anth, oll, chat := respRoutes()[0].p, respRoutes()[1].p, respRoutes()[2].p
	cases := []struct {
		name, path, limit string // limit: where the upstream request carries 64
		p                 *confProvider
		pair              func(t *testing.T) confPair
	}{
		{"anthropic", "/v1/messages", "max_tokens", anth, func(t *testing.T) confPair {
			return confPair{fixture(t, "fixtures/anthropic-messages-stream-max-tokens.sse"),
				confSet(t, fixture(t, "fixtures/anthropic-messages-response.json"), "stop_reason", "max_tokens")}
		}},
		{"ollama", "/api/chat", "options.num_predict", oll, func(t *testing.T) confPair {
			return confPair{fixture(t, "ollama-real/api_chat_length_stream.body"),
				confSet(t, fixture(t, "ollama-real/api_chat_nostream.body"), "done_reason", "length")}
		}},
		// An OpenAI-compatible endpoint (not api.openai.com) reads max_tokens (the
		// model's max_tokens_field by default, issue 9 item 2).
		{"openai-chat-api", "/v1/chat/completions", "max_tokens", chat, func(t *testing.T) confPair {
			return confPair{fixture(t, "fixtures/openai-chat-stream-reasoning-length.sse"), fixture(t, "ollama-real/v1_chat_length.body")}
		}},
		{"passthrough", responsesPath, "max_output_tokens", confResponsesProvider(), func(t *testing.T) confPair {
			return confPair{fixture(t, "responses/openai-responses-stream-incomplete-reasoning.sse"),
				fixture(t, "responses/openai-responses-response-incomplete-reasoning.json")}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			respModes(t, func(t *testing.T, stream bool) {
				fake, r := respServe(t, c.p, c.path, c.pair(t))
				resp, _, err := respAsk(t, r.URL, params, stream)
				if err != nil {
					t.Fatal(err)
				}
				if resp.Status != "incomplete" || resp.IncompleteDetails.Reason != "max_output_tokens" {
					t.Errorf("status %s, incomplete_details %s; want incomplete, max_output_tokens", resp.Status, resp.IncompleteDetails.RawJSON())
				}
				if v := gjson.GetBytes(fake.last(t).Body, c.limit); v.Int() != 64 {
					t.Errorf("upstream %s = %s, want 64: %s", c.limit, v.Raw, fake.last(t).Body)
				}
			})
		})
	}
	t.Run("chat client of a Responses upstream", func(t *testing.T) {
		respModes(t, func(t *testing.T, stream bool) {
			p := confResponsesProvider()
			fake, r := respServe(t, p, responsesPath, confPair{fixture(t, "responses/openai-responses-stream-incomplete-reasoning.sse"),
				fixture(t, "responses/openai-responses-response-incomplete-reasoning.json")})
			params := openai.ChatCompletionNewParams{Model: confModel, MaxCompletionTokens: openai.Int(64),
				Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Say hi")}}
			finish := chatFinish(t, r.URL, params, stream)
			if finish != "length" {
				t.Errorf("finish_reason %q, want length", finish)
			}
			if v := gjson.GetBytes(fake.last(t).Body, "max_output_tokens"); v.Int() != 64 {
				t.Errorf("upstream max_output_tokens = %s, want 64", v.Raw)
			}
		})
	})
}

// chatFinish sends a chat request and returns its finish reason.
func chatFinish(t *testing.T, base string, params openai.ChatCompletionNewParams, stream bool) string {
	t.Helper()
	client := openAIClient(base)
	if !stream {
		c, err := client.Chat.Completions.New(context.Background(), params)
		if err != nil {
			t.Fatal(err)
		}
		return string(c.Choices[0].FinishReason)
	}
	s := client.Chat.Completions.NewStreaming(context.Background(), params)
	defer s.Close()
	var finish string
	for s.Next() {
		if c := s.Current(); len(c.Choices) > 0 && c.Choices[0].FinishReason != "" {
			finish = c.Choices[0].FinishReason
		}
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return finish
}
