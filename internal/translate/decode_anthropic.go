package translate

// The Anthropic Messages decoder (docs/protocols.md §3.2-3.3): a message body, or the SSE
// events of a stream, into the hub's reply and deltas.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/llmrouter/llmrouter/internal/anthropic"
	"github.com/llmrouter/llmrouter/internal/sse"
	"github.com/llmrouter/llmrouter/internal/wire"
)

// anthropicDecoder holds the usage read so far and the open content block's
// index, type and tool number: constant memory however long the stream.
type anthropicDecoder struct {
	counts    anthropic.Usage
	block     int64  // index of the open content block
	blockType string // its type; "" when no block is open
	tool      int    // tool number of the open tool_use block
	tools     int    // tool_use blocks started so far
	started   bool   // message_start seen
	stopped   bool   // message_stop seen
}

func anthropicShape(format string, args ...any) error {
	return &ShapeError{Protocol: wire.AnthropicMessages, Reason: fmt.Sprintf(format, args...)}
}

// reply reads a message: text blocks joined into the text, thinking blocks into
// the reasoning, tool_use blocks into tool calls. redacted_thinking and
// server-tool blocks have no place in the hub and are left out.
func (d *anthropicDecoder) reply(body []byte) (reply, error) {
	r, err := anthropicObject(body)
	if err != nil {
		return reply{}, err
	}
	if typ := r.Get("type"); typ.Exists() && typ.String() != "message" {
		return reply{}, anthropicShape("type is %s, not message", typ.Raw)
	}
	content := r.Get("content")
	if !content.IsArray() {
		return reply{}, anthropicShape("no content array")
	}
	var out reply
	var text, reasoning strings.Builder
	content.ForEach(func(_, b gjson.Result) bool {
		switch b.Get("type").String() {
		case "text":
			text.WriteString(b.Get("text").String())
			out.hasText = true
		case "thinking":
			reasoning.WriteString(b.Get("thinking").String())
			out.thoughts = append(out.thoughts, thought{text: b.Get("thinking").String(), signature: b.Get("signature").String()})
		case "redacted_thinking":
			out.thoughts = append(out.thoughts, thought{text: b.Get("data").String(), redacted: true})
		case "tool_use":
			out.tools = append(out.tools, toolCall{id: b.Get("id").String(), name: b.Get("name").String(),
				args: inputArguments(b.Get("input"))})
		}
		return true
	})
	d.counts.Merge(r.Get("usage").Raw)
	out.id, out.model = r.Get("id").String(), r.Get("model").String()
	out.text, out.reasoning = text.String(), reasoning.String()
	out.finish = finishOfAnthropic(r.Get("stop_reason").String())
	out.usage, out.cache = d.usage(), true
	return out, nil
}

// anthropicObject checks that data is a JSON object and not an error object: an
// error in a 200 body, or an `event: error`, is a *StreamError.
func anthropicObject(data []byte) (gjson.Result, error) {
	r, err := answerObject(wire.AnthropicMessages, data)
	if err != nil {
		return r, err
	}
	if e := r.Get("error"); e.IsObject() {
		msg := cmpOr(e.Get("message").String(), string(data))
		return r, &StreamError{Type: e.Get("type").String(), Message: msg}
	}
	return r, nil
}

// inputArguments renders an Anthropic tool input object as arguments JSON text
// (compact); anything but an object becomes "{}".
func inputArguments(in gjson.Result) string {
	if !in.IsObject() {
		return "{}"
	}
	var b bytes.Buffer
	if json.Compact(&b, []byte(in.Raw)) != nil {
		return "{}"
	}
	return b.String()
}

// done implements decoder.
func (d *anthropicDecoder) done() bool { return d.stopped }

// usage implements decoder.
func (d *anthropicDecoder) usage() Usage { return newUsage(d.counts.Tokens()) }

// next implements decoder. Event types it does not know (ping, and those added
// after this was written) carry nothing; an event without a type is not one of
// Anthropic's.
func (d *anthropicDecoder) next(ds []delta, ev sse.Event) ([]delta, error) {
	data := bytes.TrimSpace(ev.Data)
	if d.stopped || len(data) == 0 {
		return ds, nil
	}
	r, err := anthropicObject(data)
	if err != nil {
		return ds, err
	}
	typ := cmpOr(r.Get("type").String(), ev.Name)
	switch typ {
	case anthropic.EventMessageStart:
		return d.messageStart(ds, r.Get("message"))
	case anthropic.EventContentBlockStart:
		return d.blockStart(ds, r), nil
	case anthropic.EventContentBlockDelta:
		return d.blockDelta(ds, r), nil
	case anthropic.EventContentBlockStop:
		d.blockType = ""
	case anthropic.EventMessageDelta:
		d.counts.Merge(r.Get("usage").Raw)
		return append(ds, delta{kind: kindFinish, finish: finishOfAnthropic(r.Get("delta.stop_reason").String())}), nil
	case anthropic.EventMessageStop:
		d.stopped = true
		return append(ds, delta{kind: kindDone, usage: d.usage(), cache: true}), nil
	case anthropic.EventError: // without an error object: its data is all there is to say
		return ds, &StreamError{Message: string(data)}
	case "":
		return ds, anthropicShape("event without a type")
	}
	return ds, nil
}

func (d *anthropicDecoder) messageStart(ds []delta, m gjson.Result) ([]delta, error) {
	if !m.IsObject() {
		return ds, anthropicShape("message_start without a message")
	}
	if d.started {
		return ds, nil
	}
	d.started = true
	d.counts.Merge(m.Get("usage").Raw)
	return append(ds, delta{kind: kindStart, id: m.Get("id").String(), model: m.Get("model").String(),
		usage: d.usage(), cache: true}), nil
}

func (d *anthropicDecoder) blockStart(ds []delta, r gjson.Result) []delta {
	cb := r.Get("content_block")
	d.block, d.blockType = r.Get("index").Int(), cb.Get("type").String()
	switch d.blockType {
	case "text":
		return append(ds, delta{kind: kindText, text: cb.Get("text").String()})
	case "thinking":
		return append(ds, delta{kind: kindReasoning, text: cb.Get("thinking").String()})
	case "redacted_thinking":
		return append(ds, delta{kind: kindRedacted, text: cb.Get("data").String()})
	case "tool_use":
		// The start's input is always {}: the arguments come as input_json_delta.
		d.tool = d.tools
		d.tools++
		return append(ds, delta{kind: kindToolCall, tool: d.tool, id: cb.Get("id").String(), name: cb.Get("name").String()})
	}
	return ds // server tools: nothing another protocol can use
}

func (d *anthropicDecoder) blockDelta(ds []delta, r gjson.Result) []delta {
	dl := r.Get("delta")
	switch dl.Get("type").String() {
	case "text_delta":
		return append(ds, delta{kind: kindText, text: dl.Get("text").String()})
	case "thinking_delta":
		return append(ds, delta{kind: kindReasoning, text: dl.Get("thinking").String()})
	case "input_json_delta":
		if d.blockType == "tool_use" && r.Get("index").Int() == d.block {
			return append(ds, delta{kind: kindToolArgs, tool: d.tool, text: dl.Get("partial_json").String()})
		}
	case "signature_delta":
		return append(ds, delta{kind: kindSignature, text: dl.Get("signature").String()})
	}
	return ds // citations_delta
}
