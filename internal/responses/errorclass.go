package responses

import (
	"github.com/llmrouter/llmrouter/internal/wire"
	"github.com/tidwall/gjson"
)

// OpenAI's error codes that say where else a request could succeed (the same
// codes as on Chat Completions; see package openai).
const (
	codeContextLength = "context_length_exceeded"
	codeContentFilter = "content_filter"
	codeContentPolicy = "content_policy_violation"
	codeInvalidPrompt = "invalid_prompt"
)

// ErrorClass classifies a Responses error by its code: an HTTP error body
// ({"error":{code,…}}), an `error` event (code nested under "error" or at the
// top level, see ParseEventError) or a response.failed event (response.error
// code). A context-window overflow or a content-policy refusal is told by its
// code; anything else by status (wire.StatusClass), the HTTP status or, for an
// in-band error, the status its type stands for.
func (API) ErrorClass(status int, body []byte) wire.ErrorClass {
	r := gjson.GetManyBytes(body, "error.code", "code", "response.error.code")
	for _, code := range r {
		switch code.String() {
		case codeContextLength:
			return wire.ErrorContextWindow
		case codeContentFilter, codeContentPolicy, codeInvalidPrompt:
			return wire.ErrorContentPolicy
		}
	}
	return wire.StatusClass(status)
}
