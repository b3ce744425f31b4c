package translate

// Anthropic Messages client, OpenAI Chat Completions upstream (docs/protocols.md §1, §3, §7-14):
// the translator and the request conversion; its answers go through the hub
// (decode_openai.go, encode_anthropic.go).
//
// Request decisions where the digest is silent:
//   - model is Options.Model, or the client's model when Options.Model is empty.
//   - max_tokens goes in Options.MaxTokensField: max_completion_tokens (OpenAI's
//     reasoning models reject max_tokens) unless the upstream reads max_tokens.
//   - temperature (Anthropic 0-1) fits OpenAI's 0-2 range and is passed unchanged.
//   - system becomes one "system" message (not "developer", which older models and
//     OpenAI-compatible servers reject); several text blocks become text parts, so
//     no separator is invented. The same holds for user and assistant text.
//   - tool_result content becomes one string: text blocks joined with "\n". Images
//     inside a tool_result are dropped and recorded (OpenAI tool messages carry only
//     text). is_error:true is folded into the text as an "Error: " prefix.
//   - thinking and redacted_thinking blocks in the history are dropped and recorded:
//     OpenAI has no field for the signature (docs/protocols.md §10). An assistant message left
//     with nothing to send is not sent.
//   - tools with a type other than "custom" (server tools) are dropped and recorded;
//     document blocks are a RequestError.
//   - stream:true always adds stream_options.include_usage, the only way to get usage.
//   - metadata.user_id is OpenAI's user, hashed when longer than 64 characters
//     (openAIUser).
//   - output_config.format becomes a json_schema response_format named
//     "response" (OpenAI requires a name; Anthropic has none), not strict: OpenAI's
//     strict mode refuses schemas Anthropic accepts. thread is a RequestError
//     (threadUnsupported); tools with defer_loading are dropped (anthropicFunction).

import (
	"encoding/json"

	"github.com/tidwall/gjson"

	"github.com/llmrouter/llmrouter/internal/openai"
	"github.com/llmrouter/llmrouter/internal/wire"
)

func init() {
	register(wire.AnthropicMessages, wire.OpenAIChat, func(o Options) Translator {
		t := &anthropicToOpenAI{opt: o}
		t.init(&t.dec, &t.enc)
		return t
	})
}

// anthropicToOpenAI serves an Anthropic Messages client from an OpenAI Chat upstream.
type anthropicToOpenAI struct {
	answer
	opt     Options
	dropped drops
	dec     openAIDecoder
	enc     anthropicEncoder
}

// Dropped implements Translator.
func (t *anthropicToOpenAI) Dropped() []string { return t.dropped }

// Request implements Translator.
func (t *anthropicToOpenAI) Request(body []byte) ([]byte, error) {
	t.dropped = nil
	c := messagesConv{drops: &t.dropped, limitField: t.opt.MaxTokensField}
	req, err := c.convert(body, t.opt)
	if err != nil {
		return nil, err
	}
	return marshal("openai request", req)
}

// responseFormatName names the json_schema response_format made from an
// Anthropic output_config.format.
const responseFormatName = "response"

// messagesConv converts one Anthropic Messages request.
type messagesConv struct {
	drops       *drops
	limitField  openai.LimitField // Options.MaxTokensField
	out         openai.ChatRequest
	clientModel string
	system      *openai.MessageParam
	sawMessages bool
	choice      gjson.Result
}

func (c *messagesConv) convert(body []byte, opt Options) (*openai.ChatRequest, error) {
	r, err := parseObject(body)
	if err != nil {
		return nil, err
	}
	c.out.Messages = []openai.MessageParam{}
	if err := eachKey(r, c.field); err != nil {
		return nil, err
	}
	if !c.sawMessages {
		return nil, reqErr("messages", "is required")
	}
	c.out.Model = cmpOr(opt.Model, c.clientModel)
	if c.system != nil {
		c.out.Messages = append([]openai.MessageParam{*c.system}, c.out.Messages...)
	}
	return &c.out, c.toolChoice()
}

// field handles one top-level member of the request.
func (c *messagesConv) field(key string, v gjson.Result) error {
	var err error
	switch key {
	case "model":
		c.clientModel, err = wantString(v, key)
	case "max_tokens":
		if _, err = wantPositive(v, key); err == nil {
			c.limit(json.RawMessage(v.Raw))
		}
	case "system":
		err = c.systemField(v)
	case "messages":
		c.sawMessages = true
		if err = wantArray(v, key); err == nil {
			err = eachElem(v, c.message)
		}
	case "stop_sequences":
		c.out.Stop, err = stringList(v, key)
	case "temperature":
		c.out.Temperature, err = wantNumber(v, key)
	case "top_p":
		c.out.TopP, err = wantNumber(v, key)
	case "metadata":
		err = c.metadata(v)
	case "tools":
		err = c.tools(v)
	case "tool_choice":
		c.choice = v
	case "stream":
		c.out.Stream, err = wantBool(v, key)
		if c.out.Stream {
			c.out.StreamOptions = &openai.StreamOptions{IncludeUsage: true}
		}
	case "output_config":
		err = c.outputConfig(v)
	case "thread":
		err = threadUnsupported()
	default: // top_k, thinking, service_tier, context_management, …
		c.drops.add(jsonPath("", key))
	}
	return err
}

