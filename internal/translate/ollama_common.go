package translate

// What the three translators towards Ollama's native API share (openai_ollama.go,
// anthropic_ollama.go, completions_ollama.go): the shapes of the upstream request and
// of one NDJSON line (README §4), per-translator state, ids, the think and finish
// maps, and an SSE writer that appends nothing when encoding fails.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/llmrouter/llmrouter/internal/ollama"
	"github.com/llmrouter/llmrouter/internal/sse"
)

// ollamaBase is embedded by each translator towards Ollama: the options, what the
// last Request dropped, the client's stream_options.include_usage, and the id and
// clock sources (replaced by tests for deterministic goldens).
type ollamaBase struct {
	opt          Options
	dropped      drops
	includeUsage bool
	newID        func(prefix string) string
	now          func() time.Time
}

func newOllamaBase(opt Options) ollamaBase {
	return ollamaBase{opt: opt, newID: newID, now: func() time.Time { return clock() }}
}

// Dropped lists the JSON paths of client fields the last Request did not send.
func (b *ollamaBase) Dropped() []string { return b.dropped }

// model is the upstream model: Options.Model, else the client's own.
func (b *ollamaBase) model(client gjson.Result) string {
	if b.opt.Model != "" {
		return b.opt.Model
	}
	return client.String()
}

// streamOptions reads an OpenAI client's stream_options: include_usage is
// remembered for the stream; other members (include_obfuscation) are dropped.
func (b *ollamaBase) streamOptions(v gjson.Result) error {
	if err := wantObject(v, "stream_options"); err != nil {
		return err
	}
	return eachKey(v, func(k string, f gjson.Result) error {
		if k != "include_usage" {
			b.dropped.add(jsonPath("stream_options", k))
			return nil
		}
		var err error
		b.includeUsage, err = wantBool(f, "stream_options.include_usage")
		return err
	})
}

// modelOf is the model an Ollama response names, else the route's upstream model.
func (b *ollamaBase) modelOf(l ollamaLine) string {
	if l.Model != "" {
		return l.Model
	}
	return b.opt.Model
}

// dropOthers records the non-null members of obj that are not in keep.
func (b *ollamaBase) dropOthers(path string, obj gjson.Result, keep ...string) {
	_ = eachKey(obj, func(k string, _ gjson.Result) error {
		if !slices.Contains(keep, k) {
			b.dropped.add(jsonPath(path, k))
		}
		return nil
	})
}

// created converts Ollama's RFC 3339 created_at to Unix seconds; an absent or
// unparseable value becomes the current time.
func (b *ollamaBase) created(createdAt string) int64 {
	if t, err := time.Parse(time.RFC3339Nano, createdAt); err == nil {
		return t.Unix()
	}
	return b.now().Unix()
}

// ollamaChatRequest is the body of POST /api/chat (README §4.1). Stream is always
// written: Ollama streams when it is absent.
type ollamaChatRequest struct {
	Model       string          `json:"model"`
	Messages    []ollamaMessage `json:"messages"`
	Tools       []ollamaTool    `json:"tools,omitempty"`
	Format      json.RawMessage `json:"format,omitempty"`
	Options     *ollamaOptions  `json:"options,omitempty"`
	Think       json.RawMessage `json:"think,omitempty"`
	Logprobs    json.RawMessage `json:"logprobs,omitempty"`
	TopLogprobs json.RawMessage `json:"top_logprobs,omitempty"`
	Stream      bool            `json:"stream"`
}

// ollamaGenerateRequest is the body of POST /api/generate (README §4.2).
type ollamaGenerateRequest struct {
	Model   string         `json:"model"`
	Prompt  string         `json:"prompt"`
	Suffix  string         `json:"suffix,omitempty"`
	Options *ollamaOptions `json:"options,omitempty"`
	Stream  bool           `json:"stream"`
}

// ollamaMessage is one /api/chat message. Content is always a plain string.
type ollamaMessage struct {
	Role       string           `json:"role"`
	Content    string           `json:"content"`
	Thinking   string           `json:"thinking,omitempty"`
	Images     []string         `json:"images,omitempty"`
	ToolCalls  []ollamaToolCall `json:"tool_calls,omitempty"`
	ToolName   string           `json:"tool_name,omitempty"`
	ToolCallID string           `json:"tool_call_id,omitempty"`
}

// ollamaToolCall is a tool call in a request's history or in a response.
type ollamaToolCall struct {
	ID       string             `json:"id,omitempty"`
	Function ollamaFunctionCall `json:"function"`
}

// ollamaFunctionCall carries the arguments as a JSON object, never a string.
type ollamaFunctionCall struct {
	Index     int             `json:"index"`
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments"`
}

