package translate

// The Responses API encoder (docs/protocols.md §15.2-15.3): a reply as a response object,
// deltas as the event lifecycle the API itself streams: response.created and
// response.in_progress; per output item, output_item.added, its part and delta
// events, their done events and output_item.done; then exactly one of
// response.completed, response.incomplete (the output token limit, or a
// provider's filter) or response.failed (Fail). Every event has a
// sequence_number counting from 0, and output_index, content_index,
// summary_index and item_id address what it adds to, as in the recordings.
//
// Items are written one after the other, as in every recording (an item is done
// before the next is added): reasoning, a message (output_text and refusal parts),
// function calls, and custom tool calls for the names the request declared as
// custom tools. A fragment of a tool call that is already done (an upstream that
// interleaves parallel calls) cannot be expressed and is left out.
//
// The done events and the terminal event repeat everything said before them
// (Codex builds its items from output_item.done alone, docs/protocols.md §15.5), so the
// encoder keeps the output so far, up to maxResponsesOutput bytes.

import (
	"encoding/json"
	"fmt"

	"github.com/llmrouter/llmrouter/internal/responses"
)

// maxResponsesOutput bounds the output a Responses stream keeps to repeat in its
// done and terminal events: the size of the largest answer the router accepts
// whole (the gateway's 8 MiB).
const maxResponsesOutput = 8 << 20

// respEcho is what a response object repeats of the client's request, as JSON
// text (nil: null, or the API's default).
type respEcho struct {
	instructions, maxOutputTokens, reasoning, temperature, text json.RawMessage
	toolChoice, tools, topP, user, metadata                     json.RawMessage
	parallel                                                    bool
}

// Defaults the API echoes for members the request left out.
var (
	defaultTextFormat = json.RawMessage(`{"format":{"type":"text"}}`)
	defaultToolChoice = json.RawMessage(`"auto"`)
	emptyArray        = json.RawMessage(`[]`)
	emptyObject       = json.RawMessage(`{}`)
)

// responsesEncoder writes a Responses client's answer. The request converter
// sets echo, customs and carry.
type responsesEncoder struct {
	echo    respEcho
	customs map[string]bool // tool names the client declared as custom tools
	carry   bool            // encrypted_content carries signed thinking (carryThinking, responses_anthropic.go)

	started bool
	seq     int64               // the next event's sequence_number
	resp    *responses.Response // made with response.created, repeated by the terminal event
	output  []any               // the items done so far
	size    int                 // bytes of text kept in output and item
	item    respOpenItem
	finish  finish
}

// object returns the response object, in progress, with the request's echoes.
func (e *responsesEncoder) object(id, model string, created int64) *responses.Response {
	ec := &e.echo
	return &responses.Response{ID: id, Object: responses.ObjectResponse, CreatedAt: created,
		Status: responses.StatusInProgress, Instructions: ec.instructions, MaxOutputTokens: ec.maxOutputTokens,
		Model: model, Output: []any{}, ParallelToolCalls: ec.parallel, Reasoning: ec.reasoning,
		Temperature: ec.temperature, Text: orRaw(ec.text, defaultTextFormat), ToolChoice: orRaw(ec.toolChoice, defaultToolChoice),
		Tools: orRaw(ec.tools, emptyArray), TopP: ec.topP, Truncation: "disabled", User: ec.user,
		Metadata: orRaw(ec.metadata, emptyObject)}
}

func orRaw(v, def json.RawMessage) json.RawMessage {
	if v == nil {
		return def
	}
	return v
}

// respUsage renders u as the Responses usage.
func respUsage(u Usage) *responses.Usage {
	return &responses.Usage{InputTokens: u.Input, OutputTokens: u.Output, TotalTokens: u.Input + u.Output,
		InputTokensDetails:  responses.InputTokensDetails{CachedTokens: u.CacheRead, CacheWriteTokens: u.CacheWrite},
		OutputTokensDetails: responses.OutputTokensDetails{ReasoningTokens: u.Reasoning}}
}

