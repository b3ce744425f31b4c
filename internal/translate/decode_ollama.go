package translate

// The Ollama decoders (docs/protocols.md §4.3): /api/chat and /api/generate answers, a whole
// body or the NDJSON lines of a stream, into the hub's reply and deltas. Ollama
// sends tool calls whole and reports usage on its done:true line only.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/llmrouter/llmrouter/internal/ollama"
	"github.com/llmrouter/llmrouter/internal/sse"
	"github.com/llmrouter/llmrouter/internal/wire"
)

// ollamaLines is what both Ollama decoders share: the route's upstream model (for
// lines that name none), the counters of the done line, and the stream's state.
type ollamaLines struct {
	proto   wire.Protocol
	model   string
	counts  ollama.Metrics
	started bool
	stopped bool // done:true seen; Ollama sends nothing after it, anything is ignored
}

// errOllamaNoDoneReason is the error for a done:true line without done_reason:
// Ollama writes "" when the runner's connection closed before the end (docs/protocols.md §4.3,
// §11), so the output is cut short, as if the stream itself had been.
var errOllamaNoDoneReason = fmt.Errorf("ollama ended the stream without a done_reason: %w", ErrTruncated)

// decode reads one Ollama object into v, whose "done" field is done. An
// {"error": …} object is a *StreamError carrying Ollama's message (docs/protocols.md §5.3);
// anything but an object with "done" is not an Ollama answer. done is set before
// decoding, so that only a line that says done:true, or none, is looked at twice.
func (o *ollamaLines) decode(data []byte, v any, done *bool) error {
	if msg, ok := ollama.ParseError(data); ok {
		return &StreamError{Message: msg}
	}
	*done = true
	if err := json.Unmarshal(data, v); err != nil {
		return &ShapeError{Protocol: o.proto, Reason: err.Error()}
	}
	if *done && !gjson.GetBytes(data, "done").IsBool() {
		return &ShapeError{Protocol: o.proto, Reason: `no "done"`}
	}
	return nil
}

// nextLine decodes a stream line into v, whose done and done_reason fields are
// done and reason; skip is true once the stream is done. A done line without a
// reason is a cut stream.
func (o *ollamaLines) nextLine(data []byte, v any, done *bool, reason *string) (skip bool, err error) {
	if o.stopped {
		return true, nil
	}
	if err := o.decode(data, v, done); err != nil {
		return false, err
	}
	if *done && *reason == "" {
		return false, errOllamaNoDoneReason
	}
	return false, nil
}

// start is the first line's kindStart delta.
func (o *ollamaLines) start(ds []delta, model, createdAt string) []delta {
	if o.started {
		return ds
	}
	o.started = true
	return append(ds, delta{kind: kindStart, model: cmpOr(model, o.model), created: unixTime(createdAt)})
}

// end is the done line's kindFinish and kindDone deltas.
func (o *ollamaLines) end(ds []delta, m ollama.Metrics, f finish, text string) []delta {
	o.stopped, o.counts = true, m
	return append(ds, delta{kind: kindFinish, finish: f, text: text}, delta{kind: kindDone, usage: o.usage()})
}

// unixTime converts Ollama's RFC 3339 created_at to Unix seconds; 0 (the
// encoder's clock) when it is absent or unparseable.
func unixTime(createdAt string) int64 {
	if t, err := time.Parse(time.RFC3339Nano, createdAt); err == nil {
		return t.Unix()
	}
	return 0
}

// done implements decoder.
func (o *ollamaLines) done() bool { return o.stopped }

// usage implements decoder.
func (o *ollamaLines) usage() Usage { return newUsage(o.counts.Tokens()) }

// ollamaChatDecoder reads /api/chat answers.
type ollamaChatDecoder struct {
	ollamaLines
	calls int                  // tool calls streamed so far: the next call's number
	line  *ollama.ChatResponse // the line being decoded, reused (made for the first)
}

func newOllamaChatDecoder(model string) ollamaChatDecoder {
	return ollamaChatDecoder{ollamaLines: ollamaLines{proto: wire.OllamaChat, model: model}}
}

// reply implements decoder. The answer has a text part unless its content is empty
// next to tool calls (OpenAI's content is then null).
func (d *ollamaChatDecoder) reply(body []byte) (reply, error) {
	var l ollama.ChatResponse
	if err := d.decode(body, &l, &l.Done); err != nil {
		return reply{}, err
	}
	d.counts = l.Metrics
	m := l.Message
	r := reply{model: cmpOr(l.Model, d.model), created: unixTime(l.CreatedAt), reasoning: m.Thinking,
		text: m.Content, hasText: m.Content != "" || len(m.ToolCalls) == 0,
		finish: finishOfOllama(l.DoneReason, len(m.ToolCalls) > 0), logprobs: ollamaLogprobs(l.Logprobs), usage: d.usage()}
	for _, tc := range m.ToolCalls {
		r.tools = append(r.tools, toolCall{id: tc.ID, name: tc.Function.Name, args: string(ollamaArgs(tc.Function.Arguments))})
	}
	return r, nil
}