// ollamaTool is a tool declaration, in OpenAI's function format.
type ollamaTool struct {
	Type     string          `json:"type"`
	Function json.RawMessage `json:"function"`
}

// ollamaOptions are the sampling options the translators fill. Values are the
// client's JSON numbers, passed on unchanged.
type ollamaOptions struct {
	NumPredict       json.RawMessage `json:"num_predict,omitempty"`
	Temperature      json.RawMessage `json:"temperature,omitempty"`
	TopP             json.RawMessage `json:"top_p,omitempty"`
	TopK             json.RawMessage `json:"top_k,omitempty"`
	Seed             json.RawMessage `json:"seed,omitempty"`
	Stop             []string        `json:"stop,omitempty"`
	FrequencyPenalty json.RawMessage `json:"frequency_penalty,omitempty"`
	PresencePenalty  json.RawMessage `json:"presence_penalty,omitempty"`
}

// number returns the field for a numeric option whose client name equals Ollama's,
// or nil for any other name.
func (o *ollamaOptions) number(name string) *json.RawMessage {
	switch name {
	case "temperature":
		return &o.Temperature
	case "top_p":
		return &o.TopP
	case "top_k":
		return &o.TopK
	case "seed":
		return &o.Seed
	case "frequency_penalty":
		return &o.FrequencyPenalty
	case "presence_penalty":
		return &o.PresencePenalty
	}
	return nil
}

// setNumber stores the client's number v as option name.
func (o *ollamaOptions) setNumber(name string, v gjson.Result, path string) error {
	n, err := wantNumber(v, path)
	if err == nil {
		*o.number(name) = n
	}
	return err
}

// orNil returns nil for options that set nothing, so that "options" is omitted.
func (o *ollamaOptions) orNil() *ollamaOptions {
	if o.NumPredict == nil && o.Temperature == nil && o.TopP == nil && o.TopK == nil &&
		o.Seed == nil && o.Stop == nil && o.FrequencyPenalty == nil && o.PresencePenalty == nil {
		return nil
	}
	return o
}

// ollamaThink maps a reasoning effort to Ollama's think value as Ollama's own OpenAI
// layer does (README §10): none→false, minimal→"low", low/medium/high unchanged,
// xhigh and max→"max". ok is false for any other value.
func ollamaThink(effort string) (json.RawMessage, bool) {
	switch effort {
	case "none":
		return json.RawMessage(`false`), true
	case "minimal":
		return json.RawMessage(`"low"`), true
	case "low", "medium", "high":
		return json.RawMessage(`"` + effort + `"`), true
	case "xhigh", "max":
		return json.RawMessage(`"max"`), true
	}
	return nil, false
}

// ollamaImage returns the bare base64 of an image URL: a data: URL is stripped of
// its prefix; http(s) URLs are a RequestError, since the router never fetches them
// and Ollama accepts no URLs (README §8).
func ollamaImage(u, path string) (string, error) {
	if _, data, ok := parseDataURL(u); ok {
		return data, nil
	}
	if l := strings.ToLower(u); strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://") {
		return "", reqErr(path, "image URLs are not supported by ollama upstreams; send base64 data")
	}
	return "", reqErr(path, "must be a base64 data: URL")
}

// ollamaLine is one Ollama response: a whole non-streaming body or one NDJSON line.
// Chat fills Message; generate fills Response and Thinking.
type ollamaLine struct {
	Model           string          `json:"model"`
	CreatedAt       string          `json:"created_at"`
	Message         ollamaReply     `json:"message"`
	Response        string          `json:"response"`
	Thinking        string          `json:"thinking"`
	Done            bool            `json:"done"`
	DoneReason      string          `json:"done_reason"`
	PromptEvalCount int64           `json:"prompt_eval_count"`
	EvalCount       int64           `json:"eval_count"`
	Logprobs        json.RawMessage `json:"logprobs"`
}

// ollamaReply is the message of a chat response or line.
type ollamaReply struct {
	Content   string           `json:"content"`
	Thinking  string           `json:"thinking"`
	ToolCalls []ollamaToolCall `json:"tool_calls"`
}

// errOllamaNoDoneReason is the error for a done:true line without done_reason:
// Ollama writes "" when the runner's connection closed before the end (README §4.3,
// §11), so the output is cut short, as if the stream itself had been.
var errOllamaNoDoneReason = fmt.Errorf("ollama ended the stream without a done_reason: %w", ErrTruncated)

// decodeOllamaLine decodes one Ollama object. An {"error": …} object is a
// *StreamError carrying Ollama's message (README §5.3).
func decodeOllamaLine(data []byte) (ollamaLine, error) {
	var l ollamaLine
	if msg, ok := ollama.ParseError(data); ok {
		return l, &StreamError{Message: msg}
	}
	if err := json.Unmarshal(data, &l); err != nil {
		return l, fmt.Errorf("decoding ollama response: %w", err)
	}
	return l, nil
}

