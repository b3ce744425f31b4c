package translate

// The OpenAI Chat Completions decoder (docs/protocols.md §1.2-1.3): a chat.completion body,
// or the chunks of a stream, into the hub's reply and deltas.
//
// OpenAI itself returns no reasoning text in Chat Completions (docs/protocols.md §1.1), but
// OpenAI-compatible servers do, on messages and deltas, under one of two names:
// reasoning_content (vLLM, DeepSeek) or reasoning (Ollama, OpenRouter, newer
// vLLM). Both are decoded as reasoning (issue 9 item 3), which an Anthropic client
// gets as thinking blocks with an empty signature, as from Ollama's native API.

import (
	"bytes"
	"fmt"

	"github.com/tidwall/gjson"

	"github.com/llmrouter/llmrouter/internal/openai"
	"github.com/llmrouter/llmrouter/internal/sse"
	"github.com/llmrouter/llmrouter/internal/wire"
)

// maxToolIndex bounds the tool_calls index accepted from an upstream.
const maxToolIndex = 1 << 16

// openAIDecoder holds the usage chunk's counts and how many tool_calls indexes
// have started.
type openAIDecoder struct {
	counts  openai.Usage
	tools   int // tool_calls indexes below this one have started
	started bool
	stopped bool // [DONE] seen
}

func openAIShape(format string, args ...any) error {
	return &ShapeError{Protocol: wire.OpenAIChat, Reason: fmt.Sprintf(format, args...)}
}

// openAIObject checks that data is a JSON object and not an error object:
// {"error":{…}} is a *StreamError ("error": null is not an error).
func openAIObject(data []byte) (gjson.Result, error) {
	r, err := answerObject(wire.OpenAIChat, data)
	if err != nil {
		return r, err
	}
	if e := r.Get("error"); e.Exists() && e.Type != gjson.Null {
		return r, &StreamError{Type: e.Get("type").String(), Message: cmpOr(e.Get("message").String(), e.Raw)}
	}
	return r, nil
}

// reply reads the first choice: content and refusal, when non-empty, and the tool
// calls, whose arguments stay the upstream's text.
func (d *openAIDecoder) reply(body []byte) (reply, error) {
	r, err := openAIObject(body)
	if err != nil {
		return reply{}, err
	}
	choices := r.Get("choices")
	if !choices.IsArray() {
		return reply{}, openAIShape("no choices array")
	}
	ch := choices.Get("0")
	msg := ch.Get("message")
	out := reply{id: r.Get("id").String(), model: r.Get("model").String(), created: r.Get("created").Int(),
		finish: finishOfOpenAI(ch.Get("finish_reason").String()), cache: true}
	if s := msg.Get("content"); s.Type == gjson.String && s.Str != "" {
		out.text, out.hasText = s.Str, true
	}
	if s := msg.Get("refusal"); s.Type == gjson.String {
		out.refusal = s.Str
	}
	out.reasoning = openAIReasoning(msg)
	msg.Get("tool_calls").ForEach(func(_, tc gjson.Result) bool {
		out.tools = append(out.tools, toolCall{id: tc.Get("id").String(), name: tc.Get("function.name").String(),
			args: tc.Get("function.arguments").String()})
		return true
	})
	if u := r.Get("usage"); u.IsObject() {
		d.counts = openai.ParseUsage(u.Raw)
	}
	out.usage = d.usage()
	return out, nil
}

// done implements decoder.
func (d *openAIDecoder) done() bool { return d.stopped }

// usage implements decoder.
func (d *openAIDecoder) usage() Usage { return newUsage(d.counts.Tokens()) }

var doneData = []byte(openai.Done)

// next implements decoder: a chunk has choices, or usage (the include_usage chunk
// has both), and [DONE] ends the stream; logprobs and obfuscation have no place in
// the hub.
func (d *openAIDecoder) next(ds []delta, ev sse.Event) ([]delta, error) {
	data := bytes.TrimSpace(ev.Data)
	if d.stopped || len(data) == 0 {
		return ds, nil
	}
	if bytes.Equal(data, doneData) {
		d.stopped = true
		return append(ds, delta{kind: kindDone, usage: d.usage(), cache: true}), nil
	}
	r, err := openAIObject(data)
	if err != nil {
		return ds, err
	}
	choices, usage := r.Get("choices"), r.Get("usage")
	if !choices.IsArray() && !usage.IsObject() {
		return ds, openAIShape("a chunk without choices or usage")
	}
	if !d.started {
		d.started = true
		ds = append(ds, delta{kind: kindStart, id: r.Get("id").String(), model: r.Get("model").String(),
			created: r.Get("created").Int(), cache: true})
	}
	if usage.IsObject() {
		d.counts = openai.ParseUsage(usage.Raw) // a real stream sends one usage chunk; the last wins
	}
	ch := choices.Get("0")
	dl := ch.Get("delta")
	if s := openAIReasoning(dl); s != "" {
		ds = append(ds, delta{kind: kindReasoning, text: s})
	}
	if s := dl.Get("content"); s.Type == gjson.String && s.Str != "" {
		ds = append(ds, delta{kind: kindText, text: s.Str})
	}
	if s := dl.Get("refusal"); s.Type == gjson.String && s.Str != "" {
		ds = append(ds, delta{kind: kindRefusal, text: s.Str})
	}
	dl.Get("tool_calls").ForEach(func(_, tc gjson.Result) bool {
		ds = d.toolCall(ds, tc)
		return true
	})
	if f := ch.Get("finish_reason"); f.Type == gjson.String {
		ds = append(ds, delta{kind: kindFinish, finish: finishOfOpenAI(f.Str)})
	}
	return ds, nil
}

// toolCall reads one tool_calls entry: an index not seen before starts a call,
// a known one continues its arguments.
func (d *openAIDecoder) toolCall(ds []delta, tc gjson.Result) []delta {
	idx := int(tc.Get("index").Int())
	args := tc.Get("function.arguments").String()
	switch {
	case idx < 0 || idx > maxToolIndex:
		return ds
	case idx >= d.tools:
		d.tools = idx + 1
		return append(ds, delta{kind: kindToolCall, tool: idx, id: tc.Get("id").String(),
			name: tc.Get("function.name").String(), text: args})
	case args != "":
		return append(ds, delta{kind: kindToolArgs, tool: idx, text: args})
	}
	return ds
}

// openAIReasoning is the reasoning text of a message or a delta:
// reasoning_content, or else reasoning. A server that sends both sends the same
// text twice, so one is read, never both.
func openAIReasoning(m gjson.Result) string {
	if s := m.Get("reasoning_content"); s.Type == gjson.String && s.Str != "" {
		return s.Str
	}
	if s := m.Get("reasoning"); s.Type == gjson.String {
		return s.Str
	}
	return ""
}