// limit puts the output token limit in the field the upstream reads.
func (c *messagesConv) limit(n json.RawMessage) {
	if c.limitField == openai.MaxTokens {
		c.out.MaxTokens = n
		return
	}
	c.out.MaxCompletionTokens = n
}

func (c *messagesConv) metadata(v gjson.Result) error {
	if err := wantObject(v, "metadata"); err != nil {
		return err
	}
	c.drops.unknown("metadata", v, "user_id")
	if u := v.Get("user_id"); u.Exists() && u.Type != gjson.Null {
		s, err := wantString(u, "metadata.user_id")
		c.out.User = openAIUser(s)
		return err
	}
	return nil
}

// outputConfig reads output_config: a json_schema format becomes
// response_format; effort (reasoning_effort would be refused by models that do
// not reason) and anything else is dropped.
func (c *messagesConv) outputConfig(v gjson.Result) error {
	schema, ok, err := outputFormat(v, c.drops)
	if ok && err == nil {
		c.out.ResponseFormat = &openai.ResponseFormat{Type: "json_schema",
			JSONSchema: &openai.JSONSchemaFormat{Name: responseFormatName, Schema: schema}}
	}
	return err
}

func (c *messagesConv) systemField(v gjson.Result) error {
	if v.Type == gjson.String {
		c.system = &openai.MessageParam{Role: "system", Content: v.Str}
		return nil
	}
	parts, err := c.textBlocks("system", v)
	c.system = &openai.MessageParam{Role: "system", Content: partsContent(parts)}
	return err
}

// textBlocks reads an array that may hold only text blocks.
func (c *messagesConv) textBlocks(path string, v gjson.Result) ([]any, error) {
	if err := wantArray(v, path); err != nil {
		return nil, err
	}
	var parts []any
	err := eachElem(v, func(j int, b gjson.Result) error {
		bpath := jsonPath(path, j)
		if b.Get("type").String() != "text" {
			return reqErr(jsonPath(bpath, "type"), "only text blocks are allowed here")
		}
		p, err := c.textPart(bpath, b)
		parts = append(parts, p)
		return err
	})
	return parts, err
}

func (c *messagesConv) textPart(path string, b gjson.Result) (openai.TextPart, error) {
	s, err := anthropicText(c.drops, path, b)
	return openai.TextPart{Type: "text", Text: s}, err
}

// partsContent is a lone text part as a plain string, else the parts array.
func partsContent(parts []any) any {
	if len(parts) == 1 {
		if p, ok := parts[0].(openai.TextPart); ok {
			return p.Text
		}
	}
	if parts == nil {
		return []any{}
	}
	return parts
}

func (c *messagesConv) message(i int, m gjson.Result) error {
	path := jsonPath("messages", i)
	if err := wantObject(m, path); err != nil {
		return err
	}
	c.drops.unknown(path, m, "role", "content")
	role := m.Get("role").String()
	if role != "user" && role != "assistant" && role != "system" {
		return reqErr(jsonPath(path, "role"), "unsupported role %q", role)
	}
	cpath := jsonPath(path, "content")
	content := m.Get("content")
	if content.Type == gjson.String {
		c.out.Messages = append(c.out.Messages, openai.MessageParam{Role: role, Content: content.Str})
		return nil
	}
	switch role {
	case "user":
		return c.userBlocks(cpath, content)
	case "assistant":
		return c.assistantBlocks(path, content)
	}
	parts, err := c.textBlocks(cpath, content)
	c.out.Messages = append(c.out.Messages, openai.MessageParam{Role: "system", Content: partsContent(parts)})
	return err
}

// userBlocks emits one tool message per tool_result block, then the rest of the
// turn as one user message: OpenAI wants the tool messages right after the
// assistant message that made the calls.
func (c *messagesConv) userBlocks(path string, content gjson.Result) error {
	if err := wantArray(content, path); err != nil {
		return err
	}
	var parts []any
	tools := 0
	err := eachElem(content, func(j int, b gjson.Result) error {
		bpath := jsonPath(path, j)
		switch typ := b.Get("type").String(); typ {
		case "text":
			p, err := c.textPart(bpath, b)
			parts = append(parts, p)
			return err
		case "image":
			p, err := c.imagePart(bpath, b)
			parts = append(parts, p)
			return err
		case "tool_result":
			tools++
			return c.toolResult(bpath, b)
		case "document":
			return reqErr(bpath, "document blocks cannot be sent to an OpenAI upstream")
		default:
			return reqErr(jsonPath(bpath, "type"), "unsupported block type %q in a user message", typ)
		}
	})
	if len(parts) > 0 || tools == 0 {
		c.out.Messages = append(c.out.Messages, openai.MessageParam{Role: "user", Content: partsContent(parts)})
	}
	return err
}