// ollamaArgs returns tool call arguments as compact JSON; absent or null ones are {}.
func ollamaArgs(raw json.RawMessage) []byte {
	var buf bytes.Buffer
	if len(raw) == 0 || json.Compact(&buf, raw) != nil || buf.String() == "null" {
		return []byte("{}")
	}
	return buf.Bytes()
}

// ollamaLogprobs wraps Ollama's per-token logprobs, whose entries have OpenAI's
// token-logprob shape ({token, logprob, bytes, top_logprobs}), as an OpenAI choice
// "logprobs" value; absent ones become null. Ollama omits top_logprobs when none
// were asked for and bytes when empty, both of which OpenAI requires: they become
// [] and null.
func ollamaLogprobs(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 || string(raw) == "null" {
		return json.RawMessage("null")
	}
	entries := gjson.ParseBytes(raw)
	if !entries.IsArray() {
		return json.RawMessage("null")
	}
	b := []byte(`{"content":[`)
	for i, e := range entries.Array() {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendLogprob(b, e, true)
	}
	return append(b, "]}"...)
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

// ollamaOpenAIFinish maps done_reason to an OpenAI finish_reason: tool calls win
// (Ollama says "stop" for them), "length" stays, and everything else, including
// load/unload and a missing value in a non-streaming body, is "stop".
func ollamaOpenAIFinish(doneReason string, toolCalls bool) string {
	switch {
	case toolCalls:
		return "tool_calls"
	case doneReason == "length":
		return "length"
	}
	return "stop"
}

// ollamaAnthropicStop is ollamaOpenAIFinish for Anthropic's stop_reason.
func ollamaAnthropicStop(doneReason string, toolCalls bool) string {
	switch {
	case toolCalls:
		return "tool_use"
	case doneReason == "length":
		return "max_tokens"
	}
	return "end_turn"
}

// ollamaUsage is OpenAI's usage from Ollama's counters (README §12).
func ollamaUsage(l ollamaLine) *openAIUsage {
	return &openAIUsage{
		PromptTokens:     l.PromptEvalCount,
		CompletionTokens: l.EvalCount,
		TotalTokens:      l.PromptEvalCount + l.EvalCount,
	}
}

// ollamaMarshal encodes v without HTML escaping, so text reaches the client as the
// model wrote it.
func ollamaMarshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encoding response: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// ollamaSSE appends SSE events to buf and keeps the first encoding error; the
// caller then returns its original dst, so a failed line appends nothing.
type ollamaSSE struct {
	buf []byte
	err error
}

// event appends one event named name (empty for OpenAI) with v as its data.
func (w *ollamaSSE) event(name string, v any) {
	if w.err != nil {
		return
	}
	b, err := ollamaMarshal(v)
	if err != nil {
		w.err = err
		return
	}
	w.buf = sse.AppendEvent(w.buf, name, b)
}

// done appends OpenAI's terminal "data: [DONE]".
func (w *ollamaSSE) done() { w.buf = sse.AppendEvent(w.buf, "", []byte("[DONE]")) }

// result returns the events, or dst and the error when one failed to encode.
func (w *ollamaSSE) result(dst []byte) ([]byte, error) {
	if w.err != nil {
		return dst, w.err
	}
	return w.buf, nil
}

// ollamaStreamState is what every Ollama stream converter remembers between lines:
// whether the client's opening events were sent, whether done:true was seen, and
// the id, creation time and model repeated on every client event.
type ollamaStreamState struct {
	started bool
	done    bool
	id      string
	created int64
	model   string
}

// start fills the state from the first line.
func (s *ollamaStreamState) start(b *ollamaBase, l ollamaLine, prefix string) {
	s.started = true
	s.id = b.newID(prefix)
	s.created = b.created(l.CreatedAt)
	s.model = b.modelOf(l)
}

// end implements Translator.End: the closing events were written with the done
// line, so only a missing one is left to report.
func (s *ollamaStreamState) end(dst []byte) ([]byte, error) {
	if !s.done {
		return dst, ErrTruncated
	}
	return dst, nil
}

// isDone implements Translator.Done for the Ollama stream converters.
func (s *ollamaStreamState) isDone() bool { return s.done }

// ollamaNext decodes the next line for a stream converter. skip is true once the
// stream is done (Ollama sends nothing after done:true; anything is ignored).
func ollamaNext(s *ollamaStreamState, data []byte) (l ollamaLine, skip bool, err error) {
	if s.done {
		return l, true, nil
	}
	l, err = decodeOllamaLine(data)
	if err == nil && l.Done && l.DoneReason == "" {
		err = errOllamaNoDoneReason
	}
	return l, false, err
}
