package translate

// OpenAI Chat Completions client, Anthropic Messages upstream (README §1, §3, §7-14).
// This file owns the translator and the request side; openai_anthropic_stream.go the rest.
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

	"github.com/llmrouter/llmrouter/internal/wire"
	"github.com/tidwall/gjson"
)

func init() {
	register(wire.OpenAIChat, wire.AnthropicMessages, func(o Options) Translator {
		return &openAIToAnthropic{opt: o}
	})
}

// defaultAnthropicMaxTokens is max_tokens when neither the client nor Options set it.
const defaultAnthropicMaxTokens = 4096

// openAIToAnthropic serves an OpenAI Chat client from an Anthropic upstream.
type openAIToAnthropic struct {
	opt          Options
	dropped      drops
	includeUsage bool // client's stream_options.include_usage
	dec          anthropicDecoder
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
	t.includeUsage, t.dec.nullUsage = c.includeUsage, c.includeUsage
	return marshal("anthropic request", req)
}

// Anthropic request shapes (README §3.1).
type (
	anthropicRequest struct {
		Model         string               `json:"model"`
		MaxTokens     int64                `json:"max_tokens"`
		System        string               `json:"system,omitempty"`
		Messages      []anthropicMsg       `json:"messages"`
		Metadata      *anthropicMetadata   `json:"metadata,omitempty"`
		StopSequences []string             `json:"stop_sequences,omitempty"`
		Temperature   json.RawMessage      `json:"temperature,omitempty"`
		TopP          json.RawMessage      `json:"top_p,omitempty"`
		Tools         []anthropicTool      `json:"tools,omitempty"`
		ToolChoice    *anthropicToolChoice `json:"tool_choice,omitempty"`
		Stream        bool                 `json:"stream,omitempty"`
	}
	anthropicMsg struct {
		Role    string `json:"role"`
		Content any    `json:"content"` // string or []any of blocks
	}
	anthropicMetadata struct {
		UserID string `json:"user_id"`
	}
	anthropicTool struct {
		Name        string          `json:"name"`
		Description string          `json:"description,omitempty"`
		InputSchema json.RawMessage `json:"input_schema"`
	}
	anthropicToolChoice struct {
		Type                   string `json:"type"`
		Name                   string `json:"name,omitempty"`
		DisableParallelToolUse bool   `json:"disable_parallel_tool_use,omitempty"`
	}
	textBlock struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	imageBlock struct {
		Type   string      `json:"type"`
		Source imageSource `json:"source"`
	}
	imageSource struct {
		Type      string `json:"type"`
		MediaType string `json:"media_type,omitempty"`
		Data      string `json:"data,omitempty"`
		URL       string `json:"url,omitempty"`
	}
	toolUseBlock struct {
		Type  string          `json:"type"`
		ID    string          `json:"id"`
		Name  string          `json:"name"`
		Input json.RawMessage `json:"input"`
	}
	toolResultBlock struct {
		Type      string `json:"type"`
		ToolUseID string `json:"tool_use_id"`
		Content   any    `json:"content"` // string or []textBlock
	}
)

// turn is one Anthropic message being assembled from consecutive same-role OpenAI
// messages. Tool results are kept apart because Anthropic wants them first.
type turn struct {
	role    string
	results []any
	blocks  []any
	plain   bool // a single string-content message: sent as a string
}

// chatConv converts one OpenAI Chat request.
type chatConv struct {
	opt          Options
	drops        *drops
	out          anthropicRequest
	clientModel  string
	maxTokens    [2]int64 // max_completion_tokens, max_tokens; 0 when absent
	system       []string
	turns        []turn
	sawMessages  bool
	choice       gjson.Result
	parallel     *bool
	includeUsage bool
}

