package translate

// Anthropic Messages client → Ollama /api/chat upstream (README §3, §4, §7-14).

import (
	"encoding/json"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/llmrouter/llmrouter/internal/sse"
	"github.com/llmrouter/llmrouter/internal/wire"
)

func init() {
	register(wire.AnthropicMessages, wire.OllamaChat, func(o Options) Translator { return newAnthropicToOllama(o) })
}

// anthropicToOllama translates one Anthropic Messages request to /api/chat and its
// answer back.
type anthropicToOllama struct {
	ollamaBase
	st    ollamaStreamState
	block string // type of the open content block ("thinking", "text"), "" if none
	index int    // index of the next content block
	calls int    // tool_use blocks streamed so far
}

func newAnthropicToOllama(o Options) *anthropicToOllama {
	return &anthropicToOllama{ollamaBase: newOllamaBase(o)}
}

// antOllReq is the state of one request conversion.
type antOllReq struct {
	t       *anthropicToOllama
	out     ollamaChatRequest
	opts    ollamaOptions
	system  []ollamaMessage   // the top-level system prompt, put before all messages
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
	c.out.Messages = []ollamaMessage{}
	if err := eachKey(req, c.field); err != nil {
		return nil, err
	}
	if err := c.thinkValue(); err != nil {
		return nil, err
	}
	msgs := make([]ollamaMessage, 0, len(c.system)+len(c.out.Messages))
	c.out.Messages = append(append(msgs, c.system...), c.out.Messages...)
	c.out.Options = c.opts.orNil()
	if c.noTools {
		c.out.Tools = nil
	}
	return ollamaMarshal(c.out)
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
		err = c.opts.setNumber(key, v, key)
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
			c.system = []ollamaMessage{{Role: "system", Content: v.Str}}
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
	c.system = []ollamaMessage{{Role: "system", Content: strings.Join(turn.text, "\n")}}
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
			if s := f.Get("schema"); f.Get("type").String() == "json_schema" && s.IsObject() {
				c.out.Format = json.RawMessage(s.Raw)
			} else {
				err = reqErr("output_config.format", "must be a json_schema format with a schema")
			}
		default:
			c.t.dropped.add(jsonPath("output_config", k))
		}
		return err
	})
}

