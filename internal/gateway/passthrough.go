package gateway

import (
	"bytes"
	"cmp"

	"github.com/llmrouter/llmrouter/internal/anthropic"
	"github.com/llmrouter/llmrouter/internal/ollama"
	"github.com/llmrouter/llmrouter/internal/openai"
	"github.com/llmrouter/llmrouter/internal/sse"
	"github.com/llmrouter/llmrouter/internal/translate"
	"github.com/llmrouter/llmrouter/internal/wire"
	"github.com/tidwall/gjson"
)

// passthrough relays a same-protocol stream byte for byte, watching only for the
// terminal event (so a truncated stream is reported) and in-band errors (so the
// commit point and the error path work as for translated streams).
type passthrough struct {
	up   wire.Protocol
	done bool
}

var doneData = []byte("[DONE]")

func (p *passthrough) Stream(dst []byte, ev sse.Event) ([]byte, error) {
	if err := inBandError(p.up, ev); err != nil {
		return dst, err
	}
	switch p.up {
	case wire.AnthropicMessages:
		p.done = p.done || eventName(ev) == "message_stop"
	case wire.OllamaChat, wire.OllamaGenerate:
		p.done = p.done || gjson.GetBytes(ev.Data, "done").Bool()
	default:
		p.done = p.done || bytes.Equal(ev.Data, doneData)
	}
	return append(dst, ev.Raw...), nil
}

// inBandError returns the upstream's in-band error event as a
// *translate.StreamError, else nil. It reads only the raw event, so the relay can
// recognise a failed attempt before any converter has seen it.
func inBandError(up wire.Protocol, ev sse.Event) error {
	switch up {
	case wire.AnthropicMessages:
		if eventName(ev) == "error" {
			typ, msg, _ := anthropic.ParseError(ev.Data)
			return &translate.StreamError{Type: typ, Message: cmp.Or(msg, string(ev.Data))}
		}
	case wire.OllamaChat, wire.OllamaGenerate:
		if msg, ok := ollama.ParseError(ev.Data); ok {
			return &translate.StreamError{Message: msg}
		}
	default:
		// "error": null is not an error (the translators agree).
		if e := gjson.GetBytes(ev.Data, "error"); e.Exists() && e.Type != gjson.Null {
			typ, msg, _ := openai.ParseError(ev.Data)
			return &translate.StreamError{Type: typ, Message: cmp.Or(msg, e.Raw)}
		}
	}
	return nil
}

// eventName is an Anthropic event's name, or its data.type when the `event:`
// line is missing.
func eventName(ev sse.Event) string {
	if ev.Name != "" {
		return ev.Name
	}
	return gjson.GetBytes(ev.Data, "type").String()
}

// Done reports whether the terminal event has been relayed.
func (p *passthrough) Done() bool { return p.done }

func (p *passthrough) End(dst []byte) ([]byte, error) {
	if !p.done {
		return dst, translate.ErrTruncated
	}
	return dst, nil
}

// isContent reports whether an upstream event is past the commit point: real
// output (text, tool calls, a finish) rather than role-only deltas,
// message_start or pings.
func isContent(up wire.Protocol, ev sse.Event) bool {
	switch up {
	case wire.AnthropicMessages:
		switch eventName(ev) {
		case "content_block_delta", "content_block_stop", "message_delta", "message_stop":
			return true
		case "content_block_start":
			t := gjson.GetBytes(ev.Data, "content_block.type").String()
			return t != "text" && t != "thinking"
		}
		return false
	case wire.OllamaChat, wire.OllamaGenerate:
		r := gjson.GetManyBytes(ev.Data, "message.content", "message.thinking", "message.tool_calls", "response", "thinking", "done")
		return r[0].String() != "" || r[1].String() != "" || r[2].Exists() || r[3].String() != "" || r[4].String() != "" || r[5].Bool()
	default:
		return openAIContent(ev.Data)
	}
}

func openAIContent(data []byte) bool {
	if bytes.Equal(data, doneData) {
		return true
	}
	choices := gjson.GetBytes(data, "choices")
	if len(choices.Array()) == 0 {
		return gjson.GetBytes(data, "usage").IsObject()
	}
	content := false
	choices.ForEach(func(_, c gjson.Result) bool {
		r := gjson.GetMany(c.Raw, "delta.content", "delta.tool_calls", "delta.refusal", "delta.reasoning_content", "finish_reason", "text")
		content = r[0].String() != "" || r[1].Exists() || r[2].String() != "" || r[3].String() != "" ||
			(r[4].Exists() && r[4].Type != gjson.Null) || r[5].String() != ""
		return !content
	})
	return content
}
