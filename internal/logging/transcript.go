package logging

import (
	"bytes"
	"encoding/json"

	"github.com/tidwall/gjson"

	"github.com/llmrouter/llmrouter/internal/redact"
	"github.com/llmrouter/llmrouter/internal/sse"
	"github.com/llmrouter/llmrouter/internal/wire"
)

const (
	// callCost is charged to the budget for each tool call kept, on top of its id and
	// name, so that a stream of empty calls cannot grow the transcript without bound.
	callCost = 16
	// maxRaw bounds the usage and error objects kept (they are small in real streams).
	maxRaw = 4 << 10
	// maxUsageFields bounds the keys merged into usage across events.
	maxUsageFields = 64
)

// Transcript assembles a client-side stream into what the response said, for the
// response-body log: text, reasoning, tool calls, finish reason, usage and any in-band
// error. Raw SSE would be mostly framing and repeated ids; the transcript is what a
// reader wants, and its memory is bounded: text, reasoning, tool call ids, names and
// arguments share a budget of max bytes, and what does not fit is counted, not kept.
//
// The client protocol's dialect reads each event (Dialect.Transcribe) and tells the
// transcript what it says, through the methods of wire.Transcript. A Transcript is
// not safe for concurrent use.
type Transcript struct {
	proto     Dialect
	budget    int64 // bytes still free
	cut       int64 // bytes seen but not kept
	text      []byte
	reasoning []byte
	calls     []toolCall
	slots     map[int64]int // tool call key -> calls
	finish    string
	usage     fields
	err       json.RawMessage
}

// Dialect is what a transcript needs of a client protocol: reading one event the
// client was sent into the transcript. openai.Chat, openai.Completions and
// anthropic.Messages implement it.
type Dialect interface {
	Transcribe(name string, data []byte, t wire.Transcript)
}

type toolCall struct {
	id, name string
	args     []byte
}

// NewTranscript returns an empty transcript of a stream in protocol p that keeps at
// most max bytes of content. With a nil p, events are ignored.
func NewTranscript(p Dialect, max int64) *Transcript {
	return &Transcript{proto: p, budget: max}
}

// Add records one event as the client received it. Blank and malformed events are
// ignored: a log must not fail a stream.
func (t *Transcript) Add(ev sse.Event) {
	data := bytes.TrimSpace(ev.Data)
	if len(data) == 0 || t.proto == nil {
		return
	}
	t.proto.Transcribe(ev.Name, data, t)
}

// Text keeps answer text, within the budget.
func (t *Transcript) Text(s string) { t.keep(&t.text, s) }

// Reasoning keeps reasoning text, within the budget.
func (t *Transcript) Reasoning(s string) { t.keep(&t.reasoning, s) }

// ToolCall opens a tool call under key, unless one is open under it.
func (t *Transcript) ToolCall(key int64, id, name string) {
	if _, ok := t.slots[key]; !ok {
		t.startCall(key, id, name)
	}
}

// ToolArgs appends to the arguments of the call under key; the arguments of a
// call that was never opened (no room) are counted as cut.
func (t *Transcript) ToolArgs(key int64, s string) { t.addArgs(key, s) }

// Finish records the finish or stop reason.
func (t *Transcript) Finish(reason string) { t.finish = reason }

// Usage merges a usage object into the one kept, so that Anthropic's message_start
// usage (input counts) and message_delta usage (cumulative output) make one object.
func (t *Transcript) Usage(object string) { t.usage.merge(gjson.Parse(object)) }

// Error keeps an in-band error object, or a truncated string of an oversized one.
func (t *Transcript) Error(object string) { t.setError(object) }

// startCall opens a tool call under key if the budget has room for it; otherwise its
// bytes are counted as cut and its arguments will be too.
func (t *Transcript) startCall(key int64, id, name string) {
	cost := int64(len(id)+len(name)) + callCost
	if cost > t.budget {
		t.cut += int64(len(id) + len(name))
		return
	}
	t.budget -= cost
	if t.slots == nil {
		t.slots = make(map[int64]int)
	}
	t.slots[key] = len(t.calls)
	t.calls = append(t.calls, toolCall{id: id, name: name})
}

