// Package anthropic holds the Anthropic Messages wire format: the request,
// response, content block, stream event, usage and error types, and the facts
// llmrouter needs about the API, on the client's side and the upstream's: paths,
// authentication and the version header, the error envelope, what a stream event
// is, where a request's texts are, how a transcript and usage are read (the methods
// of API). It imports only the standard library, gjson and package wire.
package anthropic

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/llmrouter/llmrouter/internal/wire"
)

// API is the Messages API as the router speaks it, to clients and to upstreams.
// Messages is its value.
type API struct{}

// Messages is the Messages API: POST /v1/messages and /v1/messages/count_tokens.
var Messages = API{}

// Upstream paths, relative to an endpoint such as https://api.anthropic.com.
const (
	MessagesPath    = "/v1/messages"
	CountTokensPath = "/v1/messages/count_tokens"
)

// version is sent as anthropic-version when the client did not choose one.
const version = "2023-06-01"

// Path returns the upstream path of an operation, whatever the model and streaming.
func (API) Path(op wire.Operation, _ string, _ bool) (string, bool) {
	switch op {
	case wire.Generate:
		return MessagesPath, true
	case wire.CountTokens:
		return CountTokensPath, true
	}
	return "", false
}

// SetAuth puts key in x-api-key (when there is one) and makes sure anthropic-version
// is present, which every request needs: the client's own version is kept.
func (API) SetAuth(h http.Header, key string) {
	if key != "" {
		h.Set("X-Api-Key", key)
	}
	if h.Get("Anthropic-Version") == "" {
		h.Set("Anthropic-Version", version)
	}
}

// Texts says where a request keeps its texts: the system field and messages'
// content, strings or text blocks, and the text of tool_result blocks.
func (API) Texts() wire.Texts {
	return wire.Texts{Messages: wire.Content, System: wire.Content, ToolResults: true}
}

// Answer names what marks a non-streaming answer of op: a message has "type":
// "message" and, whole, content; a token count has input_tokens.
func (API) Answer(op wire.Operation) (marker, want, member string) {
	if op == wire.CountTokens {
		return "type", "", "input_tokens"
	}
	return "type", "message", "content.#"
}

// eventName is an event's name, or its data.type when the `event:` line is missing.
func eventName(name string, data []byte) string {
	if name != "" {
		return name
	}
	return gjson.GetBytes(data, "type").String()
}

// Content reports whether a stream event is real output (docs/protocols.md §3.3):
// a delta, a block's end, the message's delta or stop, or the start of a block that
// is not an (empty) text or thinking block; message_start and pings are not.
func (API) Content(name string, data []byte) bool {
	switch eventName(name, data) {
	case EventContentBlockDelta, EventContentBlockStop, EventMessageDelta, EventMessageStop:
		return true
	case EventContentBlockStart:
		t := gjson.GetBytes(data, "content_block.type").String()
		return t != "text" && t != "thinking"
	}
	return false
}

// Terminal reports whether a stream event ends the stream: message_stop.
func (API) Terminal(name string, data []byte) bool { return eventName(name, data) == EventMessageStop }

// StreamError reads an in-band `event: error`. The message is the error's own, or
// the event's data when it has none.
func (API) StreamError(name string, data []byte) (typ, message string, ok bool) {
	if eventName(name, data) != EventError {
		return "", "", false
	}
	typ, message, _ = parseError(data)
	if message == "" {
		message = string(data)
	}
	return typ, message, true
}

// ParseError reads an Anthropic error body (or `event: error` data); ok is false
// when body is not one.
func (API) ParseError(body []byte) (typ, message string, ok bool) { return parseError(body) }

func parseError(body []byte) (typ, message string, ok bool) {
	e := gjson.GetBytes(body, "error")
	if !e.IsObject() {
		return "", "", false
	}
	return e.Get("type").String(), e.Get("message").String(), true
}

// NewMeter returns a meter of an answer's usage: a message's usage, or in a stream
// message_start's (the input) merged with message_delta's (cumulative).
func (API) NewMeter() wire.Meter { return new(Usage) }

// Read merges the usage data carries, if any, into u (readUsage).
func (u *Usage) Read(data []byte) bool { return readUsage(u, data) }

var usageMembers = []string{"usage"}

// UsageMembers names the top-level members of an answer that carry its usage.
func (API) UsageMembers() []string { return usageMembers }

// RequestField names the member a client's request must carry: messages, which
// must be an array when asking for an answer.
func (API) RequestField(op wire.Operation) (name string, array bool) {
	return "messages", op == wire.Generate
}

