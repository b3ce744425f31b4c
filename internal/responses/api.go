package responses

import (
	"cmp"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/llmrouter/llmrouter/internal/openai"
	"github.com/llmrouter/llmrouter/internal/wire"
)

// API is the Responses API as the router speaks it, to clients (POST
// /v1/responses and the calls on stored responses) and to upstreams (OpenAI, and
// servers that serve only this API). Responses is its value. Its error envelope
// and model list are OpenAI's (package openai): the same SDKs read them.
type API struct{}

// Responses is the Responses API.
var Responses = API{}

// Path returns the upstream path of an operation, whatever the model and
// streaming: /responses for an answer and, under it, the token count and the
// calls on a stored response (the caller appends /{id}... to Path for these).
func (API) Path(op wire.Operation, _ string, _ bool) (string, bool) {
	switch op {
	case wire.Generate, wire.Stored:
		return Path, true
	case wire.CountTokens:
		return InputTokensPath, true
	}
	return "", false
}

// SetAuth puts key (when there is one) in Authorization: Bearer, as every
// OpenAI API reads it; the API requires no other header.
func (API) SetAuth(h http.Header, key string) { openai.Chat.SetAuth(h, key) }

// Texts says where a request keeps its texts: instructions, and input, a string
// or message items with a string or text parts (input_text, output_text), and
// the output of function and custom tool calls (docs/protocols.md §15.1).
func (API) Texts() wire.Texts { return wire.Texts{Instructions: true, Input: true} }

// Answer names what marks a non-streaming answer of op: a response has "object":
// "response" and, whole, an output array; a token count is
// "response.input_tokens" with input_tokens. The calls on a stored response
// answer several kinds (a response, a deletion, a list of items): none is
// checked.
func (API) Answer(op wire.Operation) (marker, want, member string) {
	switch op {
	case wire.CountTokens:
		return "object", ObjectInputTokens, "input_tokens"
	case wire.Stored:
		return "", "", ""
	}
	return "object", ObjectResponse, "output.#"
}

// ObjectInputTokens is the "object" member of a token count [SDK
// InputTokenCountResponse].
const ObjectInputTokens = "response.input_tokens"

// Content reports whether a stream event is past the commit point (IsContent).
func (API) Content(name string, data []byte) bool { return IsContent(name, data) }

// Terminal reports whether a stream event ends the stream: response.completed,
// response.incomplete or response.failed.
func (API) Terminal(name string, data []byte) bool { return IsTerminal(EventType(name, data)) }

// StreamError reads an in-band failure, an error event or response.failed
// (ParseEventError), whose code is the error's type; or, in a body (no event
// type), OpenAI's error object answered with a 2xx in place of a response.
func (API) StreamError(name string, data []byte) (typ, message string, ok bool) {
	if typ, message, ok = ParseEventError(name, data); ok || name != "" {
		return typ, message, ok
	}
	if r := gjson.GetManyBytes(data, "type", "object"); r[0].Exists() || r[1].Exists() {
		return "", "", false // an event, or a response whose error member is its own
	}
	return openai.Chat.StreamError(name, data)
}

// ParseError reads an error body, OpenAI's envelope; ok is false when body is
// not one.
func (API) ParseError(body []byte) (typ, message string, ok bool) {
	return openai.Chat.ParseError(body)
}

// NewMeter returns a meter of an answer's usage: a response body's usage, or in
// a stream the terminal event's response.usage.
func (API) NewMeter() wire.Meter { return new(Usage) }

// Read keeps the usage data carries, if any (ReadUsage).
func (u *Usage) Read(data []byte) bool {
	v, ok := ReadUsage(data)
	if ok {
		*u = v
	}
	return ok
}

var usageMembers = []string{"usage"}

// UsageMembers names the top-level members of an answer that carry its usage.
func (API) UsageMembers() []string { return usageMembers }

// RequestField names the member a client's request must carry besides model:
// none, since input is optional in the spec (a stored prompt or a previous
// response may stand for it); a translated route requires it (package translate).
func (API) RequestField(wire.Operation) (name string, array bool) { return "", false }

// Claims reports whether a request's headers say it is a Responses request:
// none does (the OpenAI SDKs send the same headers to every API).
func (API) Claims(http.Header) bool { return false }

// Models renders the model list in OpenAI's format.
func (API) Models(ids, owners []string) any { return openai.Chat.Models(ids, owners) }

// Model renders one model in OpenAI's format (GET /v1/models/{id}).
func (API) Model(id, owner string) any { return openai.Chat.Model(id, owner) }

// ThinkFields names the member of a Responses request that asks for reasoning
// and sets its level (reasoning.effort, both): what the gateway lists as
// dropped when an upstream relaxes the request.
func (API) ThinkFields() (thinking, level string) { return "reasoning.effort", "reasoning.effort" }

