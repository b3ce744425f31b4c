package translate

// The Anthropic Messages encoder (docs/protocols.md §3.2-3.3, §13.1): a reply as a message,
// deltas as message_start, content blocks one after the other (Anthropic blocks
// do not interleave), message_delta and message_stop.
//
// Reasoning becomes thinking blocks with an empty signature: the upstream has none
// to give, and a client replaying the block to Anthropic itself will be refused,
// which is better than a forged one (docs/protocols.md §10).

import (
	"encoding/json"

	"github.com/tidwall/gjson"

	"github.com/llmrouter/llmrouter/internal/anthropic"
)

// anthropicEncoder holds the open block and the finish reason until the stream
// ends, and the delta events it writes, reused (made with message_start).
type anthropicEncoder struct {
	started bool
	next    int    // index of the next content block
	open    string // type of the open block: "", "text", "thinking" or "tool_use"
	tool    int    // tool number of the open tool_use block
	finish  finish
	buf     *anthropicDeltaBuf
}

// anthropicDeltaBuf is a content_block_delta event and the deltas it may carry.
type anthropicDeltaBuf struct {
	ev    anthropic.ContentBlockDeltaEvent
	text  anthropic.TextDelta
	think anthropic.ThinkingDelta
	input anthropic.InputJSONDelta
}

// reply implements encoder: thinking, text and refusal blocks, then one tool_use
// block per call. Arguments that are not a JSON object (e.g. cut by length)
// become the input {}. An answer with a text part but no block at all is one
// empty text block, since clients read content[0].
func (e *anthropicEncoder) reply(r *reply, env *env) ([]byte, error) {
	content := make([]any, 0, 3+len(r.tools))
	if r.reasoning != "" {
		content = append(content, anthropic.ThinkingBlock{Type: "thinking", Thinking: r.reasoning})
	}
	for _, s := range []string{r.text, r.refusal} {
		if s != "" {
			content = append(content, anthropic.TextBlock{Type: "text", Text: s})
		}
	}
	for _, tc := range r.tools {
		content = append(content, anthropic.ToolUseBlock{Type: "tool_use", ID: env.id(tc.id, "toolu_"),
			Name: tc.name, Input: argumentsInput(tc.args)})
	}
	if len(content) == 0 && r.hasText {
		content = append(content, anthropic.TextBlock{Type: "text"})
	}
	stop := r.finish.anthropic()
	return marshal("anthropic message", anthropic.Message{
		ID: env.answerID(r.id, "msg_"), Type: "message", Role: "assistant", Model: r.model, Content: content,
		StopReason: &stop, Usage: anthropicUsage(r.usage, r.cache),
	})
}

// argumentsInput parses an upstream's arguments text; anything but a JSON object
// becomes {}.
func argumentsInput(s string) json.RawMessage {
	if !json.Valid([]byte(s)) || !gjson.Parse(s).IsObject() {
		return json.RawMessage("{}")
	}
	return json.RawMessage(s)
}

// write implements encoder. message_start comes first whatever the first delta
// is; text and refusal fragments share text blocks; a tool call opens its own
// block, whose later fragments are kept only while it is open (a fragment of an
// earlier, closed call cannot be expressed).
func (e *anthropicEncoder) write(o *out, d *delta) {
	if !e.started {
		start := delta{kind: kindStart, cache: d.cache}
		if d.kind == kindStart {
			start = *d
		}
		e.start(o, &start)
	}
	switch d.kind {
	case kindText, kindRefusal:
		e.fragment(o, "text", d.text)
	case kindReasoning:
		e.fragment(o, "thinking", d.text)
	case kindToolCall:
		e.openBlock(o, "tool_use", anthropic.ToolUseBlock{Type: "tool_use", ID: o.env.id(d.id, "toolu_"),
			Name: d.name, Input: json.RawMessage("{}")})
		e.tool = d.tool
		e.arguments(o, d.text)
	case kindToolArgs:
		if e.open == "tool_use" && e.tool == d.tool {
			e.arguments(o, d.text)
		}
	case kindFinish:
		e.fragment(o, "text", d.text)
		e.finish = d.finish
	case kindDone:
		e.closeBlock(o)
		o.event(anthropic.EventMessageDelta, anthropic.MessageDeltaEvent{Type: anthropic.EventMessageDelta,
			Delta: anthropic.MessageDelta{StopReason: e.finish.anthropic()}, Usage: anthropicUsage(d.usage, d.cache)})
		o.event(anthropic.EventMessageStop, anthropic.MessageStopEvent{Type: anthropic.EventMessageStop})
	}
}

