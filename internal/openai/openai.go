// Package openai holds the OpenAI wire format: the Chat Completions and legacy
// Completions request, response, chunk, usage and error types, and the facts
// llmrouter needs about both APIs, on the client's side and the upstream's: paths,
// authentication, the error envelope, what a stream event is, where a request's
// texts are, how a transcript and usage are read (the methods of API). It imports
// only the standard library, gjson, sjson and package wire.
package openai

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/llmrouter/llmrouter/internal/wire"
)

// API is one of OpenAI's two HTTP APIs as the router speaks it, to clients and to
// upstreams (OpenAI itself and OpenAI-compatible servers). Chat and Completions are
// its values.
type API struct{ completions bool }

// The APIs.
var (
	Chat        = API{}                  // POST /v1/chat/completions
	Completions = API{completions: true} // POST /v1/completions (legacy)
)

// Upstream paths, relative to an endpoint that already ends in /v1.
const (
	ChatPath        = "/chat/completions"
	CompletionsPath = "/completions"
	EmbeddingsPath  = "/embeddings"
	// InputTokensPath is where OpenAI counts a request's input tokens: the
	// Responses API's POST /v1/responses/input_tokens (responses.InputTokensPath).
	// Chat Completions has no count of its own, so a count needs an endpoint that
	// serves the Responses API (RequiredAPI).
	InputTokensPath = "/responses/input_tokens"
)

// objectInputTokens is the "object" of an input token count
// (responses.ObjectInputTokens).
const objectInputTokens = "response.input_tokens"

// Object names, the "object" member of responses and chunks.
const (
	ObjectChatCompletion = "chat.completion"
	ObjectChatChunk      = "chat.completion.chunk"
	ObjectTextCompletion = "text_completion"
	ObjectList           = "list"      // a list: of embeddings, of models
	ObjectEmbedding      = "embedding" // one embedding of a list
)

// Done is the data of the event that ends a stream: data: [DONE].
const Done = "[DONE]"

var doneData = []byte(Done)

// Path returns the upstream path of an operation, whatever the model and
// streaming: generation at the API's path, embeddings at /embeddings whichever
// API the client spoke, and a Chat request's token count with the Responses
// API (InputTokensPath, RequiredAPI).
func (a API) Path(op wire.Operation, _ string, _ bool) (string, bool) {
	switch {
	case op == wire.Embed:
		return EmbeddingsPath, true
	case op == wire.CountTokens && !a.completions:
		return InputTokensPath, true
	case op != wire.Generate:
		return "", false
	case a.completions:
		return CompletionsPath, true
	}
	return ChatPath, true
}

// RequiredAPI names the OpenAI API (a model's apis entry) an endpoint must serve
// for op: "responses" for a token count (InputTokensPath); "" for the API's own
// operations.
func (API) RequiredAPI(op wire.Operation) string {
	if op == wire.CountTokens {
		return "responses"
	}
	return ""
}

// SetAuth puts key in the header OpenAI reads, Authorization: Bearer. An empty key
// sets nothing: OpenAI requires no other header.
func (API) SetAuth(h http.Header, key string) {
	if key != "" {
		h.Set("Authorization", "Bearer "+key)
	}
}

// Texts says where a request keeps its texts: chat messages' content (a string or
// text parts), or the legacy prompt.
func (a API) Texts() wire.Texts {
	if a.completions {
		return wire.Texts{Prompt: true}
	}
	return wire.Texts{Messages: wire.Content}
}

// Answer names what marks a non-streaming answer of op: its "object" member must
// be chat.completion (text_completion), and a whole answer has choices; an
// embeddings answer is a list with data, a token count a response.input_tokens.
func (a API) Answer(op wire.Operation) (marker, want, member string) {
	switch {
	case op == wire.Embed:
		return "object", ObjectList, "data.#"
	case op == wire.CountTokens:
		return "object", objectInputTokens, "input_tokens"
	case a.completions:
		return "object", ObjectTextCompletion, "choices.#"
	}
	return "object", ObjectChatCompletion, "choices.#"
}