// Claims reports whether a request's headers say it is Anthropic's: its SDKs send
// anthropic-version with every request.
func (API) Claims(h http.Header) bool { return h.Get("Anthropic-Version") != "" }

// ThinkFields names the members of a Messages request that ask for thinking
// (thinking) and set its level (output_config.effort): what the gateway lists
// as dropped when an upstream that cannot think has the request relaxed.
func (API) ThinkFields() (thinking, level string) { return "thinking", "output_config.effort" }

// ForwardsHeader reports whether a client's header, its name canonical, may go
// to an upstream called with protocol upstream. The API's own headers (every Anthropic-* header:
// anthropic-version, anthropic-beta, anthropic-dangerous-direct-browser-access)
// and those of its SDKs (X-Stainless-*: the SDK's package, version, language,
// runtime, retry count and timeout, which describe the client's HTTP client and
// not the router, which makes a translated request) go to an Anthropic upstream
// only. An application's headers (User-Agent, Claude Code's X-App and
// X-Claude-Code-Session-Id) are not the protocol's: they go everywhere.
func (API) ForwardsHeader(name string, upstream wire.Protocol) bool {
	if strings.HasPrefix(name, "Anthropic-") || strings.HasPrefix(name, "X-Stainless-") {
		return upstream == wire.AnthropicMessages
	}
	return true
}

// ModelInfo is one model of GET /v1/models.
type ModelInfo struct {
	Type        string `json:"type"`
	ID          string `json:"id"`
	DisplayName string `json:"display_name"`
	CreatedAt   string `json:"created_at"`
}

// ModelList is the body of GET /v1/models: one page, the whole list.
type ModelList struct {
	Data    []ModelInfo `json:"data"`
	HasMore bool        `json:"has_more"`
	FirstID *string     `json:"first_id"`
	LastID  *string     `json:"last_id"`
}

// Models renders the model list a client asked for. Anthropic's list has no owner
// and a creation date the router does not know: the epoch.
func (a API) Models(ids, _ []string) any {
	data := make([]ModelInfo, 0, len(ids))
	for _, id := range ids {
		data = append(data, a.Model(id, "").(ModelInfo))
	}
	var first, last *string
	if len(ids) > 0 {
		first, last = &ids[0], &ids[len(ids)-1]
	}
	return ModelList{Data: data, FirstID: first, LastID: last}
}

// Model renders one model a client asked for (GET /v1/models/{id}): named by
// its id, created at the epoch (the router does not know when).
func (API) Model(id, _ string) any {
	return ModelInfo{Type: "model", ID: id, DisplayName: id, CreatedAt: "1970-01-01T00:00:00Z"}
}

// ModelsPath is where Anthropic lists the models a key may use: the first page,
// of the most models a page holds (1000, the API's largest limit).
func (API) ModelsPath() string { return "/v1/models?limit=1000" }

// ParseModels reads the ids of a model list body, {"data":[{"type":"model","id"}]}
// (wire.ParseModelIDs).
func (API) ParseModels(body []byte) ([]string, error) { return wire.ParseModelIDs(body) }

// SameModel reports whether a model name a client asks for is the listed one.
func (API) SameModel(listed, asked string) bool { return listed == asked }

// ErrorResponse is an error body, and the data of an in-band `event: error`:
// {"type":"error","error":{"type","message"}}.
type ErrorResponse struct {
	Type  string `json:"type"`
	Error Error  `json:"error"`
}

// Error is the error object of an ErrorResponse.
type Error struct {
	Type    string        `json:"type"`
	Message string        `json:"message"`
	Details *ErrorDetails `json:"details,omitempty"`
}

// ErrorDetails is an error's machine-readable cause, error.details: clients
// branch on ErrorCode (anthropic-sdk-go reads it as Error.Details, an
// ErrorDetailsUnion; its message threads resend a turn on some codes).
type ErrorDetails struct {
	ErrorCode string `json:"error_code"`
	// Unsupported names the request fields a thread_unsupported_request error
	// is about.
	Unsupported []string `json:"unsupported,omitempty"`
}

// ErrorCodeThreadUnsupported is the error_code of a 400 invalid_request_error
// for a request whose thread (server-held conversation state) cannot be kept
// with what else it asks for. anthropic-sdk-go's BetaMessageThread, and the
// TypeScript SDK's toolRunner, then send the turn again with the whole history
// and no thread.
const ErrorCodeThreadUnsupported = "thread_unsupported_request"

// ErrorBody renders an error in Anthropic's envelope, for a client:
// {"type":"error","error":{"type","message"}}. An empty typ is the type Anthropic
// uses for status; Anthropic's envelope has no param.
func (API) ErrorBody(status int, typ, _ string, message string) []byte {
	if typ == "" {
		typ = errorType(status)
	}
	return ErrorBodyDetails(typ, message, nil)
}

