package translate

// OpenAI Chat Completions client, Anthropic Messages upstream (docs/protocols.md §1, §3, §7-14):
// the translator and the request conversion (the messages in
// openai_anthropic_messages.go, thinking and output format in
// openai_anthropic_output.go); its answers go through the hub
// (decode_anthropic.go, encode_openai.go).
//
// Request decisions where the digest is silent:
//   - model is Options.Model, or the client's model when Options.Model is empty.
//   - max_tokens is max_completion_tokens, else max_tokens, else Options.MaxTokens,
//     else 4096 (Anthropic requires it).
//   - temperature is passed unchanged: OpenAI allows 0-2, Anthropic 0-1, and a value
//     above 1 is Anthropic's to reject; clamping would silently change sampling.
//   - Text parts of one message, and several system/developer messages, are joined
//     with "\n" (Anthropic's own OpenAI layer joins system messages so [ACOMPAT]).
//   - An assistant message whose content is empty and has no tool calls carries
//     nothing; it is not sent and its path is recorded as dropped. Empty text is
//     never sent next to tool calls (Anthropic rejects empty text blocks).
//   - tool_calls arguments "" (some clients send it for argument-less calls) is {}.
//   - Deprecated function calling: top-level functions/function_call are dropped and
//     recorded like any unknown field; a "function" message or an assistant
//     function_call is a RequestError (no id to pair a result with its call).
//   - Every non-null client field that is not sent is recorded in Dropped, even when
//     its value is the default (e.g. tools[0].function.strict=false); n=1,
//     stream_options and parallel_tool_calls=true are consumed, not dropped.

import (
	"encoding/json"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/llmrouter/llmrouter/internal/anthropic"
	"github.com/llmrouter/llmrouter/internal/wire"
)

func init() {
	register(wire.OpenAIChat, wire.AnthropicMessages, func(o Options) Translator {
		t := &openAIToAnthropic{opt: o}
		t.init(&t.dec, &t.enc)
		return t
	})
}

// defaultAnthropicMaxTokens is max_tokens when neither the client nor Options set it.
const defaultAnthropicMaxTokens = 4096

// openAIToAnthropic serves an OpenAI Chat client from an Anthropic upstream.
type openAIToAnthropic struct {
	answer
	opt     Options
	dropped drops
	dec     anthropicDecoder
	enc     chatEncoder
}

// Dropped implements Translator.
func (t *openAIToAnthropic) Dropped() []string { return t.dropped }

// Request implements Translator.
func (t *openAIToAnthropic) Request(body []byte) ([]byte, error) {
	t.dropped = nil
	c := chatConv{opt: t.opt, drops: &t.dropped}
	req, err := c.convert(body)
	if err != nil {
		return nil, err
	}
	t.enc.includeUsage = c.includeUsage
	return marshal("anthropic request", req)
}

// chatConv converts one OpenAI Chat request.
type chatConv struct {
	opt          Options
	drops        *drops
	out          anthropic.Request
	clientModel  string
	maxTokens    [2]int64 // max_completion_tokens, max_tokens; 0 when absent
	system       []string
	turns        []turn
	sawMessages  bool
	choice       gjson.Result
	parallel     *bool
	includeUsage bool
	effort       string                  // reasoning_effort
	format       *anthropic.OutputFormat // response_format's schema
}

func (c *chatConv) convert(body []byte) (*anthropic.Request, error) {
	r, err := parseObject(body)
	if err != nil {
		return nil, err
	}
	if err := eachKey(r, c.field); err != nil {
		return nil, err
	}
	return c.finish()
}

// finish assembles the request from the fields read.
func (c *chatConv) finish() (*anthropic.Request, error) {
	if !c.sawMessages {
		return nil, reqErr("messages", "is required")
	}
	c.out.Model = cmpOr(c.opt.Model, c.clientModel)
	c.out.MaxTokens = defaultAnthropicMaxTokens
	for _, n := range []int64{int64(c.opt.MaxTokens), c.maxTokens[1], c.maxTokens[0]} {
		if n > 0 {
			c.out.MaxTokens = n
		}
	}
	clientLimit := c.maxTokens[0] > 0 || c.maxTokens[1] > 0
	c.out.System = strings.Join(c.system, "\n")
	c.out.Messages = make([]anthropic.MessageParam, 0, len(c.turns))
	for _, t := range c.turns {
		c.out.Messages = append(c.out.Messages, t.message())
	}
	var err error
	c.out.ToolChoice, err = c.toolChoice()
	c.thinking(clientLimit)
	return &c.out, err
}