func (c *messagesConv) imagePart(path string, b gjson.Result) (any, error) {
	u, err := anthropicImageURL(c.drops, path, b, "an OpenAI upstream")
	if err != nil {
		return nil, err
	}
	return openai.ImagePart{Type: "image_url", ImageURL: openai.ImageURL{URL: u}}, nil
}

func (c *messagesConv) toolResult(path string, b gjson.Result) error {
	id, text, err := anthropicToolResult(c.drops, path, b)
	if err != nil {
		return err
	}
	c.out.Messages = append(c.out.Messages, openai.MessageParam{Role: "tool", Content: text, ToolCallID: id})
	return nil
}

func (c *messagesConv) assistantBlocks(path string, content gjson.Result) error {
	cpath := jsonPath(path, "content")
	if err := wantArray(content, cpath); err != nil {
		return err
	}
	msg := openai.MessageParam{Role: "assistant"}
	var texts []any
	err := eachElem(content, func(j int, b gjson.Result) error {
		bpath := jsonPath(cpath, j)
		switch typ := b.Get("type").String(); typ {
		case "text":
			p, err := c.textPart(bpath, b)
			texts = append(texts, p)
			return err
		case "tool_use":
			call, err := c.toolUse(bpath, b)
			msg.ToolCalls = append(msg.ToolCalls, call)
			return err
		case "thinking", "redacted_thinking":
			c.drops.add(bpath) // no place for the signature in OpenAI
			return nil
		default:
			return reqErr(jsonPath(bpath, "type"), "unsupported block type %q in an assistant message", typ)
		}
	})
	if len(texts) > 0 {
		msg.Content = partsContent(texts)
	}
	switch {
	case msg.Content != nil || msg.ToolCalls != nil:
		c.out.Messages = append(c.out.Messages, msg)
	case len(content.Array()) == 0:
		c.drops.add(path)
	}
	return err
}

func (c *messagesConv) toolUse(path string, b gjson.Result) (openai.ToolCall, error) {
	c.drops.unknown(path, b, "type", "id", "name", "input") // caller, cache_control
	id, err := wantString(b.Get("id"), jsonPath(path, "id"))
	if err != nil {
		return openai.ToolCall{}, err
	}
	name, err := wantString(b.Get("name"), jsonPath(path, "name"))
	if err != nil {
		return openai.ToolCall{}, err
	}
	in := b.Get("input")
	if in.Exists() && !in.IsObject() {
		return openai.ToolCall{}, reqErr(jsonPath(path, "input"), "must be an object")
	}
	return openai.ToolCall{ID: id, Type: "function", Function: openai.FunctionCall{Name: name, Arguments: inputArguments(in)}}, nil
}

func (c *messagesConv) tools(v gjson.Result) error {
	if err := wantArray(v, "tools"); err != nil {
		return err
	}
	return eachElem(v, func(i int, tool gjson.Result) error {
		fn, ok, err := anthropicFunction(jsonPath("tools", i), tool, c.drops)
		if ok {
			c.out.Tools = append(c.out.Tools, openai.Tool{Type: "function", Function: fn})
		}
		return err
	})
}

// toolChoice maps tool_choice (docs/protocols.md §7). Without tools OpenAI rejects both
// tool_choice and parallel_tool_calls, so they are then dropped and recorded.
func (c *messagesConv) toolChoice() error {
	v := c.choice
	if !v.Exists() {
		return nil
	}
	if err := wantObject(v, "tool_choice"); err != nil {
		return err
	}
	if len(c.out.Tools) == 0 {
		c.drops.add("tool_choice")
		return nil
	}
	c.drops.unknown("tool_choice", v, "type", "name", "disable_parallel_tool_use")
	switch typ := v.Get("type").String(); typ {
	case "auto", "none":
		c.out.ToolChoice = typ
	case "any":
		c.out.ToolChoice = "required"
	case "tool":
		name, err := wantString(v.Get("name"), "tool_choice.name")
		if err != nil {
			return err
		}
		c.out.ToolChoice = openai.NamedToolChoice{Type: "function", Function: openai.FunctionName{Name: name}}
	default:
		return reqErr("tool_choice.type", "unsupported value %q", typ)
	}
	if v.Get("disable_parallel_tool_use").Bool() {
		f := false
		c.out.ParallelToolCalls = &f
	}
	return nil
}
