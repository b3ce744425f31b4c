package translate

// Anthropic Messages client, OpenAI Chat Completions upstream: the response side.
// Response and the Stream/End encoder that turns OpenAI chunks into Anthropic
// events; the request side is in anthropic_openai.go.

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/llmrouter/llmrouter/internal/sse"
	"github.com/tidwall/gjson"
)

// Anthropic response and event shapes (README §3.2-3.3).
type (
	anthropicResponse struct {
		ID           string         `json:"id"`
		Type         string         `json:"type"`
		Role         string         `json:"role"`
		Model        string         `json:"model"`
		Content      []any          `json:"content"`
		StopReason   *string        `json:"stop_reason"`
		StopSequence *string        `json:"stop_sequence"`
		Usage        anthropicUsage `json:"usage"`
	}
	messageStartEvent struct {
		Type    string            `json:"type"`
		Message anthropicResponse `json:"message"`
	}
	blockStartEvent struct {
		Type         string `json:"type"`
		Index        int    `json:"index"`
		ContentBlock any    `json:"content_block"`
	}
	blockDeltaEvent struct {
		Type  string `json:"type"`
		Index int    `json:"index"`
		Delta any    `json:"delta"`
	}
	blockStopEvent struct {
		Type  string `json:"type"`
		Index int    `json:"index"`
	}
	textDelta struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	inputJSONDelta struct {
		Type        string `json:"type"`
		PartialJSON string `json:"partial_json"`
	}
	messageDeltaEvent struct {
		Type  string `json:"type"`
		Delta struct {
			StopReason   string  `json:"stop_reason"`
			StopSequence *string `json:"stop_sequence"`
		} `json:"delta"`
		Usage anthropicUsage `json:"usage"`
	}
	typeOnly struct {
		Type string `json:"type"`
	}
)

// Response implements Translator: the first choice becomes content blocks, a text
// block (content or refusal) first, then one tool_use block per call. Arguments that
// are not a JSON object (e.g. cut by length) become the input {}. reasoning_content,
// which some OpenAI-compatible servers add, is not turned into a thinking block: it
// has no signature for the client to send back.
func (t *anthropicToOpenAI) Response(body []byte) ([]byte, error) {
	if !json.Valid(body) {
		return nil, fmt.Errorf("decoding openai response: invalid JSON")
	}
	r := gjson.ParseBytes(body)
	ch := r.Get("choices.0")
	msg := ch.Get("message")
	content := []any{}
	for _, key := range []string{"content", "refusal"} {
		if s := msg.Get(key); s.Type == gjson.String && s.Str != "" {
			content = append(content, textBlock{Type: "text", Text: s.Str})
		}
	}
	msg.Get("tool_calls").ForEach(func(_, tc gjson.Result) bool {
		content = append(content, toolUseBlock{
			Type: "tool_use", ID: cmpOr(tc.Get("id").String(), newID("toolu_")),
			Name: tc.Get("function.name").String(), Input: argumentsInput(tc.Get("function.arguments").String()),
		})
		return true
	})
	stop := openAIToAnthropicStop(ch.Get("finish_reason").String())
	return marshal("anthropic message", anthropicResponse{
		ID: cmpOr(r.Get("id").String(), newID("msg_")), Type: "message", Role: "assistant",
		Model: r.Get("model").String(), Content: content, StopReason: &stop,
		Usage: readOpenAIUsage(r.Get("usage")),
	})
}

// argumentsInput parses an upstream's arguments string; anything but a JSON object
// becomes {}.
func argumentsInput(s string) json.RawMessage {
	if !json.Valid([]byte(s)) || !gjson.Parse(s).IsObject() {
		return json.RawMessage("{}")
	}
	return json.RawMessage(s)
}

// Stream implements Translator: OpenAI chunks in, Anthropic events out (README
// §13.1, "OpenAI upstream → Anthropic client"). content and refusal deltas feed a
// text block; reasoning_content deltas are ignored, as in Response; logprobs and
// obfuscation have no Anthropic field.
func (t *anthropicToOpenAI) Stream(dst []byte, ev sse.Event) ([]byte, error) {
	return t.enc.chunk(dst, ev.Data)
}

// Done implements Translator.
func (t *anthropicToOpenAI) Done() bool { return t.enc.done }

// End implements Translator: an OpenAI stream is complete only after [DONE], even
// when a finish_reason came.
func (t *anthropicToOpenAI) End(dst []byte) ([]byte, error) {
	if !t.enc.done {
		return dst, ErrTruncated
	}
	return dst, nil
}

// anthropicEncoder writes Anthropic events for an OpenAI chunk stream. It holds the
// message id and model, the open block, the finish reason and the last usage seen:
// constant memory however long the stream.
type anthropicEncoder struct {
	started, done bool
	id, model     string
	next          int    // index of the next content block
	open          string // type of the open block: "", "text" or "tool_use"
	tool          int    // OpenAI tool_calls index of the open tool_use block
	tools         int    // OpenAI tool indexes below this one have been opened
	finish        string
	usage         anthropicUsage
	w             eventWriter
}

