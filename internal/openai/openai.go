// Package openai holds the OpenAI wire format: the Chat Completions and legacy
// Completions request, response, chunk, usage and error types, and the upstream
// specifics llmrouter needs (paths, authentication, error envelope, usage reading).
// It imports only the standard library and gjson.
package openai

import (
	"encoding/json"
	"net/http"

	"github.com/tidwall/gjson"
)

// Upstream paths, relative to an endpoint that already ends in /v1.
const (
	ChatPath        = "/chat/completions"
	CompletionsPath = "/completions"
)

// SetAuth puts key in the header OpenAI reads: Authorization: Bearer.
func SetAuth(h http.Header, key string) { h.Set("Authorization", "Bearer "+key) }

// Object names, the "object" member of responses and chunks.
const (
	ObjectChatCompletion = "chat.completion"
	ObjectChatChunk      = "chat.completion.chunk"
	ObjectTextCompletion = "text_completion"
)

// Done is the data of the event that ends a stream: data: [DONE].
const Done = "[DONE]"

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

// ErrorBody renders an error envelope. Empty param or code render as null.
func ErrorBody(message, typ, param, code string) []byte {
	e := ErrorResponse{Error{Message: message, Type: typ, Param: nullable(param), Code: nullable(code)}}
	b, _ := json.Marshal(e)
	return b
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// ErrorType returns the error type and code OpenAI uses for an HTTP status.
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

// ParseError reads an OpenAI error body; ok is false when body is not one.
func ParseError(body []byte) (typ, message string, ok bool) {
	e := gjson.GetBytes(body, "error")
	if !e.IsObject() {
		return "", "", false
	}
	return e.Get("type").String(), e.Get("message").String(), true
}

// IsStreamError reports whether a stream chunk is an in-band error ({"error":…}).
func IsStreamError(data []byte) bool { return gjson.GetBytes(data, "error").Exists() }
