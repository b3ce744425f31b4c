package translate

// Anthropic Messages client, Responses upstream (docs/protocols.md §3, §15): for an openai
// endpoint that serves only the Responses API. The translator and the request
// conversion; its answers go through the hub (decode_responses.go,
// encode_anthropic.go).
//
// Request decisions where the digest is silent:
//   - system becomes a leading system message: a string as it is, text blocks as
//     input_text parts (no separator invented).
//   - A user turn's tool_result blocks become function_call_output items before
//     the rest of the turn (tool_result text joined with "\n", images dropped,
//     is_error folded in as an "Error: " prefix, as towards Chat); each run of an
//     assistant turn's text blocks (joined with "\n") becomes an assistant message, each tool_use a
//     function_call item, in the turn's order. thinking and redacted_thinking
//     blocks carry a signature only Anthropic reads: dropped and recorded.
//   - max_tokens is max_output_tokens, raised to the Responses minimum of 16.
//   - thinking and output_config.effort are dropped, as towards Chat: the
//     Responses API refuses reasoning.effort for models that do not reason, and
//     a client such as Claude Code asks for thinking whatever the model.
//   - output_config.format is text.format json_schema, named "response" (the
//     Responses API requires a name, Anthropic has none), not strict.
//   - metadata.user_id is user (openAIUser); thread is a RequestError
//     (threadUnsupported); server tools and deferred tools are dropped
//     (anthropicFunction); top_k, stop_sequences and the rest have no Responses
//     form and are dropped.
//   - store is false: an Anthropic client never expects a stored response.

import (
	"github.com/tidwall/gjson"

	"github.com/llmrouter/llmrouter/internal/responses"
	"github.com/llmrouter/llmrouter/internal/wire"
)

func init() {
	register(wire.AnthropicMessages, wire.OpenAIResponses, func(o Options) Translator {
		t := &anthropicToResponses{opt: o}
		t.init(&t.dec, &t.enc)
		return t
	})
}

// anthropicToResponses serves an Anthropic Messages client from a Responses
// upstream.
type anthropicToResponses struct {
	answer
	opt     Options
	dropped drops
	dec     responsesDecoder
	enc     anthropicEncoder
}

// Dropped implements Translator.
func (t *anthropicToResponses) Dropped() []string { return t.dropped }

// Request implements Translator.
func (t *anthropicToResponses) Request(body []byte) ([]byte, error) {
	t.dropped = nil
	r, err := parseObject(body)
	if err != nil {
		return nil, err
	}
	c := messagesResponses{drops: &t.dropped}
	c.out.Input = []any{}
	if err := eachKey(r, c.field); err != nil {
		return nil, err
	}
	if !c.sawMessages {
		return nil, reqErr("messages", "is required")
	}
	c.out.Model = cmpOr(t.opt.Model, c.clientModel)
	if c.system != nil {
		c.out.Input = append([]any{*c.system}, c.out.Input...)
	}
	if err := c.toolChoice(); err != nil {
		return nil, err
	}
	return marshal("responses request", &c.out)
}

// messagesResponses converts one Anthropic Messages request.
type messagesResponses struct {
	drops       *drops
	out         responses.Request
	clientModel string
	system      *responses.Message
	sawMessages bool
	choice      gjson.Result
}

// field handles one top-level member of the request.
func (c *messagesResponses) field(key string, v gjson.Result) error {
	var err error
	switch key {
	case "model":
		c.clientModel, err = wantString(v, key)
	case "max_tokens":
		var n int64
		n, err = wantPositive(v, key)
		c.out.MaxOutputTokens = max(n, minOutputTokens)
	case "system":
		err = c.systemField(v)
	case "messages":
		c.sawMessages = true
		if err = wantArray(v, key); err == nil {
			err = eachElem(v, c.message)
		}
	case "temperature":
		c.out.Temperature, err = wantNumber(v, key)
	case "top_p":
		c.out.TopP, err = wantNumber(v, key)
	case "stream":
		c.out.Stream, err = wantBool(v, key)
	case "metadata":
		err = c.metadata(v)
	case "tools":
		err = c.tools(v)
	case "tool_choice":
		c.choice = v
	case "output_config":
		err = c.outputConfig(v)
	case "thread":
		err = threadUnsupported()
	default: // thinking, top_k, stop_sequences, service_tier, container, mcp_servers, …
		c.drops.add(jsonPath("", key))
	}
	return err
}

func (c *messagesResponses) metadata(v gjson.Result) error {
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

func (c *messagesResponses) systemField(v gjson.Result) error {
	if v.Type == gjson.String {
		c.system = &responses.Message{Type: responses.ItemMessage, Role: "system", Content: v.Str}
		return nil
	}
	parts, err := c.inputTexts("system", v)
	c.system = &responses.Message{Type: responses.ItemMessage, Role: "system", Content: parts}
	return err
}

// inputTexts reads an array that may hold only text blocks, as input_text parts.
func (c *messagesResponses) inputTexts(path string, v gjson.Result) ([]any, error) {
	if err := wantArray(v, path); err != nil {
		return nil, err
	}
	parts := []any{}
	err := eachElem(v, func(j int, b gjson.Result) error {
		s, err := c.text(jsonPath(path, j), b)
		parts = append(parts, responses.InputText{Type: responses.PartInputText, Text: s})
		return err
	})
	return parts, err
}

// text reads a text block.
func (c *messagesResponses) text(path string, b gjson.Result) (string, error) {
	if b.Get("type").String() != "text" {
		return "", reqErr(jsonPath(path, "type"), "only text blocks are allowed here")
	}
	return anthropicText(c.drops, path, b)
}

// outputConfig reads output_config: its format becomes text.format; effort
// and the rest are dropped.
func (c *messagesResponses) outputConfig(v gjson.Result) error {
	schema, ok, err := outputFormat(v, c.drops)
	if ok && err == nil {
		c.out.Text = &responses.Text{Format: &responses.Format{Type: "json_schema", Name: responseFormatName, Schema: schema}}
	}
	return err
}

func (c *messagesResponses) tools(v gjson.Result) error {
	if err := wantArray(v, "tools"); err != nil {
		return err
	}
	return eachElem(v, func(i int, tool gjson.Result) error {
		fn, ok, err := anthropicFunction(jsonPath("tools", i), tool, c.drops)
		if ok {
			c.out.Tools = append(c.out.Tools, responses.FunctionTool{Type: responses.ToolFunction, Name: fn.Name,
				Description: fn.Description, Parameters: fn.Parameters})
		}
		return err
	})
}

// toolChoice maps tool_choice (docs/protocols.md §7); without a tool to send it is dropped.
func (c *messagesResponses) toolChoice() error {
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
		c.out.ToolChoice = responses.NamedToolChoice{Type: responses.ToolFunction, Name: name}
	default:
		return reqErr("tool_choice.type", "unsupported value %q", typ)
	}
	if v.Get("disable_parallel_tool_use").Bool() {
		f := false
		c.out.ParallelToolCalls = &f
	}
	return nil
}

// add appends an input item.
func (c *messagesResponses) add(item any) { c.out.Input = append(c.out.Input, item) }