// Content reports whether a stream chunk is real output (docs/protocols.md §1.3):
// text, a refusal, reasoning, tool calls, a finish reason, usage or [DONE]; a
// role-only first chunk is not.
func (API) Content(_ string, data []byte) bool {
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

// Terminal reports whether a stream event ends the stream: data: [DONE].
func (API) Terminal(_ string, data []byte) bool { return bytes.Equal(data, doneData) }

// StreamError reads an in-band error chunk, {"error":{…}}; "error": null is none.
// The message is the error's own, or its raw object when it has none.
func (API) StreamError(_ string, data []byte) (typ, message string, ok bool) {
	e := gjson.GetBytes(data, "error")
	if !e.Exists() || e.Type == gjson.Null {
		return "", "", false
	}
	typ, message, _ = parseError(data)
	if message == "" {
		message = e.Raw
	}
	return typ, message, true
}

// ParseError reads an OpenAI error body; ok is false when body is not one.
func (API) ParseError(body []byte) (typ, message string, ok bool) { return parseError(body) }

func parseError(body []byte) (typ, message string, ok bool) {
	e := gjson.GetBytes(body, "error")
	if !e.IsObject() {
		return "", "", false
	}
	return e.Get("type").String(), e.Get("message").String(), true
}

// NewMeter returns a meter of an answer's usage: the usage object of a body or of
// the include_usage chunk.
func (API) NewMeter() wire.Meter { return new(Usage) }

// Read keeps the usage data carries, if any (readUsage).
func (u *Usage) Read(data []byte) bool {
	v, ok := readUsage(data)
	if ok {
		*u = v
	}
	return ok
}

var usageMembers = []string{"usage"}

// UsageMembers names the top-level members of an answer that carry its usage.
func (API) UsageMembers() []string { return usageMembers }

// RequestField names the member a client's request must carry: chat messages,
// the legacy prompt, or the input to embed. None has to be an array (a prompt
// or an input may be a string).
func (a API) RequestField(op wire.Operation) (name string, array bool) {
	switch {
	case op == wire.Embed:
		return "input", false
	case a.completions:
		return "prompt", false
	}
	return "messages", false
}

// Claims reports whether a request's headers say it is OpenAI's: nothing does
// (every SDK sends Authorization, as Anthropic's may), so a request no endpoint
// took is OpenAI's only when no other protocol claims it.
func (API) Claims(http.Header) bool { return false }

// ThinkFields names the member of a Chat request that asks for reasoning and
// sets its level (reasoning_effort, both); none for legacy Completions. The
// gateway lists it as dropped when an upstream relaxes the request.
func (a API) ThinkFields() (thinking, level string) {
	if a.completions {
		return "", ""
	}
	return "reasoning_effort", "reasoning_effort"
}

// ForwardsHeader reports whether a client's header may go to an upstream called
// with protocol upstream. OpenAI's own headers (every OpenAI-* header:
// OpenAI-Organization, OpenAI-Project, OpenAI-Beta) name the account and its
// features on every OpenAI API, and go to those only; those of its SDKs
// (X-Stainless-*: the SDK's package, version, language, runtime, retry count and
// timeout, which describe the client's HTTP client, not the router, which makes a
// translated request) go to an upstream of the client's own API only.
// name is canonical (http.CanonicalHeaderKey).
func (a API) ForwardsHeader(name string, upstream wire.Protocol) bool {
	switch {
	case strings.HasPrefix(name, "Openai-"):
		return upstream == wire.OpenAIChat || upstream == wire.OpenAICompletions || upstream == wire.OpenAIResponses
	case strings.HasPrefix(name, "X-Stainless-"):
		return upstream == a.protocol()
	}
	return true
}

// protocol is the wire protocol of a.
func (a API) protocol() wire.Protocol {
	if a.completions {
		return wire.OpenAICompletions
	}
	return wire.OpenAIChat
}

// Model is one model of GET /v1/models.
type Model struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

// ModelList is the body of GET /v1/models.
type ModelList struct {
	Object string  `json:"object"`
	Data   []Model `json:"data"`
}

// Models renders the model list a client asked for: ids, each owned by the
// provider at the same index of owners.
func (a API) Models(ids, owners []string) any {
	data := make([]Model, 0, len(ids))
	for i, id := range ids {
		data = append(data, a.Model(id, owners[i]).(Model))
	}
	return ModelList{Object: "list", Data: data}
}

// Model renders one model a client asked for (GET /v1/models/{id}), owned by
// the provider owner. The router knows no creation time: 0.
func (API) Model(id, owner string) any { return Model{ID: id, Object: "model", OwnedBy: owner} }

// ModelsPath is where an OpenAI-compatible server lists its models, relative to
// an endpoint that ends in /v1 (GET /v1/models; Ollama's /v1, vLLM and others
// serve it too).
func (API) ModelsPath() string { return "/models" }

// ParseModels reads the ids of a model list body, {"object":"list","data":[{"id"}]}
// (wire.ParseModelIDs).
func (API) ParseModels(body []byte) ([]string, error) { return wire.ParseModelIDs(body) }

// SameModel reports whether a model name a client asks for is the listed one.
func (API) SameModel(listed, asked string) bool { return listed == asked }

// Error is the body of an OpenAI error: {"error":{message,type,param,code}}.
type Error struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

// ErrorResponse is the envelope of an error body or in-band stream error.
type ErrorResponse struct {
	Error Error `json:"error"`
}

// ErrorBody renders an error in OpenAI's envelope, for a client. An empty typ is
// the type OpenAI uses for status, which also gives the code; empty param or code
// render as null.
func (API) ErrorBody(status int, typ, param, message string) []byte {
	t, code := ErrorType(status)
	if typ != "" {
		t = typ
	}
	e := ErrorResponse{Error{Message: message, Type: t, Param: nullable(param), Code: nullable(code)}}
	b, _ := json.Marshal(e)
	return b
}

// ErrorEvent renders an error as the in-band event that ends a stream, for a
// client: data: {"error":…}.
func (a API) ErrorEvent(status int, typ, param, message string) []byte {
	b := append([]byte("data: "), a.ErrorBody(status, typ, param, message)...)
	return append(b, "\n\n"...)
}

// IsError reports whether body is already a whole, valid error in OpenAI's envelope
// (an error object with a message), to be relayed to a client as it is.
func (API) IsError(body []byte) bool {
	if !gjson.ValidBytes(body) {
		return false
	}
	r := gjson.GetManyBytes(body, "error", "error.message")
	return r[0].IsObject() && r[1].Type == gjson.String
}

// anthropicOnly are error types only Anthropic's API uses. An OpenAI client's SDK
// knows none of them, so an error of such a type reaches it with the type OpenAI
// uses for its status instead.
var anthropicOnly = map[string]bool{
	"overloaded_error": true, "api_error": true, "rate_limit_error": true, "authentication_error": true,
	"permission_error": true, "not_found_error": true, "timeout_error": true,
}

// KnowsErrorType reports whether an upstream's error type may reach an OpenAI
// client as it is.
func (API) KnowsErrorType(typ string) bool { return typ != "" && !anthropicOnly[typ] }

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// ErrorType returns the error type and code OpenAI uses for an HTTP status
// (code "" when it has none).
func ErrorType(status int) (typ, code string) {
	switch {
	case status == http.StatusUnauthorized:
		return "invalid_request_error", "invalid_api_key"
	case status == http.StatusNotFound:
		return "invalid_request_error", "model_not_found"
	case status == http.StatusTooManyRequests:
		return "requests", "rate_limit_exceeded"
	case status == http.StatusBadGateway:
		return "server_error", "upstream_unreachable"
	case status == http.StatusGatewayTimeout:
		return "server_error", "upstream_timeout"
	case status >= 500:
		return "server_error", ""
	default:
		return "invalid_request_error", ""
	}
}

// Transcribe reads one chunk a client was sent into t, for the response-body log:
// choice 0's text, refusal, reasoning, tool calls and finish reason, the usage
// chunk, an in-band error. [DONE] and malformed chunks say nothing.
func (a API) Transcribe(_ string, data []byte, t wire.Transcript) {
	if bytes.Equal(data, doneData) {
		return
	}
	r := gjson.ParseBytes(data)
	if e := r.Get("error"); e.Exists() && e.Type != gjson.Null {
		t.Error(e.Raw)
		return
	}
	r.Get("choices").ForEach(func(_, c gjson.Result) bool {
		if c.Get("index").Int() == 0 {
			a.transcribeChoice(c, t)
		}
		return true
	})
	if u := r.Get("usage"); u.IsObject() {
		t.Usage(u.Raw)
	}
}

// transcribeChoice reads a chat delta (content, refusal, reasoning, tool calls) or
// a legacy completions text, and the finish reason.
func (a API) transcribeChoice(c gjson.Result, t wire.Transcript) {
	if fr := c.Get("finish_reason"); fr.Type == gjson.String {
		t.Finish(fr.Str)
	}
	if a.completions {
		t.Text(c.Get("text").Str)
		return
	}
	d := c.Get("delta")
	t.Text(d.Get("content").Str)
	t.Text(d.Get("refusal").Str)
	t.Reasoning(d.Get("reasoning_content").Str)
	t.Reasoning(d.Get("reasoning").Str) // vLLM, OpenRouter, Ollama's OpenAI layer
	pos := int64(0)
	d.Get("tool_calls").ForEach(func(_, tc gjson.Result) bool {
		// A call is keyed by its index, or its position when a provider omits it;
		// its first chunk carries id and name and opens it.
		key := pos
		if i := tc.Get("index"); i.Exists() {
			key = i.Int()
		}
		fn := tc.Get("function")
		if id, name := tc.Get("id").Str, fn.Get("name").Str; id != "" || name != "" {
			t.ToolCall(key, id, name)
		}
		t.ToolArgs(key, fn.Get("arguments").Str)
		pos++
		return true
	})
}
