package translate

// The hub every answer goes through: an upstream decoder (decode_*.go) turns a
// body into a reply and each stream event into deltas; a client encoder
// (encode_*.go) writes replies and deltas in its protocol. The hub types say what
// any protocol can say of an answer, and no more: ids and times the client needs
// and the upstream did not send are the encoder's to make (env.go).
//
// Adding a protocol: an upstream protocol adds a decoder, a client protocol an
// encoder; neither touches the others. What a new protocol can say that the hub
// cannot (the Responses API's encrypted reasoning, custom tool calls with free-text
// input, output item ids) becomes a new kind or field; encoders pass over kinds
// they do not know, which is the lossy-but-safe default every translation already
// has for what the client's protocol cannot carry (a thinking block for a legacy
// completions client, say).

import (
	"encoding/json"

	"github.com/tidwall/gjson"

	"github.com/llmrouter/llmrouter/internal/sse"
	"github.com/llmrouter/llmrouter/internal/wire"
)

// kind says what a delta carries.
type kind uint8

const (
	// kindStart begins the answer: id, model and created as the upstream gave
	// them ("" and 0 when it did not), usage as known so far.
	kindStart kind = iota + 1
	// kindText is a fragment of the answer's text; logprobs its token
	// logprobs, when the upstream sent them.
	kindText
	// kindRefusal is a fragment of a refusal, said instead of an answer.
	kindRefusal
	// kindReasoning is a fragment of the model's reasoning (thinking) text.
	kindReasoning
	// kindToolCall begins tool call tool: id ("" when the upstream sent none),
	// name, and text, the first fragment of its JSON arguments (an upstream that
	// sends calls whole, like Ollama, puts them all there).
	kindToolCall
	// kindToolArgs is a further fragment of tool call tool's arguments.
	kindToolArgs
	// kindFinish says why the model stopped; text is a last fragment of the
	// answer's text that came with the reason (Ollama's generate done line).
	kindFinish
	// kindDone is the upstream's terminal event: usage is final, and nothing
	// follows.
	kindDone
	// kindSignature ends a block of reasoning with text, its signature
	// (Anthropic's signature_delta): only the upstream that made it can read it.
	kindSignature
	// kindRedacted is a whole block of reasoning the upstream encrypted, text
	// its data (Anthropic's redacted_thinking), to be given back as it came.
	kindRedacted
)

// delta is one step of a streamed answer. The fields a kind does not name are
// zero.
type delta struct {
	kind     kind
	text     string
	tool     int    // the tool call's number: its ordinal, or OpenAI's tool_calls index
	id, name string // the answer's id (kindStart); the call's id and function name (kindToolCall)
	model    string
	created  int64 // Unix seconds
	finish   finish
	logprobs json.RawMessage // token logprobs, a JSON array of OpenAI's {token, logprob, bytes, top_logprobs}
	usage    Usage
	cache    bool // the upstream reports cache counts: usage's are measured, not absent
}

// reply is a whole non-streaming answer.
type reply struct {
	id, model string
	created   int64 // Unix seconds; 0 when the upstream does not say
	reasoning string
	thoughts  []thought // the reasoning block by block, when the upstream signs them
	text      string
	hasText   bool // the answer has a text part, even an empty one (else OpenAI's content is null)
	refusal   string
	tools     []toolCall
	finish    finish
	logprobs  json.RawMessage // as delta.logprobs
	usage     Usage
	cache     bool // as delta.cache
}

// toolCall is one whole tool call of a reply; args is JSON text, as the upstream
// gave it.
type toolCall struct{ id, name, args string }

// thought is one block of a reply's reasoning: text and its signature, or
// (redacted) an encrypted block's data in text.
type thought struct {
	text, signature string
	redacted        bool
}

// finish is why the model stopped, in terms every protocol can say (docs/protocols.md §11).
type finish uint8

const (
	finishStop          finish = iota // a natural end or a stop sequence; also what an unknown reason becomes
	finishLength                      // the output token limit, or the context window
	finishToolCalls                   // the model calls tools
	finishContentFilter               // a refusal, or a provider's filter
)

// finishOfAnthropic reads a stop_reason. stop_sequence and pause_turn have no own
// value and are a stop; model_context_window_exceeded is a length.
func finishOfAnthropic(stop string) finish {
	switch stop {
	case "max_tokens", "model_context_window_exceeded":
		return finishLength
	case "tool_use":
		return finishToolCalls
	case "refusal":
		return finishContentFilter
	}
	return finishStop
}