// next implements decoder: thinking, content and each whole tool call, then on
// the done line the finish and the usage.
func (d *ollamaChatDecoder) next(ds []delta, ev sse.Event) ([]delta, error) {
	if d.line == nil {
		d.line = new(ollama.ChatResponse)
	}
	l := d.line
	*l = ollama.ChatResponse{}
	if skip, err := d.nextLine(ev.Data, l, &l.Done, &l.DoneReason); skip || err != nil {
		return ds, err
	}
	ds = d.start(ds, l.Model, l.CreatedAt)
	m := l.Message
	if m.Thinking != "" {
		ds = append(ds, delta{kind: kindReasoning, text: m.Thinking})
	}
	if m.Content != "" {
		ds = append(ds, delta{kind: kindText, text: m.Content, logprobs: ollamaLogprobs(l.Logprobs)})
	}
	for _, tc := range m.ToolCalls {
		ds = append(ds, delta{kind: kindToolCall, tool: d.calls, id: tc.ID, name: tc.Function.Name,
			text: string(ollamaArgs(tc.Function.Arguments))})
		d.calls++
	}
	if l.Done {
		ds = d.end(ds, l.Metrics, finishOfOllama(l.DoneReason, d.calls > 0), "")
	}
	return ds, nil
}

// ollamaGenerateDecoder reads /api/generate answers.
type ollamaGenerateDecoder struct {
	ollamaLines
	line *ollama.GenerateResponse // the line being decoded, reused (made for the first)
}

func newOllamaGenerateDecoder(model string) ollamaGenerateDecoder {
	return ollamaGenerateDecoder{ollamaLines: ollamaLines{proto: wire.OllamaGenerate, model: model}}
}

// reply implements decoder.
func (d *ollamaGenerateDecoder) reply(body []byte) (reply, error) {
	var l ollama.GenerateResponse
	if err := d.decode(body, &l, &l.Done); err != nil {
		return reply{}, err
	}
	d.counts = l.Metrics
	return reply{model: cmpOr(l.Model, d.model), created: unixTime(l.CreatedAt), reasoning: l.Thinking,
		text: l.Response, hasText: true, finish: finishOfOllama(l.DoneReason, false), usage: d.usage()}, nil
}

// next implements decoder: the done line's own text comes with the finish.
func (d *ollamaGenerateDecoder) next(ds []delta, ev sse.Event) ([]delta, error) {
	if d.line == nil {
		d.line = new(ollama.GenerateResponse)
	}
	l := d.line
	*l = ollama.GenerateResponse{}
	if skip, err := d.nextLine(ev.Data, l, &l.Done, &l.DoneReason); skip || err != nil {
		return ds, err
	}
	ds = d.start(ds, l.Model, l.CreatedAt)
	if l.Thinking != "" {
		ds = append(ds, delta{kind: kindReasoning, text: l.Thinking})
	}
	if !l.Done {
		if l.Response != "" {
			ds = append(ds, delta{kind: kindText, text: l.Response})
		}
		return ds, nil
	}
	return d.end(ds, l.Metrics, finishOfOllama(l.DoneReason, false), l.Response), nil
}

// ollamaArgs returns tool call arguments as compact JSON; absent or null ones are {}.
func ollamaArgs(raw json.RawMessage) []byte {
	var buf bytes.Buffer
	if len(raw) == 0 || json.Compact(&buf, raw) != nil || buf.String() == "null" {
		return []byte("{}")
	}
	return buf.Bytes()
}

// ollamaLogprobs returns Ollama's per-token logprobs, whose entries have OpenAI's
// token-logprob shape ({token, logprob, bytes, top_logprobs}), as the hub's JSON
// array; absent ones are nil. Ollama omits top_logprobs when none were asked for
// and bytes when empty, both of which OpenAI requires: they become [] and null.
func ollamaLogprobs(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	entries := gjson.ParseBytes(raw)
	if !entries.IsArray() {
		return nil
	}
	b := []byte(`[`)
	for i, e := range entries.Array() {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendLogprob(b, e, true)
	}
	return append(b, ']')
}

// appendLogprob appends one token logprob with OpenAI's required fields filled in.
func appendLogprob(b []byte, e gjson.Result, top bool) []byte {
	if !e.IsObject() {
		return append(b, e.Raw...)
	}
	raw := []byte(e.Raw)
	if !e.Get("bytes").Exists() {
		raw, _ = sjson.SetRawBytes(raw, "bytes", []byte("null"))
	}
	if top {
		tops := []byte("[")
		for i, t := range e.Get("top_logprobs").Array() {
			if i > 0 {
				tops = append(tops, ',')
			}
			tops = appendLogprob(tops, t, false)
		}
		raw, _ = sjson.SetRawBytes(raw, "top_logprobs", append(tops, ']'))
	}
	return append(b, raw...)
}
