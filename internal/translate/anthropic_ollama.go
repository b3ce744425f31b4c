package translate

// Anthropic Messages client → Ollama /api/chat upstream (docs/protocols.md §3, §4, §7-14): the
// translator and the request conversion; its answers go through the hub
// (decode_ollama.go, encode_anthropic.go).

import (
	"encoding/json"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/llmrouter/llmrouter/internal/ollama"
	"github.com/llmrouter/llmrouter/internal/wire"
)

func init() {
	register(wire.AnthropicMessages, wire.OllamaChat, func(o Options) Translator {
		t := &anthropicToOllama{ollamaBase: ollamaBase{opt: o}, dec: newOllamaChatDecoder(o.Model)}
		t.init(&t.dec, &t.enc)
		return t
	})
}

// anthropicToOllama translates one Anthropic Messages request to /api/chat and its
// answer back.
type anthropicToOllama struct {
	answer
	ollamaBase
	dec ollamaChatDecoder
	enc anthropicEncoder
}

// antOllReq is the state of one request conversion.
type antOllReq struct {
	t       *anthropicToOllama
	out     ollama.ChatRequest
	opts    ollama.Options
	system  []ollama.Message  // the top-level system prompt, put before all messages
	think   string            // thinking.type
	effort  string            // output_config.effort
	noTools bool              // tool_choice none: send no tools
	names   map[string]string // tool_use id → tool name, from assistant turns
}

// Request converts an Anthropic Messages body to an Ollama /api/chat body.
func (t *anthropicToOllama) Request(body []byte) ([]byte, error) {
	t.dropped = nil
	req, err := parseObject(body)
	if err != nil {
		return nil, err
	}
	c := &antOllReq{t: t, names: map[string]string{}}
	c.out.Model = t.model(req.Get("model"))
	c.out.Messages = []ollama.Message{}
	if err := eachKey(req, c.field); err != nil {
		return nil, err
	}
	if err := c.thinkValue(); err != nil {
		return nil, err
	}
	msgs := make([]ollama.Message, 0, len(c.system)+len(c.out.Messages))
	c.out.Messages = append(append(msgs, c.system...), c.out.Messages...)
	c.out.Options = ollamaOptionsOrNil(&c.opts)
	if c.noTools {
		c.out.Tools = nil
	}
	return marshal("ollama request", c.out)
}

// field converts one top-level member of the client request.
func (c *antOllReq) field(key string, v gjson.Result) error {
	var err error
	switch key {
	case "model":
	case "messages":
		err = c.messages(v)
	case "system":
		err = c.systemPrompt(v)
	case "max_tokens":
		c.opts.NumPredict, err = wantNumber(v, key)
	case "stream":
		c.out.Stream, err = wantBool(v, key)
	case "temperature", "top_p", "top_k":
		err = setOllamaNumber(&c.opts, key, v, key)
	case "stop_sequences":
		if err = wantArray(v, key); err == nil {
			c.opts.Stop, err = stringList(v, key)
		}
	case "tools":
		err = c.tools(v)
	case "tool_choice":
		err = c.toolChoice(v)
	case "thinking":
		err = c.thinking(v)
	case "output_config":
		err = c.outputConfig(v)
	case "thread":
		err = threadUnsupported()
	default: // metadata, service_tier, container, mcp_servers, context_management, …
		c.t.dropped.add(jsonPath(key))
	}
	return err
}

// systemPrompt turns the top-level system (a string or text blocks) into the first
// message. Blocks are joined by "\n"; their cache_control is dropped.
func (c *antOllReq) systemPrompt(v gjson.Result) error {
	if v.Type == gjson.String {
		if v.Str != "" {
			c.system = []ollama.Message{{Role: "system", Content: v.Str}}
		}
		return nil
	}
	var turn antOllTurn
	if err := c.blocks("system", v, &turn); err != nil {
		return err
	}
	if len(turn.images)+len(turn.calls)+len(turn.results)+len(turn.thinking) > 0 {
		return reqErr("system", "must hold only text blocks")
	}
	c.system = []ollama.Message{{Role: "system", Content: strings.Join(turn.text, "\n")}}
	return nil
}

// toolChoice: auto is Ollama's behaviour, none is honoured by sending no tools, and
// any/tool cannot be expressed and are dropped, as is disable_parallel_tool_use.
func (c *antOllReq) toolChoice(v gjson.Result) error {
	if err := wantObject(v, "tool_choice"); err != nil {
		return err
	}
	switch v.Get("type").String() {
	case "auto":
	case "none":
		c.noTools = true
	default:
		c.t.dropped.add("tool_choice")
		return nil
	}
	if v.Get("disable_parallel_tool_use").Type == gjson.True {
		c.t.dropped.add("tool_choice.disable_parallel_tool_use")
	}
	return nil
}