func (c *chatConv) convert(body []byte) (*anthropicRequest, error) {
	r, err := parseObject(body)
	if err != nil {
		return nil, err
	}
	if err := eachKey(r, c.field); err != nil {
		return nil, err
	}
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
	c.out.System = strings.Join(c.system, "\n")
	c.out.Messages = make([]anthropicMsg, 0, len(c.turns))
	for _, t := range c.turns {
		c.out.Messages = append(c.out.Messages, t.message())
	}
	c.out.ToolChoice, err = c.toolChoice()
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
		c.out.Metadata = &anthropicMetadata{UserID: s}
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

// push appends blocks to the last turn when it has the same role, else starts a turn.
func (c *chatConv) push(role string, blocks, results []any, plain bool) {
	if n := len(c.turns); n > 0 && c.turns[n-1].role == role {
		t := &c.turns[n-1]
		t.blocks = append(t.blocks, blocks...)
		t.results = append(t.results, results...)
		t.plain = false
		return
	}
	c.turns = append(c.turns, turn{role: role, blocks: blocks, results: results, plain: plain})
}

func (t turn) message() anthropicMsg {
	if t.plain && len(t.blocks) == 1 && len(t.results) == 0 {
		if b, ok := t.blocks[0].(textBlock); ok {
			return anthropicMsg{Role: t.role, Content: b.Text}
		}
	}
	content := make([]any, 0, len(t.results)+len(t.blocks))
	content = append(content, t.results...)
	return anthropicMsg{Role: t.role, Content: append(content, t.blocks...)}
}

// textOnly reads content that may only be text: a string or an array of text parts,
// joined with "\n".
func (c *chatConv) textOnly(path string, v gjson.Result) (string, error) {
	return joinedText(path, v, "text parts", func(path string, p gjson.Result) (*string, error) {
		s, err := c.textPart(path, p)
		return &s, err
	})
}

func (c *chatConv) textPart(path string, p gjson.Result) (string, error) {
	if p.Get("type").String() != "text" {
		return "", reqErr(jsonPath(path, "type"), "only text parts are allowed here")
	}
	c.drops.unknown(path, p, "type", "text")
	return wantString(p.Get("text"), jsonPath(path, "text"))
}

func (c *chatConv) userMessage(path string, m gjson.Result) error {
	c.drops.unknown(path, m, "role", "content")
	cpath := jsonPath(path, "content")
	content := m.Get("content")
	if content.Type == gjson.String {
		c.push("user", []any{textBlock{Type: "text", Text: content.Str}}, nil, true)
		return nil
	}
	if !content.IsArray() {
		return reqErr(cpath, "must be a string or an array of content parts")
	}
	blocks := []any{}
	err := eachElem(content, func(j int, p gjson.Result) error {
		b, err := c.userPart(jsonPath(cpath, j), p)
		blocks = append(blocks, b)
		return err
	})
	c.push("user", blocks, nil, false)
	return err
}

func (c *chatConv) userPart(path string, p gjson.Result) (any, error) {
	switch typ := p.Get("type").String(); typ {
	case "text":
		s, err := c.textPart(path, p)
		return textBlock{Type: "text", Text: s}, err
	case "image_url":
		return c.imagePart(path, p)
	case "input_audio", "file":
		return nil, reqErr(path, "%s content parts cannot be sent to an Anthropic upstream", typ)
	default:
		return nil, reqErr(jsonPath(path, "type"), "unsupported content part type %q", typ)
	}
}

func (c *chatConv) imagePart(path string, p gjson.Result) (any, error) {
	ipath := jsonPath(path, "image_url")
	iu := p.Get("image_url")
	if err := wantObject(iu, ipath); err != nil {
		return nil, err
	}
	c.drops.unknown(path, p, "type", "image_url")
	c.drops.unknown(ipath, iu, "url") // detail: Anthropic has no equivalent
	upath := jsonPath(ipath, "url")
	u, err := wantString(iu.Get("url"), upath)
	if err != nil {
		return nil, err
	}
	lower := strings.ToLower(u)
	switch {
	case strings.HasPrefix(lower, "data:"):
		mt, data, ok := parseDataURL(u)
		if !ok {
			return nil, reqErr(upath, "data URL must be base64 encoded")
		}
		if !anthropicImageTypes[mt] {
			return nil, reqErr(upath, "image type %q is not supported (jpeg, png, gif or webp)", mt)
		}
		return imageBlock{Type: "image", Source: imageSource{Type: "base64", MediaType: mt, Data: data}}, nil
	case strings.HasPrefix(lower, "https://"), strings.HasPrefix(lower, "http://"):
		return imageBlock{Type: "image", Source: imageSource{Type: "url", URL: u}}, nil
	}
	return nil, reqErr(upath, "must be an http(s) URL or a base64 data URL")
}

func (c *chatConv) assistantMessage(path string, m gjson.Result) error {
	c.drops.unknown(path, m, "role", "content", "tool_calls", "refusal", "function_call")
	if m.Get("function_call").IsObject() {
		return reqErr(jsonPath(path, "function_call"), "deprecated function_call is not supported; use tool_calls")
	}
	content := m.Get("content")
	blocks, err := c.assistantText(jsonPath(path, "content"), content)
	if err != nil {
		return err
	}
	if r := m.Get("refusal"); r.Type == gjson.String && r.Str != "" {
		if len(blocks) == 0 {
			blocks = append(blocks, textBlock{Type: "text", Text: r.Str})
		} else {
			c.drops.add(jsonPath(path, "refusal"))
		}
	}
	calls, err := c.toolCalls(jsonPath(path, "tool_calls"), m.Get("tool_calls"))
	if err != nil {
		return err
	}
	if len(blocks)+len(calls) == 0 {
		c.drops.add(path)
		return nil
	}
	plain := content.Type == gjson.String && len(blocks) == 1 && len(calls) == 0
	c.push("assistant", append(blocks, calls...), nil, plain)
	return nil
}

// assistantText reads assistant content: a string, text/refusal parts, or null.
// Empty text is left out.
func (c *chatConv) assistantText(path string, v gjson.Result) ([]any, error) {
	var blocks []any
	add := func(s string) {
		if s != "" {
			blocks = append(blocks, textBlock{Type: "text", Text: s})
		}
	}
	switch {
	case !v.Exists() || v.Type == gjson.Null:
	case v.Type == gjson.String:
		add(v.Str)
	case v.IsArray():
		err := eachElem(v, func(j int, p gjson.Result) error {
			ppath := jsonPath(path, j)
			typ := p.Get("type").String()
			if typ != "text" && typ != "refusal" {
				return reqErr(jsonPath(ppath, "type"), "only text and refusal parts are allowed in assistant messages")
			}
			c.drops.unknown(ppath, p, "type", typ)
			s, err := wantString(p.Get(typ), jsonPath(ppath, typ))
			add(s)
			return err
		})
		return blocks, err
	default:
		return nil, reqErr(path, "must be a string, an array of parts or null")
	}
	return blocks, nil
}

func (c *chatConv) toolCalls(path string, v gjson.Result) ([]any, error) {
	if !v.Exists() || v.Type == gjson.Null {
		return nil, nil
	}
	if err := wantArray(v, path); err != nil {
		return nil, err
	}
	var calls []any
	err := eachElem(v, func(k int, tc gjson.Result) error {
		b, err := c.toolCall(jsonPath(path, k), tc)
		calls = append(calls, b)
		return err
	})
	return calls, err
}

func (c *chatConv) toolCall(path string, tc gjson.Result) (any, error) {
	if err := wantObject(tc, path); err != nil {
		return nil, err
	}
	if typ := tc.Get("type"); typ.Exists() && typ.String() != "function" {
		return nil, reqErr(jsonPath(path, "type"), "only function tool calls can be sent to Anthropic")
	}
	c.drops.unknown(path, tc, "id", "type", "function")
	id, err := wantString(tc.Get("id"), jsonPath(path, "id"))
	if err != nil {
		return nil, err
	}
	fpath := jsonPath(path, "function")
	fn := tc.Get("function")
	if err := wantObject(fn, fpath); err != nil {
		return nil, err
	}
	c.drops.unknown(fpath, fn, "name", "arguments")
	name, err := wantString(fn.Get("name"), jsonPath(fpath, "name"))
	if err != nil {
		return nil, err
	}
	input, err := argumentsObject(fn.Get("arguments"), jsonPath(fpath, "arguments"))
	return toolUseBlock{Type: "tool_use", ID: id, Name: name, Input: input}, err
}

// argumentsObject parses an OpenAI arguments JSON string into an Anthropic input
// object. Empty (or absent) arguments are {}.
func argumentsObject(v gjson.Result, path string) (json.RawMessage, error) {
	if !v.Exists() {
		return json.RawMessage("{}"), nil
	}
	s, err := wantString(v, path)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(s) == "" {
		return json.RawMessage("{}"), nil
	}
	if !json.Valid([]byte(s)) || !gjson.Parse(s).IsObject() {
		return nil, reqErr(path, "must be a JSON object encoded as a string")
	}
	return json.RawMessage(s), nil
}

func (c *chatConv) toolMessage(path string, m gjson.Result) error {
	c.drops.unknown(path, m, "role", "content", "tool_call_id")
	id, err := wantString(m.Get("tool_call_id"), jsonPath(path, "tool_call_id"))
	if err != nil {
		return err
	}
	cpath := jsonPath(path, "content")
	var content any
	switch v := m.Get("content"); {
	case v.Type == gjson.String:
		content = v.Str
	case v.IsArray():
		parts := []textBlock{}
		err = eachElem(v, func(j int, p gjson.Result) error {
			s, err := c.textPart(jsonPath(cpath, j), p)
			parts = append(parts, textBlock{Type: "text", Text: s})
			return err
		})
		content = parts
	default:
		err = reqErr(cpath, "must be a string or an array of text parts")
	}
	res := toolResultBlock{Type: "tool_result", ToolUseID: id, Content: content}
	c.push("user", nil, []any{res}, false)
	return err
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

func functionTool(path string, fn gjson.Result) (anthropicTool, error) {
	var t anthropicTool
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

// toolChoice maps tool_choice and parallel_tool_calls (README §7). Forms with no
// Anthropic equivalent (allowed_tools, custom) are dropped and recorded.
func (c *chatConv) toolChoice() (*anthropicToolChoice, error) {
	var tc *anthropicToolChoice
	v := c.choice
	switch {
	case !v.Exists():
	case v.Type == gjson.String:
		m := map[string]string{"auto": "auto", "required": "any", "none": "none"}
		typ, ok := m[v.Str]
		if !ok {
			return nil, reqErr("tool_choice", "unsupported value %q", v.Str)
		}
		tc = &anthropicToolChoice{Type: typ}
	case v.IsObject() && v.Get("type").String() == "function":
		c.drops.unknown("tool_choice", v, "type", "function")
		name, err := wantString(v.Get("function.name"), "tool_choice.function.name")
		if err != nil {
			return nil, err
		}
		tc = &anthropicToolChoice{Type: "tool", Name: name}
	default:
		c.drops.add("tool_choice")
	}
	if c.parallel != nil && !*c.parallel && len(c.out.Tools) > 0 {
		if tc == nil {
			tc = &anthropicToolChoice{Type: "auto"}
		}
		tc.DisableParallelToolUse = tc.Type != "none"
	}
	return tc, nil
}
