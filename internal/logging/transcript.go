package logging

import (
	"bytes"
	"encoding/json"
	"strings"

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
// Only choice 0 of an OpenAI stream is transcribed (streams with n > 1 are rare). A
// Transcript is not safe for concurrent use.
type Transcript struct {
	proto     wire.Protocol
	budget    int64 // bytes still free
	cut       int64 // bytes seen but not kept
	text      []byte
	reasoning []byte
	calls     []toolCall
	slots     map[int64]int // OpenAI tool_calls index / Anthropic block index -> calls
	finish    string
	usage     fields
	err       json.RawMessage
}

type toolCall struct {
	id, name string
	args     []byte
}

// NewTranscript returns an empty transcript of a stream in protocol p (wire.OpenAIChat,
// wire.OpenAICompletions or wire.AnthropicMessages; events of other protocols are
// ignored) that keeps at most max bytes of content.
func NewTranscript(p wire.Protocol, max int64) *Transcript {
	return &Transcript{proto: p, budget: max}
}

// Add records one event as the client received it. OpenAI events are data chunks
// (`[DONE]` is ignored); Anthropic events are read by name, or by data.type when the
// name is missing. Malformed events are ignored: a log must not fail a stream.
func (t *Transcript) Add(ev sse.Event) {
	data := bytes.TrimSpace(ev.Data)
	if len(data) == 0 || string(data) == "[DONE]" {
		return
	}
	r := gjson.ParseBytes(data)
	switch t.proto {
	case wire.OpenAIChat, wire.OpenAICompletions:
		t.addOpenAI(r)
	case wire.AnthropicMessages:
		name := ev.Name
		if name == "" {
			name = r.Get("type").Str
		}
		t.addAnthropic(name, r)
	}
}

func (t *Transcript) addOpenAI(r gjson.Result) {
	if e := r.Get("error"); e.Exists() && e.Type != gjson.Null {
		t.setError(e)
		return
	}
	r.Get("choices").ForEach(func(_, c gjson.Result) bool {
		if c.Get("index").Int() == 0 {
			t.addChoice(c)
		}
		return true
	})
	t.usage.merge(r.Get("usage"))
}

// addChoice reads a chat delta (content, refusal, reasoning, tool calls) or a legacy
// completions text, and the finish reason.
func (t *Transcript) addChoice(c gjson.Result) {
	if fr := c.Get("finish_reason"); fr.Type == gjson.String {
		t.finish = fr.Str
	}
	if t.proto == wire.OpenAICompletions {
		t.keep(&t.text, c.Get("text").Str)
		return
	}
	d := c.Get("delta")
	t.keep(&t.text, d.Get("content").Str)
	t.keep(&t.text, d.Get("refusal").Str)
	t.keep(&t.reasoning, d.Get("reasoning_content").Str)
	t.keep(&t.reasoning, d.Get("reasoning").Str) // vLLM, OpenRouter, Ollama's OpenAI layer
	pos := int64(0)
	d.Get("tool_calls").ForEach(func(_, tc gjson.Result) bool {
		t.addToolDelta(pos, tc)
		pos++
		return true
	})
}

// addToolDelta accumulates one tool_calls entry by its index (its position in the
// array when a provider omits index). The first chunk of a call carries id and name
// and opens it; fragments of a call that was never opened (no room) are counted.
func (t *Transcript) addToolDelta(pos int64, tc gjson.Result) {
	key := pos
	if i := tc.Get("index"); i.Exists() {
		key = i.Int()
	}
	fn := tc.Get("function")
	id, name := tc.Get("id").Str, fn.Get("name").Str
	if _, ok := t.slots[key]; !ok && (id != "" || name != "") {
		t.startCall(key, id, name)
	}
	t.addArgs(key, fn.Get("arguments").Str)
}

func (t *Transcript) addAnthropic(name string, r gjson.Result) {
	switch name {
	case "message_start":
		t.usage.merge(r.Get("message.usage"))
	case "content_block_start":
		t.startBlock(r.Get("index").Int(), r.Get("content_block"))
	case "content_block_delta":
		t.addBlockDelta(r.Get("index").Int(), r.Get("delta"))
	case "message_delta":
		if s := r.Get("delta.stop_reason"); s.Type == gjson.String {
			t.finish = s.Str
		}
		t.usage.merge(r.Get("usage"))
	case "error":
		t.setError(r.Get("error"))
	}
}

// startBlock opens an Anthropic content block. tool_use (and server_tool_use,
// mcp_tool_use) blocks become tool calls; text and thinking blocks start empty in
// practice, but any initial text is kept.
func (t *Transcript) startBlock(index int64, b gjson.Result) {
	switch typ := b.Get("type").Str; {
	case typ == "text":
		t.keep(&t.text, b.Get("text").Str)
	case typ == "thinking":
		t.keep(&t.reasoning, b.Get("thinking").Str)
	case strings.HasSuffix(typ, "tool_use"):
		t.startCall(index, b.Get("id").Str, b.Get("name").Str)
	}
}

func (t *Transcript) addBlockDelta(index int64, d gjson.Result) {
	switch d.Get("type").Str {
	case "text_delta":
		t.keep(&t.text, d.Get("text").Str)
	case "thinking_delta":
		t.keep(&t.reasoning, d.Get("thinking").Str)
	case "input_json_delta":
		t.addArgs(index, d.Get("partial_json").Str)
	}
}

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
func (t *Transcript) setError(e gjson.Result) {
	raw := []byte(e.Raw)
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