// thinking records thinking.type; budget_tokens is dropped: Ollama's think has
// no budget.
func (c *antOllReq) thinking(v gjson.Result) error {
	if err := wantObject(v, "thinking"); err != nil {
		return err
	}
	c.think = v.Get("type").String()
	switch c.think {
	case "enabled", "adaptive", "disabled":
	default:
		return reqErr("thinking.type", "unsupported thinking type %q", c.think)
	}
	return eachKey(v, func(k string, _ gjson.Result) error {
		if k != "type" {
			c.t.dropped.add(jsonPath("thinking", k))
		}
		return nil
	})
}

// outputConfig reads effort (a think level when thinking is on) and a json_schema
// format (Ollama's schema "format").
func (c *antOllReq) outputConfig(v gjson.Result) error {
	if err := wantObject(v, "output_config"); err != nil {
		return err
	}
	return eachKey(v, func(k string, f gjson.Result) error {
		var err error
		switch k {
		case "effort":
			c.effort, err = wantString(f, "output_config.effort")
		case "format":
			c.out.Format, err = formatSchema(f, &c.t.dropped)
		default:
			c.t.dropped.add(jsonPath("output_config", k))
		}
		return err
	})
}

// thinkValue sets think: enabled/adaptive → true, or the effort level when one was
// given and the model takes levels (ollamaThink; else the effort is dropped);
// disabled → false. Without thinking, think stays unset (a model that cannot think
// answers 400 to any think value) and an effort is dropped. A model that cannot
// think at all refuses true as well: the gateway learns that from Ollama's refusal
// and relaxes think (ollama.ThinkMemory), as Ollama's own Anthropic endpoint does.
func (c *antOllReq) thinkValue() error {
	switch {
	case c.think == "disabled":
		c.out.Think = json.RawMessage(`false`)
	case c.think == "" && c.effort != "":
		c.t.dropped.add("output_config.effort")
	case c.think == "":
	case c.effort != "":
		level, ok := ollamaThink(c.effort, c.out.Model)
		if !ok || string(level) == "false" {
			return reqErr("output_config.effort", "unsupported effort %q", c.effort)
		}
		if string(level) == "true" {
			c.t.dropped.add("output_config.effort")
		}
		c.out.Think = level
	default:
		c.out.Think = json.RawMessage(`true`)
	}
	return nil
}

// tools converts client tools {name, description, input_schema} to Ollama's function
// format. Server tools (a type other than "custom") cannot run on Ollama: dropped.
func (c *antOllReq) tools(v gjson.Result) error {
	if err := wantArray(v, "tools"); err != nil {
		return err
	}
	return eachElem(v, func(i int, tool gjson.Result) error {
		decl, ok, err := anthropicFunction(jsonPath("tools", i), tool, &c.t.dropped)
		if !ok || err != nil {
			return err
		}
		fn, err := marshal("tool", decl)
		c.out.Tools = append(c.out.Tools, ollama.Tool{Type: "function", Function: fn})
		return err
	})
}

func (c *antOllReq) messages(v gjson.Result) error {
	if err := wantArray(v, "messages"); err != nil {
		return err
	}
	return eachElem(v, func(i int, m gjson.Result) error {
		return c.message(jsonPath("messages", i), m)
	})
}

// antOllTurn collects the blocks of one Anthropic message.
type antOllTurn struct {
	text     []string
	thinking []string
	images   []string
	calls    []ollama.ToolCall
	results  []ollama.Message // one tool message per tool_result block
}

// message converts one message. Its tool_result blocks become tool messages first
// (they answer the preceding assistant turn), then the rest becomes one message.
func (c *antOllReq) message(path string, m gjson.Result) error {
	if err := wantObject(m, path); err != nil {
		return err
	}
	role := m.Get("role").String()
	if role != "user" && role != "assistant" && role != "system" {
		return reqErr(jsonPath(path, "role"), "unsupported role %q", role)
	}
	c.t.dropOthers(path, m, "role", "content")
	content := m.Get("content")
	if content.Type == gjson.String {
		c.out.Messages = append(c.out.Messages, ollama.Message{Role: role, Content: content.Str})
		return nil
	}
	var turn antOllTurn
	if err := c.blocks(jsonPath(path, "content"), content, &turn); err != nil {
		return err
	}
	c.out.Messages = append(c.out.Messages, turn.results...)
	if len(turn.results) > 0 && len(turn.text)+len(turn.images)+len(turn.calls)+len(turn.thinking) == 0 {
		return nil
	}
	c.out.Messages = append(c.out.Messages, ollama.Message{
		Role:      role,
		Content:   strings.Join(turn.text, "\n"),
		Thinking:  strings.Join(turn.thinking, "\n"),
		Images:    turn.images,
		ToolCalls: turn.calls,
	})
	return nil
}