// finishOfOpenAI reads a finish_reason; the deprecated function_call is a tool call.
func finishOfOpenAI(reason string) finish {
	switch reason {
	case "length":
		return finishLength
	case "tool_calls", "function_call":
		return finishToolCalls
	case "content_filter":
		return finishContentFilter
	}
	return finishStop
}

// finishOfOllama reads a done_reason: tool calls win (Ollama says "stop" for
// them), "length" stays, and everything else (load, unload) is a stop.
func finishOfOllama(doneReason string, toolCalls bool) finish {
	switch {
	case toolCalls:
		return finishToolCalls
	case doneReason == "length":
		return finishLength
	}
	return finishStop
}

// openAI is the Chat Completions finish_reason.
func (f finish) openAI() string {
	return [...]string{"stop", "length", "tool_calls", "content_filter"}[f]
}

// legacy is the legacy Completions finish_reason, which has stop, length and
// content_filter: no tools are sent, so a tool call cannot mean a call to run.
func (f finish) legacy() string {
	if f == finishToolCalls {
		return "stop"
	}
	return f.openAI()
}

// anthropic is the Messages stop_reason; a stop is end_turn, since no protocol
// says whether a stop sequence was hit.
func (f finish) anthropic() string {
	return [...]string{"end_turn", "max_tokens", "tool_use", "refusal"}[f]
}

// answerObject parses an upstream body or event that must be a JSON object. It is
// validated with encoding/json first, which is iterative, unlike gjson (see
// parseObject).
func answerObject(p wire.Protocol, data []byte) (gjson.Result, error) {
	if !json.Valid(data) {
		return gjson.Result{}, &ShapeError{Protocol: p, Reason: "not valid JSON"}
	}
	r := gjson.ParseBytes(data)
	if !r.IsObject() {
		return r, &ShapeError{Protocol: p, Reason: "not a JSON object"}
	}
	return r, nil
}

// decoder reads the answers of one upstream protocol. It holds the stream's state
// and the usage read so far, in constant memory however long the stream.
type decoder interface {
	// reply decodes a whole non-streaming body.
	reply(body []byte) (reply, error)
	// next decodes one stream event and appends its deltas to ds. An event that
	// fails (an in-band error, or not an event of the protocol) appends none.
	next(ds []delta, ev sse.Event) ([]delta, error)
	// done reports whether the terminal event has been decoded.
	done() bool
	// usage is the token usage read so far.
	usage() Usage
}

// encoder writes the answers of one client protocol. It holds what its stream
// repeats on every event (ids, the open block) and the client's choices from the
// request (stream_options.include_usage).
type encoder interface {
	// reply renders a whole answer.
	reply(r *reply, env *env) ([]byte, error)
	// write appends the client events for one delta to o.
	write(o *out, d *delta)
}

// answer is the answer side of a Translator: the upstream's decoder feeding the
// client's encoder. Every pair embeds one, so Response, Stream, End, Done and
// Usage are the same code for all of them.
type answer struct {
	env    env
	dec    decoder
	enc    encoder
	deltas []delta // one event's deltas, reused
	js     jsonBuf // the events' JSON, reused
	out    out     // one event's output, reused
}

// init wires the pair's decoder and encoder, with the real clock and random ids.
func (a *answer) init(dec decoder, enc encoder) {
	a.env, a.dec, a.enc = realEnv(), dec, enc
}

// Response implements Translator.
func (a *answer) Response(body []byte) ([]byte, error) {
	r, err := a.dec.reply(body)
	if err != nil {
		return nil, err
	}
	return a.enc.reply(&r, &a.env)
}

// Stream implements Translator. A failed event appends nothing: the decoder
// reports an error before any delta is encoded, and an encoding error (which
// would be a bug) discards what the event had written.
func (a *answer) Stream(dst []byte, ev sse.Event) ([]byte, error) {
	ds, err := a.dec.next(a.deltas[:0], ev)
	a.deltas = ds[:0]
	if err != nil {
		return dst, err
	}
	a.out = out{buf: dst, env: &a.env, js: &a.js}
	for i := range ds {
		a.enc.write(&a.out, &ds[i])
	}
	if a.out.err != nil {
		return dst, a.out.err
	}
	return a.out.buf, nil
}

// End implements Translator: every encoder writes its closing events with the
// terminal event, so only a missing one is left to report.
func (a *answer) End(dst []byte) ([]byte, error) {
	if !a.dec.done() {
		return dst, ErrTruncated
	}
	return dst, nil
}

// Done implements Translator.
func (a *answer) Done() bool { return a.dec.done() }

// Usage implements Translator.
func (a *answer) Usage() Usage { return a.dec.usage() }