// ForwardsHeader reports whether a client's header (its canonical name) may go
// to an upstream called with protocol upstream: OpenAI's own headers (OpenAI-*)
// to every OpenAI API, as package openai says, and those of its SDKs
// (X-Stainless-*) to a Responses upstream only.
func (API) ForwardsHeader(name string, upstream wire.Protocol) bool {
	if strings.HasPrefix(name, "X-Stainless-") {
		return upstream == wire.OpenAIResponses
	}
	return openai.Chat.ForwardsHeader(name, upstream)
}

// ErrorBody renders an error in OpenAI's envelope, which the Responses API uses
// even for a request that asked for a stream (docs/protocols.md §15.2).
func (API) ErrorBody(status int, typ, param, message string) []byte {
	return openai.Chat.ErrorBody(status, typ, param, message)
}

// ErrorEvent renders an error event ending a stream of which nothing is known:
// `event: error` numbered 0. A relayed or translated stream is ended by its
// Follower or translator instead, with an error event and response.failed
// numbered after the events sent.
func (API) ErrorEvent(status int, typ, param, message string) []byte {
	code := Responses.FailureCode(status, typ)
	return appendEvent(nil, EventError, ErrorEvent{Type: EventError, Code: nullable(code), Message: message, Param: nullable(param)})
}

// FailureCode is the code a stream failure carries in the error event and
// response.failed: the error type when there is one, else the code, or the type,
// OpenAI's envelope gives the status (a failure the HTTP status would have said
// before the stream began).
func (API) FailureCode(status int, typ string) string {
	t, code := openai.ErrorType(status)
	return cmp.Or(typ, code, t)
}

// IsError reports whether body is a whole, valid error in OpenAI's envelope.
func (API) IsError(body []byte) bool { return openai.Chat.IsError(body) }

// KnowsErrorType reports whether an upstream's error type may reach a client as
// it is: those of OpenAI's envelope.
func (API) KnowsErrorType(typ string) bool { return openai.Chat.KnowsErrorType(typ) }

// Follow returns a follower of a stream relayed to a client as it is: a
// Progress, which ends a failed stream with the events the API itself ends one
// with.
func (API) Follow() wire.Follower { return NewProgress() }

// Transcribe reads one event a client was sent into t, for the response-body
// log: output text and refusals, reasoning summary and text, function and custom
// tool calls (keyed by output_index), the terminal status or incomplete reason
// with the usage, and in-band errors.
func (API) Transcribe(name string, data []byte, t wire.Transcript) {
	r := gjson.ParseBytes(data)
	typ := r.Get("type").Str
	if typ == "" {
		typ = name
	}
	switch typ {
	case EventOutputTextDelta, EventRefusalDelta:
		t.Text(r.Get("delta").Str)
	case EventSummaryTextDelta, EventReasoningTextDelta:
		t.Reasoning(r.Get("delta").Str)
	case EventOutputItemAdded:
		item := r.Get("item")
		if k := item.Get("type").Str; k == ItemFunctionCall || k == ItemCustomToolCall {
			t.ToolCall(r.Get("output_index").Int(), item.Get("call_id").Str, item.Get("name").Str)
		}
	case EventArgumentsDelta, EventCustomInputDelta:
		t.ToolArgs(r.Get("output_index").Int(), r.Get("delta").Str)
	case EventCompleted, EventIncomplete:
		resp := r.Get("response")
		t.Finish(cutFinish(resp))
		if u := resp.Get("usage"); u.IsObject() {
			t.Usage(u.Raw)
		}
	case EventError:
		if e := r.Get("error"); e.IsObject() {
			t.Error(e.Raw)
		} else {
			t.Error(r.Raw)
		}
	case EventFailed:
		t.Error(r.Get("response.error").Raw)
	}
}

// cutFinish is a terminal response's status, with the reason it is incomplete.
func cutFinish(resp gjson.Result) string {
	s := resp.Get("status").Str
	if reason := resp.Get("incomplete_details.reason").Str; reason != "" {
		return s + ": " + reason
	}
	return s
}

// appendEvent appends one SSE event, `event: typ` and its data as JSON.
func appendEvent(dst []byte, typ string, v any) []byte {
	b, _ := json.Marshal(v)
	return appendRaw(dst, typ, b)
}

// appendRaw appends one SSE event of data already JSON.
func appendRaw(dst []byte, typ string, data []byte) []byte {
	dst = append(dst, "event: "...)
	dst = append(dst, typ...)
	dst = append(dst, "\ndata: "...)
	dst = append(dst, data...)
	return append(dst, "\n\n"...)
}

func nullable(s string) *string {
	if s = strings.TrimSpace(s); s == "" {
		return nil
	}
	return &s
}
