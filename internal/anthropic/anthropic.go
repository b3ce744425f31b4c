// Package anthropic holds the Anthropic Messages wire format: the request,
// response, content block, stream event, usage and error types, and the upstream
// specifics llmrouter needs (paths, authentication, version header, error
// envelope, usage reading). It imports only the standard library and gjson.
package anthropic

import (
	"encoding/json"
	"net/http"

	"github.com/tidwall/gjson"
)

// Upstream paths, relative to an endpoint such as https://api.anthropic.com.
const (
	MessagesPath    = "/v1/messages"
	CountTokensPath = "/v1/messages/count_tokens"
)

// Version is sent as anthropic-version when the client did not choose one.
const Version = "2023-06-01"

// SetAuth puts key in x-api-key and makes sure anthropic-version is present.
func SetAuth(h http.Header, key string) {
	h.Set("X-Api-Key", key)
	SetVersion(h)
}

// SetVersion adds the anthropic-version header unless the client sent one.
func SetVersion(h http.Header) {
	if h.Get("Anthropic-Version") == "" {
		h.Set("Anthropic-Version", Version)
	}
}

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

// ErrorBody renders {"type":"error","error":{"type","message"}}.
func ErrorBody(typ, message string) []byte { return ErrorBodyDetails(typ, message, nil) }

// ErrorBodyDetails renders {"type":"error","error":{"type","message","details"}};
// nil details are left out.
func ErrorBodyDetails(typ, message string, details *ErrorDetails) []byte {
	b, _ := json.Marshal(ErrorResponse{Type: "error", Error: Error{Type: typ, Message: message, Details: details}})
	return b
}

// ErrorType returns the Anthropic error type for an HTTP status.
func ErrorType(status int) string {
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

// ParseError reads an Anthropic error body (or `event: error` data); ok is false when
// body is not one.
func ParseError(body []byte) (typ, message string, ok bool) {
	e := gjson.GetBytes(body, "error")
	if !e.IsObject() {
		return "", "", false
	}
	return e.Get("type").String(), e.Get("message").String(), true
}