// thinkValue sets think: enabled/adaptive → true, or the effort level when one was
// given; disabled → false. Without thinking, think stays unset (a model that cannot
// think answers 400 to any think value) and an effort is dropped.
func (c *antOllReq) thinkValue() error {
	switch {
	case c.think == "disabled":
		c.out.Think = json.RawMessage(`false`)
	case c.think == "" && c.effort != "":
		c.t.dropped.add("output_config.effort")
	case c.think == "":
	case c.effort != "":
		level, ok := ollamaThink(c.effort)
		if !ok || string(level) == "false" {
			return reqErr("output_config.effort", "unsupported effort %q", c.effort)
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
		fn, err := ollamaMarshal(decl)
		c.out.Tools = append(c.out.Tools, ollamaTool{Type: "function", Function: fn})
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
	calls    []ollamaToolCall
	results  []ollamaMessage // one tool message per tool_result block
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
		c.out.Messages = append(c.out.Messages, ollamaMessage{Role: role, Content: content.Str})
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
	c.out.Messages = append(c.out.Messages, ollamaMessage{
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
func (c *antOllReq) toolUse(path string, b gjson.Result, index int) ollamaToolCall {
	c.t.dropOthers(path, b, "type", "id", "name", "input")
	call := ollamaToolCall{
		ID:       b.Get("id").String(),
		Function: ollamaFunctionCall{Index: index, Name: b.Get("name").String(), Arguments: json.RawMessage("{}")},
	}
	if in := b.Get("input"); in.IsObject() {
		call.Function.Arguments = json.RawMessage(in.Raw)
	}
	c.names[call.ID] = call.Function.Name
	return call
}

// toolResult converts a tool_result block to a tool message. tool_name is looked up
// from the tool_use with the same id. An is_error result is folded into the text
// ("Error: …"), since Ollama has no such flag (README §7).
func (c *antOllReq) toolResult(path string, b gjson.Result) (ollamaMessage, error) {
	c.t.dropOthers(path, b, "type", "tool_use_id", "content", "is_error")
	id := b.Get("tool_use_id").String()
	msg := ollamaMessage{Role: "tool", ToolName: c.names[id], ToolCallID: id}
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

// Response converts a non-streaming Ollama /api/chat body to an Anthropic message.
func (t *anthropicToOllama) Response(body []byte) ([]byte, error) {
	l, err := decodeOllamaLine(body)
	if err != nil {
		return nil, err
	}
	var content []antOllBlock
	if l.Message.Thinking != "" {
		content = append(content, antOllThinking(l.Message.Thinking))
	}
	if l.Message.Content != "" {
		content = append(content, antOllText(l.Message.Content))
	}
	for _, tc := range l.Message.ToolCalls {
		content = append(content, t.toolUse(tc, true))
	}
	if content == nil { // clients read content[0]; an empty answer is one empty text block
		content = []antOllBlock{antOllText("")}
	}
	return ollamaMarshal(antOllMessage{
		ID: t.newID("msg_"), Type: "message", Role: "assistant", Model: t.modelOf(l), Content: content,
		StopReason: ollamaAnthropicStop(l.DoneReason, len(l.Message.ToolCalls) > 0),
		Usage:      &antOllUsage{InputTokens: l.PromptEvalCount, OutputTokens: l.EvalCount},
	})
}

// antOllThinking is a thinking block. Ollama's thinking has no signature, so the
// signature is "": a client replaying it to Anthropic itself would be refused.
func antOllThinking(s string) antOllBlock {
	empty := ""
	return antOllBlock{Type: "thinking", Thinking: &s, Signature: &empty}
}

func antOllText(s string) antOllBlock { return antOllBlock{Type: "text", Text: &s} }

// toolUse converts an Ollama tool call to a tool_use block; Ollama's call_… id is
// kept (ids are free strings), a missing one generated. The stream's
// content_block_start carries input {} (withInput false) and the input follows as
// one input_json_delta.
func (t *anthropicToOllama) toolUse(tc ollamaToolCall, withInput bool) antOllBlock {
	b := antOllBlock{Type: "tool_use", ID: tc.ID, Name: tc.Function.Name, Input: json.RawMessage("{}")}
	if b.ID == "" {
		b.ID = t.newID("toolu_")
	}
	if withInput {
		b.Input = ollamaArgs(tc.Function.Arguments)
	}
	return b
}

// Stream converts one Ollama NDJSON line into Anthropic events (README §13.1):
// message_start first; thinking and text deltas in their own blocks; each whole
// tool call as start + one input_json_delta + stop; on the done line the open block
// is closed and message_delta (stop reason, usage) and message_stop follow.
func (t *anthropicToOllama) Stream(dst []byte, ev sse.Event) ([]byte, error) {
	l, skip, err := ollamaNext(&t.st, ev.Data)
	if skip || err != nil {
		return dst, err
	}
	w := ollamaSSE{buf: dst}
	if !t.st.started {
		t.st.start(&t.ollamaBase, l, "msg_")
		w.event("message_start", antOllStart{Type: "message_start", Message: antOllMessage{
			ID: t.st.id, Type: "message", Role: "assistant", Model: t.st.model, Content: []antOllBlock{},
			Usage: &antOllUsage{},
		}})
	}
	if l.Message.Thinking != "" {
		t.delta(&w, "thinking", antOllDelta{Type: "thinking_delta", Thinking: &l.Message.Thinking})
	}
	if l.Message.Content != "" {
		t.delta(&w, "text", antOllDelta{Type: "text_delta", Text: &l.Message.Content})
	}
	for _, tc := range l.Message.ToolCalls {
		t.toolBlock(&w, tc)
	}
	if l.Done {
		t.finish(&w, l)
	}
	return w.result(dst)
}

// delta appends a delta to a block of type kind, opening one (and closing another
// kind) first when needed.
func (t *anthropicToOllama) delta(w *ollamaSSE, kind string, d antOllDelta) {
	if t.block != kind {
		t.closeBlock(w)
		start := antOllText("")
		if kind == "thinking" {
			start = antOllThinking("")
		}
		t.startBlock(w, start)
		t.block = kind
	}
	w.event("content_block_delta", blockDeltaEvent{Type: "content_block_delta", Index: t.index - 1, Delta: d})
}

// toolBlock writes one whole tool_use block.
func (t *anthropicToOllama) toolBlock(w *ollamaSSE, tc ollamaToolCall) {
	t.closeBlock(w)
	t.startBlock(w, t.toolUse(tc, false))
	args := string(ollamaArgs(tc.Function.Arguments))
	w.event("content_block_delta", blockDeltaEvent{
		Type: "content_block_delta", Index: t.index - 1,
		Delta: antOllDelta{Type: "input_json_delta", PartialJSON: &args},
	})
	t.block = "tool_use"
	t.closeBlock(w)
	t.calls++
}

func (t *anthropicToOllama) startBlock(w *ollamaSSE, b antOllBlock) {
	w.event("content_block_start", blockStartEvent{Type: "content_block_start", Index: t.index, ContentBlock: b})
	t.index++
}

// closeBlock ends the open block, if any. A thinking block ends without a
// signature_delta: Ollama has no signature to send.
func (t *anthropicToOllama) closeBlock(w *ollamaSSE) {
	if t.block == "" {
		return
	}
	w.event("content_block_stop", blockStopEvent{Type: "content_block_stop", Index: t.index - 1})
	t.block = ""
}

// finish writes the closing events for the done line.
func (t *anthropicToOllama) finish(w *ollamaSSE, l ollamaLine) {
	t.st.done = true
	t.closeBlock(w)
	w.event("message_delta", antOllMessageDelta{
		Type:  "message_delta",
		Delta: antOllStop{StopReason: ollamaAnthropicStop(l.DoneReason, t.calls > 0)},
		Usage: antOllUsage{InputTokens: l.PromptEvalCount, OutputTokens: l.EvalCount},
	})
	w.event("message_stop", typeOnly{Type: "message_stop"})
}

// End reports a stream that never sent its done line.
func (t *anthropicToOllama) End(dst []byte) ([]byte, error) { return t.st.end(dst) }

// Done implements Translator.
func (t *anthropicToOllama) Done() bool { return t.st.isDone() }

// antOllMessage is an Anthropic message object (README §3.2); in message_start its
// stop_reason is null and content empty.
type antOllMessage struct {
	ID           string        `json:"id"`
	Type         string        `json:"type"`
	Role         string        `json:"role"`
	Model        string        `json:"model"`
	Content      []antOllBlock `json:"content"`
	StopReason   any           `json:"stop_reason"`
	StopSequence *string       `json:"stop_sequence"`
	Usage        *antOllUsage  `json:"usage"`
}

// antOllUsage: Ollama reports no cache counts.
type antOllUsage struct {
	InputTokens  int64 `json:"input_tokens"`
	OutputTokens int64 `json:"output_tokens"`
}

type antOllBlock struct {
	Type      string          `json:"type"`
	Thinking  *string         `json:"thinking,omitempty"`
	Signature *string         `json:"signature,omitempty"`
	Text      *string         `json:"text,omitempty"`
	ID        string          `json:"id,omitempty"`
	Name      string          `json:"name,omitempty"`
	Input     json.RawMessage `json:"input,omitempty"`
}

type antOllStart struct {
	Type    string        `json:"type"`
	Message antOllMessage `json:"message"`
}

type antOllDelta struct {
	Type        string  `json:"type"`
	Text        *string `json:"text,omitempty"`
	Thinking    *string `json:"thinking,omitempty"`
	PartialJSON *string `json:"partial_json,omitempty"`
}

type antOllMessageDelta struct {
	Type  string      `json:"type"`
	Delta antOllStop  `json:"delta"`
	Usage antOllUsage `json:"usage"`
}

type antOllStop struct {
	StopReason   string  `json:"stop_reason"`
	StopSequence *string `json:"stop_sequence"`
}