// ErrorBodyWith renders an error whose error.details is details, for a client:
// an *ErrorDetails (any other value has no place in the envelope and is left
// out). An empty typ is the type Anthropic uses for status.
func (API) ErrorBodyWith(status int, typ, message string, details any) []byte {
	d, _ := details.(*ErrorDetails)
	if typ == "" {
		typ = errorType(status)
	}
	return ErrorBodyDetails(typ, message, d)
}

// ErrorBodyDetails renders {"type":"error","error":{"type","message","details"}};
// nil details are left out.
func ErrorBodyDetails(typ, message string, details *ErrorDetails) []byte {
	b, _ := json.Marshal(ErrorResponse{Type: "error", Error: Error{Type: typ, Message: message, Details: details}})
	return b
}

// ErrorEvent renders an error as the in-band event that ends a stream, for a
// client: event: error.
func (a API) ErrorEvent(status int, typ, param, message string) []byte {
	b := append([]byte("event: error\ndata: "), a.ErrorBody(status, typ, param, message)...)
	return append(b, "\n\n"...)
}

// IsError reports whether body is already a whole, valid error in Anthropic's
// envelope ("type":"error" and an error object with a message), to be relayed to a
// client as it is.
func (API) IsError(body []byte) bool {
	if !gjson.ValidBytes(body) {
		return false
	}
	r := gjson.GetManyBytes(body, "type", "error", "error.message")
	return r[0].Str == "error" && r[1].IsObject() && r[2].Type == gjson.String
}

// KnowsErrorType reports whether an upstream's error type may reach an Anthropic
// client as it is: one of the types Anthropic's SDKs map to an error class.
func (API) KnowsErrorType(typ string) bool {
	switch typ {
	case "overloaded_error", "api_error", "rate_limit_error", "authentication_error",
		"permission_error", "not_found_error", "timeout_error":
		return true
	}
	return false
}

// errorType returns the Anthropic error type for an HTTP status.
func errorType(status int) string {
	switch status {
	case 400, 422:
		return "invalid_request_error"
	case 401:
		return "authentication_error"
	case 403:
		return "permission_error"
	case 404:
		return "not_found_error"
	case 413:
		return "request_too_large"
	case 429:
		return "rate_limit_error"
	case 504:
		return "timeout_error"
	case 529:
		return "overloaded_error"
	}
	if status >= 500 {
		return "api_error"
	}
	return "invalid_request_error"
}

// Transcribe reads one event a client was sent into t, for the response-body log:
// text, thinking and tool_use blocks, the stop reason, usage (message_start's and
// message_delta's) and an in-band error. Events are read by name, or by data.type
// when the name is missing; others say nothing.
func (API) Transcribe(name string, data []byte, t wire.Transcript) {
	r := gjson.ParseBytes(data)
	if name == "" {
		name = r.Get("type").Str
	}
	switch name {
	case EventMessageStart:
		if u := r.Get("message.usage"); u.IsObject() {
			t.Usage(u.Raw)
		}
	case EventContentBlockStart:
		transcribeBlock(r.Get("index").Int(), r.Get("content_block"), t)
	case EventContentBlockDelta:
		transcribeDelta(r.Get("index").Int(), r.Get("delta"), t)
	case EventMessageDelta:
		if s := r.Get("delta.stop_reason"); s.Type == gjson.String {
			t.Finish(s.Str)
		}
		if u := r.Get("usage"); u.IsObject() {
			t.Usage(u.Raw)
		}
	case EventError:
		t.Error(r.Get("error").Raw)
	}
}

// transcribeBlock reads a block's start. tool_use (and server_tool_use,
// mcp_tool_use) blocks open tool calls; text and thinking blocks start empty in
// practice, but any initial text is kept.
func transcribeBlock(index int64, b gjson.Result, t wire.Transcript) {
	switch typ := b.Get("type").Str; {
	case typ == "text":
		t.Text(b.Get("text").Str)
	case typ == "thinking":
		t.Reasoning(b.Get("thinking").Str)
	case strings.HasSuffix(typ, "tool_use"):
		t.ToolCall(index, b.Get("id").Str, b.Get("name").Str)
	}
}

func transcribeDelta(index int64, d gjson.Result, t wire.Transcript) {
	switch d.Get("type").Str {
	case "text_delta":
		t.Text(d.Get("text").Str)
	case "thinking_delta":
		t.Reasoning(d.Get("thinking").Str)
	case "input_json_delta":
		t.ToolArgs(index, d.Get("partial_json").Str)
	}
}
