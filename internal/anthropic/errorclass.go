package anthropic

import (
	"strings"

	"github.com/llmrouter/llmrouter/internal/wire"
	"github.com/tidwall/gjson"
)

// Anthropic's error types (docs.claude.com/en/api/errors) say who is at fault
// (invalid_request_error, rate_limit_error, api_error, overloaded_error…) but not
// why a request is invalid: a prompt too long for the model's context window is
// an invalid_request_error like any other, told apart only by its message. The
// message is therefore the provider's only signal, and these are its two
// wordings, matched as prefixes:
//
//	400 {"type":"error","error":{"type":"invalid_request_error",
//	     "message":"prompt is too long: 205000 tokens > 200000 maximum"}}
//	400 {"type":"error","error":{"type":"invalid_request_error",
//	     "message":"input length and `max_tokens` exceed context limit: 199759 + 8192 > 200000, decrease input length or `max_tokens` and try again"}}
//
// Anthropic has no content-policy error: a refusal is an answer whose
// stop_reason is "refusal", past the commit point.
var contextWindowMessages = []string{
	"prompt is too long",
	"input length and `max_tokens` exceed context limit",
}

// ErrorClass classifies an Anthropic error body or `event: error` data: a
// context-window overflow by the message of an invalid_request_error, else by
// status (wire.StatusClass). status is the HTTP status, or for an in-band error
// the status its type stands for.
func (API) ErrorClass(status int, body []byte) wire.ErrorClass {
	e := gjson.GetBytes(body, "error")
	if e.Get("type").String() == "invalid_request_error" {
		msg := e.Get("message").String()
		for _, m := range contextWindowMessages {
			if strings.HasPrefix(msg, m) {
				return wire.ErrorContextWindow
			}
		}
	}
	return wire.StatusClass(status)
}
