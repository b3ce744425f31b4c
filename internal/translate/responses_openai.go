package translate

// OpenAI Responses client, Chat Completions upstream (docs/protocols.md §15.6): for an
// openai endpoint that serves chat but not responses (vLLM, llama.cpp, Ollama's
// /v1: a model with apis: [chat, …]). The translator and the request conversion;
// its answers go through the hub (decode_openai.go, encode_responses.go).
//
// Request decisions where the digest is silent (responses_request.go has those
// common to every upstream):
//   - instructions become a leading system message; developer messages become
//     system messages, which OpenAI-compatible servers all accept (some refuse
//     "developer").
//   - An assistant message's text parts are joined with "\n"; function calls join
//     the assistant message before them (one message per turn, as [OLLR] does);
//     each output is a tool message. Reasoning items have no Chat form: dropped.
//   - max_output_tokens goes in Options.MaxTokensField (max_completion_tokens,
//     or max_tokens for the OpenAI-compatible servers that read only that, as
//     for an Anthropic client); reasoning.effort is reasoning_effort; text.format
//     response_format ({name, schema, strict, description} under json_schema).
//   - strict:true on a function tool is dropped (Chat's function declaration here
//     carries none); tool_choice without any tool to send is dropped.
//   - stream:true adds stream_options.include_usage, the only way to get usage.

import (
	"encoding/json"

	"github.com/tidwall/gjson"

	"github.com/llmrouter/llmrouter/internal/openai"
	"github.com/llmrouter/llmrouter/internal/wire"
)

func init() {
	register(wire.OpenAIResponses, wire.OpenAIChat, func(o Options) Translator {
		t := &responsesToChat{opt: o}
		t.init(&t.dec, &t.enc)
		return t
	})
}

// responsesToChat serves a Responses client from a Chat Completions upstream.
type responsesToChat struct {
	answer
	opt     Options
	dropped drops
	dec     openAIDecoder
	enc     responsesEncoder
}

// Dropped implements Translator.
func (t *responsesToChat) Dropped() []string { return t.dropped }

// Fail implements Failer.
func (t *responsesToChat) Fail(dst []byte, code, message string) []byte {
	return respFailer{&t.answer, &t.enc}.Fail(dst, code, message)
}

// Request implements Translator.
func (t *responsesToChat) Request(body []byte) ([]byte, error) {
	t.dropped = nil
	c := respRequest{drops: &t.dropped, upstream: "chat completions"}
	if err := c.read(body); err != nil {
		return nil, err
	}
	b := respChat{c: &c}
	req, err := b.build(t.opt)
	if err != nil {
		return nil, err
	}
	t.enc = responsesEncoder{echo: c.echo, customs: c.customs}
	return marshal("openai request", req)
}

// respChat writes a read Responses request as a Chat Completions request.
type respChat struct {
	c   *respRequest
	out openai.ChatRequest
}

func (b *respChat) build(opt Options) (*openai.ChatRequest, error) {
	c := b.c
	b.out.Model, b.out.Stream = cmpOr(opt.Model, c.model), c.stream
	if c.stream {
		b.out.StreamOptions = &openai.StreamOptions{IncludeUsage: true}
	}
	b.out.Temperature, b.out.TopP, b.out.User = c.temperature, c.topP, c.user
	if c.maxOutput > 0 && opt.MaxTokensField == openai.MaxTokens {
		b.out.MaxTokens = jsonInt(c.maxOutput)
	} else if c.maxOutput > 0 {
		b.out.MaxCompletionTokens = jsonInt(c.maxOutput)
	}
	b.out.ReasoningEffort = c.effort
	b.out.Messages = []openai.MessageParam{}
	if c.instructions != "" {
		b.out.Messages = append(b.out.Messages, openai.MessageParam{Role: "system", Content: c.instructions})
	}
	for i := range c.items {
		if err := b.item(&c.items[i]); err != nil {
			return nil, err
		}
	}
	b.tools()
	b.format()
	return &b.out, nil
}