func (t *Transcript) addArgs(key int64, s string) {
	slot, ok := t.slots[key]
	if !ok {
		t.cut += int64(len(s))
		return
	}
	t.keep(&t.calls[slot].args, s)
}

// keep appends as much of s to *dst as the budget allows, cut on a UTF-8 boundary,
// and counts the rest. A cut inside a token (what may be a key, split across
// deltas or not) drops the token's kept part as well (redact.AppendCut).
func (t *Transcript) keep(dst *[]byte, s string) {
	var cut int
	*dst, cut = redact.AppendCut(*dst, s, int(max(t.budget, 0)))
	t.cut += int64(cut)
	if cut > 0 {
		t.budget = 0 // the cut is final: a later small delta must not fill its gap
		return
	}
	t.budget -= int64(len(s))
}

// setError keeps an in-band error object, or a truncated string of an oversized one.
func (t *Transcript) setError(object string) {
	raw := []byte(object)
	if len(raw) > maxRaw || !json.Valid(raw) {
		raw, _ = json.Marshal(redact.Truncate(raw, maxRaw))
	}
	t.err = raw
}

// JSON returns the transcript as compact JSON:
//
//	{"text":…, "reasoning":…, "tool_calls":[{"id","name","arguments"}],
//	 "finish_reason":…, "usage":{…}, "error":{…}, "truncated_bytes":N}
//
// text is always present; the other fields only when non-empty. arguments is the
// concatenated argument string as streamed (JSON text, possibly incomplete when the
// stream was cut). truncated_bytes counts content seen but not kept.
func (t *Transcript) JSON() []byte {
	out := transcriptJSON{
		Text:         string(t.text),
		Reasoning:    string(t.reasoning),
		FinishReason: t.finish,
		Usage:        t.usage.object(),
		Error:        t.err,
		Truncated:    t.cut,
	}
	for _, c := range t.calls {
		out.ToolCalls = append(out.ToolCalls, toolCallJSON{ID: c.id, Name: c.name, Arguments: string(c.args)})
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil { // unreachable: every raw part is validated
		return []byte(`{"text":""}`)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

type transcriptJSON struct {
	Text         string          `json:"text"`
	Reasoning    string          `json:"reasoning,omitempty"`
	ToolCalls    []toolCallJSON  `json:"tool_calls,omitempty"`
	FinishReason string          `json:"finish_reason,omitempty"`
	Usage        json.RawMessage `json:"usage,omitempty"`
	Error        json.RawMessage `json:"error,omitempty"`
	Truncated    int64           `json:"truncated_bytes,omitempty"`
}

type toolCallJSON struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// fields is a JSON object kept as ordered key/raw-value pairs, so that Anthropic's
// message_start usage (input counts) and message_delta usage (cumulative output) merge
// into one object, later values winning.
type fields []field

type field struct{ key, raw string }

// merge overlays the keys of obj; non-objects and oversized objects are ignored.
func (f *fields) merge(obj gjson.Result) {
	if !obj.IsObject() || len(obj.Raw) > maxRaw {
		return
	}
	obj.ForEach(func(k, v gjson.Result) bool {
		f.set(k.Str, v.Raw)
		return true
	})
}

func (f *fields) set(key, raw string) {
	for i := range *f {
		if (*f)[i].key == key {
			(*f)[i].raw = raw
			return
		}
	}
	if len(*f) < maxUsageFields {
		*f = append(*f, field{key, raw})
	}
}

// object renders the fields as a JSON object, or nil when there are none or the
// upstream sent something that is not valid JSON.
func (f fields) object() json.RawMessage {
	if len(f) == 0 {
		return nil
	}
	b := []byte{'{'}
	for i, kv := range f {
		if i > 0 {
			b = append(b, ',')
		}
		k, _ := json.Marshal(kv.key)
		b = append(append(append(b, k...), ':'), kv.raw...)
	}
	b = append(b, '}')
	if !json.Valid(b) {
		return nil
	}
	return b
}
