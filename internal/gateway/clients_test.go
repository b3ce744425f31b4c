package gateway_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2"
	aoption "github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"
	"github.com/tidwall/gjson"
)

// Issue 9's translator items seen through the router by the official SDKs: each
// request crosses a real gateway to a fake that replays a recording, and the
// tests assert what the upstream received and what the SDK made of the answer.

// crossConfig routes gpt-* to an OpenAI-compatible server, claude-* to
// Anthropic and tiny* to a native Ollama, all the same fake.
const crossConfig = `
models:
  - name: "gpt-*"
    provider: openai
    endpoint: {{UP}}/v1
    api_key: sk-route-openai
  - name: "claude-*"
    provider: anthropic
    endpoint: {{UP}}
    api_key: sk-ant-route
  - name: "tiny*"
    provider: ollama
    endpoint: {{UP}}
`

func crossClients(base string) (openai.Client, anthropic.Client) {
	return openai.NewClient(option.WithBaseURL(base+"/v1"), option.WithAPIKey("k"), option.WithMaxRetries(0)),
		anthropic.NewClient(aoption.WithBaseURL(base), aoption.WithAPIKey("k"), aoption.WithMaxRetries(0))
}

// sse replays an SSE or NDJSON recording as a stream.
func sse(contentType string, body []byte) http.HandlerFunc {
	return replay(200, contentType, body)
}