func (b *respChat) item(it *respItem) error {
	switch it.kind {
	case itemMessage:
		return b.message(it)
	case itemCall:
		msgs := b.out.Messages
		if n := len(msgs); n == 0 || msgs[n-1].Role != "assistant" {
			b.out.Messages = append(msgs, openai.MessageParam{Role: "assistant"})
		}
		last := &b.out.Messages[len(b.out.Messages)-1]
		last.ToolCalls = append(last.ToolCalls, openai.ToolCall{ID: it.callID, Type: "function",
			Function: openai.FunctionCall{Name: it.name, Arguments: it.args}})
	case itemOutput:
		b.out.Messages = append(b.out.Messages, openai.MessageParam{Role: "tool", Content: it.output, ToolCallID: it.callID})
	case itemReasoning:
		b.c.drops.add(it.path)
	}
	return nil
}

func (b *respChat) message(it *respItem) error {
	role := it.role
	if role == "developer" {
		role = "system"
	}
	if it.plain {
		b.out.Messages = append(b.out.Messages, openai.MessageParam{Role: role, Content: it.parts[0].text})
		return nil
	}
	if role != "user" { // text only: joined into one string
		var texts []string
		for _, p := range it.parts {
			if p.image != "" {
				return reqErr(p.path, "images are only allowed in user messages")
			}
			texts = append(texts, p.text)
		}
		b.out.Messages = append(b.out.Messages, openai.MessageParam{Role: role, Content: joinLines(texts)})
		return nil
	}
	parts := make([]any, 0, len(it.parts))
	for _, p := range it.parts {
		if p.image == "" {
			parts = append(parts, openai.TextPart{Type: "text", Text: p.text})
			continue
		}
		parts = append(parts, chatImagePart{Type: "image_url", ImageURL: chatImageURL{URL: p.image, Detail: p.detail}})
	}
	b.out.Messages = append(b.out.Messages, openai.MessageParam{Role: role, Content: parts})
	return nil
}

// chatImagePart is an image_url part with its detail, which Chat has too.
type chatImagePart struct {
	Type     string       `json:"type"`
	ImageURL chatImageURL `json:"image_url"`
}

type chatImageURL struct {
	URL    string `json:"url"`
	Detail string `json:"detail,omitempty"`
}

// tools declares the functions and maps tool_choice and parallel_tool_calls.
func (b *respChat) tools() {
	c := b.c
	for _, t := range c.tools {
		if t.strict {
			c.drops.add(jsonPath(t.path, "strict"))
		}
		b.out.Tools = append(b.out.Tools, openai.Tool{Type: "function", Function: openai.FunctionDefinition{
			Name: t.name, Description: t.description, Parameters: t.parameters}})
	}
	if len(b.out.Tools) == 0 {
		if c.choice.mode == "required" || c.choice.mode == "tool" {
			c.drops.add("tool_choice")
		}
		return
	}
	switch c.choice.mode {
	case "auto", "none", "required":
		b.out.ToolChoice = c.choice.mode
	case "tool":
		b.out.ToolChoice = openai.NamedToolChoice{Type: "function", Function: openai.FunctionName{Name: c.choice.name}}
	}
	b.out.ParallelToolCalls = c.parallel
}

// format maps text.format to response_format.
func (b *respChat) format() {
	f := b.c.format
	if !f.Exists() {
		return
	}
	if f.Get("type").String() == "json_object" {
		b.out.ResponseFormat = &openai.ResponseFormat{Type: "json_object"}
		return
	}
	s := &openai.JSONSchemaFormat{Name: f.Get("name").String(), Description: f.Get("description").String(),
		Schema: json.RawMessage(f.Get("schema").Raw)}
	if st := f.Get("strict"); st.IsBool() {
		v := st.Type == gjson.True
		s.Strict = &v
	}
	b.out.ResponseFormat = &openai.ResponseFormat{Type: "json_schema", JSONSchema: s}
}