// blocks converts an array of content blocks into turn.
func (c *antOllReq) blocks(path string, v gjson.Result, turn *antOllTurn) error {
	if err := wantArray(v, path); err != nil {
		return err
	}
	return eachElem(v, func(j int, b gjson.Result) error {
		p := jsonPath(path, j)
		if err := wantObject(b, p); err != nil {
			return err
		}
		return c.block(p, b, turn)
	})
}

// block converts one content block. Thinking text goes to Ollama's thinking field;
// signatures and redacted_thinking have no Ollama form and are dropped.
func (c *antOllReq) block(path string, b gjson.Result, turn *antOllTurn) error {
	switch typ := b.Get("type").String(); typ {
	case "text":
		s, err := wantString(b.Get("text"), jsonPath(path, "text"))
		turn.text = append(turn.text, s)
		c.t.dropOthers(path, b, "type", "text")
		return err
	case "image":
		img, err := c.image(path, b)
		turn.images = append(turn.images, img)
		return err
	case "tool_use":
		turn.calls = append(turn.calls, c.toolUse(path, b, len(turn.calls)))
		return nil
	case "tool_result":
		res, err := c.toolResult(path, b)
		turn.results = append(turn.results, res)
		return err
	case "thinking":
		turn.thinking = append(turn.thinking, b.Get("thinking").String())
		c.t.dropOthers(path, b, "type", "thinking")
		return nil
	case "redacted_thinking":
		c.t.dropped.add(path)
		return nil
	default: // document, search_result, server tool blocks, …
		return reqErr(jsonPath(path, "type"), "content block type %q is not supported by ollama upstreams", typ)
	}
}

// image returns the bare base64 of an image block; URL sources are rejected.
func (c *antOllReq) image(path string, b gjson.Result) (string, error) {
	c.t.dropOthers(path, b, "type", "source")
	src := b.Get("source")
	switch typ := src.Get("type").String(); typ {
	case "base64":
		return wantString(src.Get("data"), jsonPath(path, "source", "data"))
	case "url":
		return "", reqErr(jsonPath(path, "source", "url"), "image URLs are not supported by ollama upstreams; send base64 data")
	default:
		return "", reqErr(jsonPath(path, "source", "type"), "image source type %q is not supported by ollama upstreams", typ)
	}
}

// toolUse converts an assistant tool_use block; input is already an object.
func (c *antOllReq) toolUse(path string, b gjson.Result, index int) ollama.ToolCall {
	c.t.dropOthers(path, b, "type", "id", "name", "input")
	call := ollama.ToolCall{
		ID:       b.Get("id").String(),
		Function: ollama.ToolCallFunction{Index: index, Name: b.Get("name").String(), Arguments: json.RawMessage("{}")},
	}
	if in := b.Get("input"); in.IsObject() {
		call.Function.Arguments = json.RawMessage(in.Raw)
	}
	c.names[call.ID] = call.Function.Name
	return call
}

// toolResult converts a tool_result block to a tool message. tool_name is looked up
// from the tool_use with the same id. An is_error result is folded into the text
// ("Error: …"), since Ollama has no such flag (docs/protocols.md §7).
func (c *antOllReq) toolResult(path string, b gjson.Result) (ollama.Message, error) {
	c.t.dropOthers(path, b, "type", "tool_use_id", "content", "is_error")
	id := b.Get("tool_use_id").String()
	msg := ollama.Message{Role: "tool", ToolName: c.names[id], ToolCallID: id}
	content := b.Get("content")
	switch {
	case content.Type == gjson.String:
		msg.Content = content.Str
	case content.Exists() && content.Type != gjson.Null:
		var turn antOllTurn
		if err := c.blocks(jsonPath(path, "content"), content, &turn); err != nil {
			return msg, err
		}
		if len(turn.calls)+len(turn.results)+len(turn.thinking) > 0 {
			return msg, reqErr(jsonPath(path, "content"), "must hold only text and image blocks")
		}
		msg.Content, msg.Images = strings.Join(turn.text, "\n"), turn.images
	}
	if b.Get("is_error").Type == gjson.True {
		msg.Content = "Error: " + msg.Content
	}
	return msg, nil
}