// conclude sets the response's final status from the finish reason: a length
// is incomplete (max_output_tokens), a filter incomplete (content_filter),
// anything else completed at now.
func conclude(r *responses.Response, f finish, now int64) string {
	switch f {
	case finishLength:
		r.Status, r.IncompleteDetails = responses.StatusIncomplete, &responses.IncompleteDetails{Reason: responses.ReasonMaxOutputTokens}
		return responses.EventIncomplete
	case finishContentFilter:
		r.Status, r.IncompleteDetails = responses.StatusIncomplete, &responses.IncompleteDetails{Reason: responses.ReasonContentFilter}
		return responses.EventIncomplete
	}
	r.Status, r.CompletedAt = responses.StatusCompleted, &now
	return responses.EventCompleted
}

// reply implements encoder: reasoning items (one per signed block when the
// upstream signs them), one message with the text and refusal parts, then the
// tool calls.
func (e *responsesEncoder) reply(r *reply, env *env) ([]byte, error) {
	resp := e.object(env.answerID(r.id, "resp_"), r.model, env.created(r.created))
	resp.Output = e.replyReasoning(r, env)
	status := responses.StatusCompleted
	if r.finish == finishLength {
		status = responses.StatusIncomplete
	}
	var parts []any
	if r.text != "" || (r.hasText && r.refusal == "" && len(r.tools) == 0) {
		parts = append(parts, outputText(r.text))
	}
	if r.refusal != "" {
		parts = append(parts, responses.Refusal{Type: responses.PartRefusal, Refusal: r.refusal})
	}
	if parts != nil {
		resp.Output = append(resp.Output, responses.OutputMessage{ID: env.newID("msg_"), Type: responses.ItemMessage,
			Status: status, Content: parts, Role: "assistant"})
	}
	for _, tc := range r.tools {
		resp.Output = append(resp.Output, e.call(env, tc.id, tc.name, tc.args, customInputOf(tc.args), status))
	}
	conclude(resp, r.finish, env.now().Unix())
	resp.Usage = respUsage(r.usage)
	return marshal("response", resp)
}

// replyReasoning is a reply's reasoning as reasoning items.
func (e *responsesEncoder) replyReasoning(r *reply, env *env) []any {
	items := []any{}
	if len(r.thoughts) == 0 && r.reasoning != "" {
		return append(items, e.reasoningItem(env.newID("rs_"), r.reasoning, "", false))
	}
	for _, t := range r.thoughts {
		if t.redacted && !e.carry {
			continue
		}
		items = append(items, e.reasoningItem(env.newID("rs_"), t.text, t.signature, t.redacted))
	}
	return items
}

// reasoningItem is a done reasoning item: its text as the summary (none for a
// redacted block), and the block carried in encrypted_content when it can be.
func (e *responsesEncoder) reasoningItem(id, text, signature string, redacted bool) responses.ReasoningItem {
	it := responses.ReasoningItem{ID: id, Type: responses.ItemReasoning, Summary: []responses.SummaryText{}}
	if text != "" && !redacted {
		it.Summary = append(it.Summary, responses.SummaryText{Type: responses.PartSummaryText, Text: text})
	}
	if e.carry && (signature != "" || redacted) {
		it.EncryptedContent = carryThinking(text, signature, redacted)
	}
	return it
}

// call is a done tool call item: a custom tool call for a custom tool's name
// (input read from the arguments), else a function call.
func (e *responsesEncoder) call(env *env, callID, name, args, input, status string) any {
	if e.customs[name] {
		return responses.CustomToolCall{ID: env.newID("ctc_"), Type: responses.ItemCustomToolCall, Status: status,
			CallID: env.id(callID, "call_"), Input: input, Name: name}
	}
	if args == "" {
		args = "{}"
	}
	return responses.FunctionCall{ID: env.newID("fc_"), Type: responses.ItemFunctionCall, Status: status,
		Arguments: args, CallID: env.id(callID, "call_"), Name: name}
}

func outputText(text string) responses.OutputText {
	return responses.OutputText{Type: responses.PartOutputText, Annotations: []any{}, Logprobs: []any{}, Text: text}
}