// Reasoning that an OpenAI-compatible server returns in `reasoning` (Ollama's
// /v1, recorded) reaches an Anthropic client as a thinking block, whole and
// streamed (issue 9 item 3).
func TestReasoningFromOpenAICompatibleIsThinking(t *testing.T) {
	whole := fixture(t, "ollama-real/v1_chat_reasoning_nostream.body")
	stream := fixture(t, "ollama-real/v1_chat_reasoning_stream_default.body")
	var wantStream strings.Builder
	for line := range bytes.Lines(stream) {
		if data, ok := bytes.CutPrefix(bytes.TrimSpace(line), []byte("data: ")); ok {
			wantStream.WriteString(gjson.GetBytes(data, "choices.0.delta.reasoning").Str)
		}
	}
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		var body bytes.Buffer
		_, _ = body.ReadFrom(r.Body)
		if gjson.GetBytes(body.Bytes(), "stream").Bool() {
			sse("text/event-stream", stream)(w, r)
			return
		}
		replay(200, "application/json", whole)(w, r)
	})
	rt := newRouter(t, crossConfig, up.URL)
	_, ant := crossClients(rt.URL)
	params := anthropic.MessageNewParams{Model: "gpt-oss-x", MaxTokens: 256,
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Hi"))}}

	msg, err := ant.Messages.New(context.Background(), params)
	if err != nil {
		t.Fatal(err)
	}
	checkThinking(t, "whole", msg, gjson.GetBytes(whole, "choices.0.message.reasoning").Str)

	s := ant.Messages.NewStreaming(context.Background(), params)
	var acc anthropic.Message
	for s.Next() {
		if err := acc.Accumulate(s.Current()); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	checkThinking(t, "stream", &acc, wantStream.String())
}

func checkThinking(t *testing.T, what string, msg *anthropic.Message, want string) {
	t.Helper()
	if want == "" {
		t.Fatalf("%s: the recording holds no reasoning", what)
	}
	if len(msg.Content) < 2 || msg.Content[0].Type != "thinking" || msg.Content[0].Thinking != want || msg.Content[len(msg.Content)-1].Type != "text" {
		t.Errorf("%s: content %s, want a thinking block %q then the text", what, msg.RawJSON(), want)
	}
}

// An OpenAI client's reasoning_effort reaches Anthropic: none turns thinking
// off, a level turns it on with a budget (issue 9 item 4); its json_schema
// response_format is Anthropic's output_config.format, and Anthropic's
// output_config.format reaches an OpenAI server as a json_schema response_format
// (item 9).
func TestEffortAndStructuredOutputCrossProtocols(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/messages") {
			replay(200, "application/json", fixture(t, "fixtures/anthropic-messages-response.json"))(w, r)
			return
		}
		replay(200, "application/json", fixture(t, "fixtures/openai-chat-response.json"))(w, r)
	})
	rt := newRouter(t, crossConfig, up.URL)
	oai, ant := crossClients(rt.URL)
	schema := map[string]any{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}, "required": []string{"city"}}
	user := []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hi")}

	for _, tc := range []struct {
		effort shared.ReasoningEffort
		want   string // the thinking Anthropic receives
	}{{"none", `{"type":"disabled"}`}, {"high", `{"type":"enabled","budget_tokens":16384}`}} {
		_, err := oai.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
			Model: "claude-sonnet-4-5", Messages: user, ReasoningEffort: tc.effort})
		if err != nil {
			t.Fatal(err)
		}
		if got := gjson.GetBytes(up.last(t).Body, "thinking").Raw; got != tc.want {
			t.Errorf("reasoning_effort %s: Anthropic received thinking %s, want %s", tc.effort, got, tc.want)
		}
	}

	_, err := oai.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model: "claude-sonnet-4-5", Messages: user,
		ResponseFormat: openai.ChatCompletionNewParamsResponseFormatUnion{OfJSONSchema: &shared.ResponseFormatJSONSchemaParam{
			JSONSchema: shared.ResponseFormatJSONSchemaJSONSchemaParam{Name: "city", Schema: schema}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	format := gjson.GetBytes(up.last(t).Body, "output_config.format")
	if format.Get("type").Str != "json_schema" || format.Get("schema.required.0").Str != "city" {
		t.Errorf("Anthropic received output_config.format %s, want the json_schema", format.Raw)
	}

	_, err = ant.Messages.New(context.Background(), anthropic.MessageNewParams{
		Model: "gpt-4o", MaxTokens: 256, OutputConfig: anthropic.OutputConfigParam{Format: anthropic.JSONOutputFormatParam{Schema: schema}},
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Hi"))},
	})
	if err != nil {
		t.Fatal(err)
	}
	rf := gjson.GetBytes(up.last(t).Body, "response_format")
	if rf.Get("type").Str != "json_schema" || rf.Get("json_schema.schema.required.0").Str != "city" || rf.Get("json_schema.name").Str == "" {
		t.Errorf("OpenAI received response_format %s, want a named json_schema", rf.Raw)
	}
}

// A tool call with no arguments, streamed by Anthropic as one empty
// partial_json (the recorded stream with its arguments' deltas removed), reaches
// an OpenAI client with arguments "{}", which JSON.parse and json.Unmarshal
// take (issue 9 item 6).
func TestStreamedToolCallWithoutArgumentsIsAnEmptyObject(t *testing.T) {
	var stream bytes.Buffer
	for event := range strings.SplitSeq(string(fixture(t, "fixtures/anthropic-messages-stream-tools.sse")), "\n\n") {
		if strings.Contains(event, `"partial_json":"`) && !strings.Contains(event, `"partial_json":""`) {
			continue
		}
		stream.WriteString(event + "\n\n")
	}
	up := newUpstream(t, sse("text/event-stream", stream.Bytes()))
	rt := newRouter(t, crossConfig, up.URL)
	oai, _ := crossClients(rt.URL)
	s := oai.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{
		Model: "claude-sonnet-4-5", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Weather?")},
	})
	var acc openai.ChatCompletionAccumulator
	for s.Next() {
		acc.AddChunk(s.Current())
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	calls := acc.Choices[0].Message.ToolCalls
	if len(calls) != 1 || calls[0].Function.Name != "get_weather" || calls[0].Function.Arguments != "{}" {
		t.Errorf("tool calls %+v, want get_weather with arguments {}", calls)
	}
}

// Ids carry the prefix of the API the client speaks: chatcmpl- for a chat
// completion answered by Anthropic, msg_ for a message answered by an OpenAI
// server, whole and streamed (issue 9 item 8).
func TestIdsCarryTheClientsPrefix(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		var body bytes.Buffer
		_, _ = body.ReadFrom(r.Body)
		stream := gjson.GetBytes(body.Bytes(), "stream").Bool()
		switch {
		case strings.HasSuffix(r.URL.Path, "/messages") && stream:
			sse("text/event-stream", fixture(t, "fixtures/anthropic-messages-stream-text.sse"))(w, r)
		case strings.HasSuffix(r.URL.Path, "/messages"):
			replay(200, "application/json", fixture(t, "fixtures/anthropic-messages-response.json"))(w, r)
		case stream:
			sse("text/event-stream", fixture(t, "fixtures/openai-chat-stream-usage.sse"))(w, r)
		default:
			replay(200, "application/json", fixture(t, "fixtures/openai-chat-response.json"))(w, r)
		}
	})
	rt := newRouter(t, crossConfig, up.URL)
	oai, ant := crossClients(rt.URL)
	chat := openai.ChatCompletionNewParams{Model: "claude-sonnet-4-5", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hi")}}
	msgs := anthropic.MessageNewParams{Model: "gpt-4o", MaxTokens: 256,
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Hi"))}}

	c, err := oai.Chat.Completions.New(context.Background(), chat)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{"chat": c.ID}
	cs := oai.Chat.Completions.NewStreaming(context.Background(), chat)
	for cs.Next() {
		if id := cs.Current().ID; ids["chat stream"] == "" || id != ids["chat stream"] {
			ids["chat stream"] += id
		}
	}
	if err := cs.Err(); err != nil {
		t.Fatal(err)
	}
	m, err := ant.Messages.New(context.Background(), msgs)
	if err != nil {
		t.Fatal(err)
	}
	ids["messages"] = m.ID
	ms := ant.Messages.NewStreaming(context.Background(), msgs)
	var acc anthropic.Message
	for ms.Next() {
		if err := acc.Accumulate(ms.Current()); err != nil {
			t.Fatal(err)
		}
	}
	if err := ms.Err(); err != nil {
		t.Fatal(err)
	}
	ids["messages stream"] = acc.ID
	for what, id := range ids {
		prefix := "chatcmpl-"
		if strings.HasPrefix(what, "messages") {
			prefix = "msg_"
		}
		if !strings.HasPrefix(id, prefix) || len(id) == len(prefix) {
			t.Errorf("%s: id %q, want one id with the prefix %s", what, id, prefix)
		}
	}
}