// start sends message_start; its usage is what the upstream reported so far
// (OpenAI and Ollama report input tokens only at the end: 0 until message_delta).
func (e *anthropicEncoder) start(o *out, d *delta) {
	e.started, e.buf = true, new(anthropicDeltaBuf)
	o.event(anthropic.EventMessageStart, anthropic.MessageStartEvent{Type: anthropic.EventMessageStart,
		Message: anthropic.Message{ID: o.env.answerID(d.id, "msg_"), Type: "message", Role: "assistant", Model: d.model,
			Content: []any{}, Usage: anthropicUsage(d.usage, d.cache)}})
}

// fragment appends a non-empty text or thinking fragment to a block of that
// type, opening one first (and closing any other) when needed.
func (e *anthropicEncoder) fragment(o *out, typ, text string) {
	if text == "" {
		return
	}
	var dl any
	switch typ {
	case "thinking":
		if e.open != typ {
			e.openBlock(o, typ, anthropic.ThinkingBlock{Type: "thinking"})
		}
		e.buf.think = anthropic.ThinkingDelta{Type: "thinking_delta", Thinking: text}
		dl = &e.buf.think
	default:
		if e.open != typ {
			e.openBlock(o, typ, anthropic.TextBlock{Type: "text"})
		}
		e.buf.text = anthropic.TextDelta{Type: "text_delta", Text: text}
		dl = &e.buf.text
	}
	e.blockDelta(o, dl)
}

// arguments appends a non-empty fragment of the open tool_use block's input.
func (e *anthropicEncoder) arguments(o *out, s string) {
	if s != "" {
		e.buf.input = anthropic.InputJSONDelta{Type: "input_json_delta", PartialJSON: s}
		e.blockDelta(o, &e.buf.input)
	}
}

// blockDelta appends a content_block_delta event of the open block.
func (e *anthropicEncoder) blockDelta(o *out, dl any) {
	e.buf.ev = anthropic.ContentBlockDeltaEvent{Type: anthropic.EventContentBlockDelta, Index: e.next - 1, Delta: dl}
	o.event(anthropic.EventContentBlockDelta, &e.buf.ev)
}

func (e *anthropicEncoder) openBlock(o *out, typ string, block any) {
	e.closeBlock(o)
	e.open = typ
	o.event(anthropic.EventContentBlockStart, anthropic.ContentBlockStartEvent{
		Type: anthropic.EventContentBlockStart, Index: e.next, ContentBlock: block})
	e.next++
}

// closeBlock ends the open block, if any. A thinking block ends without a
// signature_delta: there is no signature to send.
func (e *anthropicEncoder) closeBlock(o *out) {
	if e.open == "" {
		return
	}
	e.open = ""
	o.event(anthropic.EventContentBlockStop, anthropic.ContentBlockStopEvent{Type: anthropic.EventContentBlockStop, Index: e.next - 1})
}

// anthropicUsage renders u as Anthropic's usage, whose input_tokens excludes the
// cache counts (never below zero). cache adds the cache counts, which an upstream
// that reports none (Ollama) leaves out rather than claiming zero.
func anthropicUsage(u Usage, cache bool) anthropic.Usage {
	a := anthropic.Usage{InputTokens: max(0, u.Input-u.CacheRead-u.CacheWrite), OutputTokens: u.Output}
	if cache {
		a.CacheCreationInputTokens, a.CacheReadInputTokens = &u.CacheWrite, &u.CacheRead
	}
	return a
}