// field handles one top-level member of the request.
func (c *chatConv) field(key string, v gjson.Result) error {
	var err error
	switch key {
	case "model":
		c.clientModel, err = wantString(v, key)
	case "messages":
		c.sawMessages = true
		err = c.messages(v)
	case "max_completion_tokens":
		c.maxTokens[0], err = wantPositive(v, key)
	case "max_tokens":
		c.maxTokens[1], err = wantPositive(v, key)
	case "temperature":
		c.out.Temperature, err = wantNumber(v, key)
	case "top_p":
		c.out.TopP, err = wantNumber(v, key)
	case "stop":
		c.out.StopSequences, err = stringList(v, key)
	case "stream":
		c.out.Stream, err = wantBool(v, key)
	case "stream_options":
		err = wantObject(v, key)
		c.includeUsage = v.Get("include_usage").Bool()
	case "tools":
		err = c.tools(v)
	case "tool_choice":
		c.choice = v
	case "parallel_tool_calls":
		var b bool
		b, err = wantBool(v, key)
		c.parallel = &b
	case "user":
		err = c.user(v)
	case "reasoning_effort":
		err = c.reasoningEffort(v)
	case "response_format":
		err = c.responseFormat(v)
	case "n":
		var n int64
		if n, err = wantInt(v, key); err == nil && n != 1 {
			err = reqErr(key, "n must be 1: an Anthropic upstream returns one choice")
		}
	default:
		c.drops.add(jsonPath("", key))
	}
	return err
}

func (c *chatConv) user(v gjson.Result) error {
	s, err := wantString(v, "user")
	if s != "" {
		c.out.Metadata = &anthropic.Metadata{UserID: s}
	}
	return err
}

func (c *chatConv) messages(v gjson.Result) error {
	if err := wantArray(v, "messages"); err != nil {
		return err
	}
	return eachElem(v, c.message)
}

func (c *chatConv) message(i int, m gjson.Result) error {
	path := jsonPath("messages", i)
	if err := wantObject(m, path); err != nil {
		return err
	}
	switch role := m.Get("role").String(); role {
	case "system", "developer":
		c.drops.unknown(path, m, "role", "content")
		s, err := c.textOnly(jsonPath(path, "content"), m.Get("content"))
		c.system = append(c.system, s)
		return err
	case "user":
		return c.userMessage(path, m)
	case "assistant":
		return c.assistantMessage(path, m)
	case "tool":
		return c.toolMessage(path, m)
	case "function":
		return reqErr(jsonPath(path, "role"), "deprecated function messages are not supported; use tool messages")
	default:
		return reqErr(jsonPath(path, "role"), "unsupported role %q", role)
	}
}

func (c *chatConv) tools(v gjson.Result) error {
	if err := wantArray(v, "tools"); err != nil {
		return err
	}
	return eachElem(v, func(i int, tool gjson.Result) error {
		path := jsonPath("tools", i)
		if err := wantObject(tool, path); err != nil {
			return err
		}
		if tool.Get("type").String() != "function" {
			return reqErr(jsonPath(path, "type"), "only function tools can be sent to Anthropic")
		}
		c.drops.unknown(path, tool, "type", "function")
		fpath := jsonPath(path, "function")
		fn := tool.Get("function")
		if err := wantObject(fn, fpath); err != nil {
			return err
		}
		c.drops.unknown(fpath, fn, "name", "description", "parameters") // strict
		t, err := functionTool(fpath, fn)
		c.out.Tools = append(c.out.Tools, t)
		return err
	})
}

func functionTool(path string, fn gjson.Result) (anthropic.Tool, error) {
	var t anthropic.Tool
	var err error
	if t.Name, err = wantString(fn.Get("name"), jsonPath(path, "name")); err != nil {
		return t, err
	}
	if d := fn.Get("description"); d.Exists() && d.Type != gjson.Null {
		if t.Description, err = wantString(d, jsonPath(path, "description")); err != nil {
			return t, err
		}
	}
	t.InputSchema = json.RawMessage(`{"type":"object"}`)
	if p := fn.Get("parameters"); p.Exists() && p.Type != gjson.Null {
		if err = wantObject(p, jsonPath(path, "parameters")); err != nil {
			return t, err
		}
		t.InputSchema = json.RawMessage(p.Raw)
	}
	return t, nil
}

// toolChoice maps tool_choice and parallel_tool_calls (docs/protocols.md §7). Forms with no
// Anthropic equivalent (allowed_tools, custom) are dropped and recorded.
func (c *chatConv) toolChoice() (*anthropic.ToolChoice, error) {
	var tc *anthropic.ToolChoice
	v := c.choice
	switch {
	case !v.Exists():
	case v.Type == gjson.String:
		m := map[string]string{"auto": "auto", "required": "any", "none": "none"}
		typ, ok := m[v.Str]
		if !ok {
			return nil, reqErr("tool_choice", "unsupported value %q", v.Str)
		}
		tc = &anthropic.ToolChoice{Type: typ}
	case v.IsObject() && v.Get("type").String() == "function":
		c.drops.unknown("tool_choice", v, "type", "function")
		name, err := wantString(v.Get("function.name"), "tool_choice.function.name")
		if err != nil {
			return nil, err
		}
		tc = &anthropic.ToolChoice{Type: "tool", Name: name}
	default:
		c.drops.add("tool_choice")
	}
	if c.parallel != nil && !*c.parallel && len(c.out.Tools) > 0 {
		if tc == nil {
			tc = &anthropic.ToolChoice{Type: "auto"}
		}
		tc.DisableParallelToolUse = tc.Type != "none"
	}
	return tc, nil
}