// write implements encoder: created and in_progress first whatever the first
// delta is, then the items, then the terminal event.
func (e *responsesEncoder) write(o *out, d *delta) {
	if !e.started {
		start := delta{kind: kindStart}
		if d.kind == kindStart {
			start = *d
		}
		e.begin(o, &start)
	}
	switch d.kind {
	case kindText:
		e.text(o, responses.PartOutputText, d.text)
	case kindRefusal:
		e.text(o, responses.PartRefusal, d.text)
	case kindReasoning:
		e.reasoning(o, d.text)
	case kindSignature:
		e.signature(o, d.text)
	case kindRedacted:
		e.redacted(o, d.text)
	case kindToolCall:
		e.openCall(o, d)
	case kindToolArgs:
		if e.item.kind == itemCall && e.item.tool == d.tool {
			e.arguments(o, d.text)
		}
	case kindFinish:
		e.text(o, responses.PartOutputText, d.text)
		e.finish = d.finish
		e.close(o)
	case kindDone:
		e.close(o)
		e.terminal(o, d.usage)
	}
}

// begin sends response.created and response.in_progress.
func (e *responsesEncoder) begin(o *out, d *delta) {
	e.started = true
	e.resp = e.object(o.env.answerID(d.id, "resp_"), d.model, o.env.created(d.created))
	for _, typ := range []string{responses.EventCreated, responses.EventInProgress} {
		e.emit(o, typ, &responses.ResponseEvent{Type: typ, Response: e.resp, SequenceNumber: e.seq})
	}
}

// emit appends one event; v's SequenceNumber must be e.seq.
func (e *responsesEncoder) emit(o *out, typ string, v any) {
	o.event(typ, v)
	e.seq++
}

// terminal sends the response with everything output and the usage, as
// response.completed or response.incomplete.
func (e *responsesEncoder) terminal(o *out, u Usage) {
	typ := conclude(e.resp, e.finish, o.env.now().Unix())
	e.resp.Output, e.resp.Usage = e.output, respUsage(u)
	if e.resp.Output == nil {
		e.resp.Output = []any{}
	}
	e.emit(o, typ, &responses.ResponseEvent{Type: typ, Response: e.resp, SequenceNumber: e.seq})
}

// fail ends a stream that failed after it started: an error event, then
// response.failed with the items done so far.
func (e *responsesEncoder) fail(o *out, code, message string) {
	if !e.started {
		e.begin(o, &delta{kind: kindStart})
	}
	var c *string
	if code != "" {
		c = &code
	}
	e.emit(o, responses.EventError, &responses.ErrorEvent{Type: responses.EventError, Code: c, Message: message, SequenceNumber: e.seq})
	e.resp.Status, e.resp.Error = responses.StatusFailed, &responses.Error{Code: code, Message: message}
	e.resp.Output = e.output
	if e.resp.Output == nil {
		e.resp.Output = []any{}
	}
	e.emit(o, responses.EventFailed, &responses.ResponseEvent{Type: responses.EventFailed, Response: e.resp, SequenceNumber: e.seq})
}

// keep counts n more bytes of output kept; past maxResponsesOutput the stream
// fails.
func (e *responsesEncoder) keep(o *out, n int) bool {
	e.size += n
	if e.size > maxResponsesOutput && o.err == nil {
		o.err = &StreamError{Type: "server_error", Message: fmt.Sprintf(
			"the answer exceeds the %d MiB a translated Responses stream can hold", maxResponsesOutput>>20)}
	}
	return o.err == nil
}

// respFailer is the Fail method of the translators of a Responses client.
type respFailer struct {
	a   *answer
	enc *responsesEncoder
}

// Fail ends a stream that failed after its first event: it appends an error
// event and response.failed, numbered after the events sent (docs/protocols.md §15.3). The
// gateway calls it instead of writing its own in-band error event.
func (f respFailer) Fail(dst []byte, code, message string) []byte {
	o := out{buf: dst, env: &f.a.env, js: &f.a.js}
	f.enc.fail(&o, code, message)
	if o.err != nil {
		return dst
	}
	return o.buf
}

// Failer is implemented by the translators whose client protocol ends a failed
// stream with events that continue the stream (the Responses API numbers its
// events and repeats the response): the gateway appends what Fail returns rather
// than its own error event. code is the error's code (may be empty).
type Failer interface {
	Fail(dst []byte, code, message string) []byte
}