// maxToolIndex bounds the tool_calls index accepted from an upstream.
const maxToolIndex = 1 << 16

func (e *anthropicEncoder) chunk(dst []byte, data []byte) ([]byte, error) {
	data = bytes.TrimSpace(data)
	if e.done || len(data) == 0 {
		return dst, nil
	}
	e.w = eventWriter{dst: dst}
	if string(data) == "[DONE]" {
		e.end()
		return e.w.dst, e.w.err
	}
	if !json.Valid(data) {
		return dst, fmt.Errorf("openai stream: chunk is not valid JSON")
	}
	r := gjson.ParseBytes(data)
	if er := r.Get("error"); er.Exists() && er.Type != gjson.Null {
		return dst, &StreamError{Type: er.Get("type").String(), Message: cmpOr(er.Get("message").String(), er.Raw)}
	}
	e.start(r)
	if u := r.Get("usage"); u.IsObject() {
		e.usage = readOpenAIUsage(u) // a real stream sends one usage chunk; the last wins
	}
	ch := r.Get("choices.0")
	delta := ch.Get("delta")
	e.text(delta.Get("content"))
	e.text(delta.Get("refusal"))
	delta.Get("tool_calls").ForEach(func(_, tc gjson.Result) bool {
		e.toolCall(tc)
		return true
	})
	if f := ch.Get("finish_reason"); f.Type == gjson.String {
		e.finish = f.Str
	}
	return e.w.dst, e.w.err
}

// start sends message_start once, with the first chunk's id and model. OpenAI
// reports input tokens only at the end, so its usage is 0 until message_delta.
func (e *anthropicEncoder) start(r gjson.Result) {
	if e.started {
		return
	}
	e.started = true
	e.id, e.model = cmpOr(r.Get("id").String(), newID("msg_")), r.Get("model").String()
	e.w.event("message_start", messageStartEvent{Type: "message_start", Message: anthropicResponse{
		ID: e.id, Type: "message", Role: "assistant", Model: e.model, Content: []any{},
	}})
}

func (e *anthropicEncoder) text(v gjson.Result) {
	if v.Type != gjson.String || v.Str == "" {
		return
	}
	if e.open != "text" {
		e.openBlock("text", textBlock{Type: "text"})
	}
	e.w.event("content_block_delta", blockDeltaEvent{Type: "content_block_delta", Index: e.next - 1,
		Delta: textDelta{Type: "text_delta", Text: v.Str}})
}

// toolCall opens a tool_use block for a tool index not seen before and streams the
// argument fragments of the open one. Fragments of an earlier, already closed call
// cannot be expressed (Anthropic blocks are sequential) and are ignored.
func (e *anthropicEncoder) toolCall(tc gjson.Result) {
	idx := int(tc.Get("index").Int())
	switch {
	case idx < 0 || idx > maxToolIndex:
		return
	case idx >= e.tools:
		e.tools, e.tool = idx+1, idx
		e.openBlock("tool_use", toolUseBlock{Type: "tool_use", ID: cmpOr(tc.Get("id").String(), newID("toolu_")),
			Name: tc.Get("function.name").String(), Input: json.RawMessage("{}")})
	case e.open != "tool_use" || idx != e.tool:
		return
	}
	if a := tc.Get("function.arguments").String(); a != "" {
		e.w.event("content_block_delta", blockDeltaEvent{Type: "content_block_delta", Index: e.next - 1,
			Delta: inputJSONDelta{Type: "input_json_delta", PartialJSON: a}})
	}
}

func (e *anthropicEncoder) openBlock(typ string, block any) {
	e.closeBlock()
	e.open = typ
	e.w.event("content_block_start", blockStartEvent{Type: "content_block_start", Index: e.next, ContentBlock: block})
	e.next++
}

func (e *anthropicEncoder) closeBlock() {
	if e.open == "" {
		return
	}
	e.open = ""
	e.w.event("content_block_stop", blockStopEvent{Type: "content_block_stop", Index: e.next - 1})
}

// end answers [DONE]: close the open block, then message_delta with the stop reason
// and the usage, then message_stop.
func (e *anthropicEncoder) end() {
	e.start(gjson.Result{})
	e.closeBlock()
	ev := messageDeltaEvent{Type: "message_delta", Usage: e.usage}
	ev.Delta.StopReason = openAIToAnthropicStop(e.finish)
	e.w.event("message_delta", ev)
	e.w.event("message_stop", typeOnly{Type: "message_stop"})
	e.done = true
}

// eventWriter appends named SSE events with JSON data; the first encoding error
// sticks and stops further writes.
type eventWriter struct {
	dst []byte
	err error
}

func (w *eventWriter) event(name string, v any) {
	if w.err != nil {
		return
	}
	b, err := marshal(name+" event", v)
	if err != nil {
		w.err = err
		return
	}
	w.dst = sse.AppendEvent(w.dst, name, b)
}
