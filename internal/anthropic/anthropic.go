// Package anthropic holds the Anthropic wire specifics llmrouter needs outside
// translation: upstream paths, authentication, version header and error envelope.
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

// ErrorBody renders {"type":"error","error":{"type","message"}}.
func ErrorBody(typ, message string) []byte {
	b, _ := json.Marshal(envelope(typ, message))
	return b
}

type errorEnvelope struct {
	Type  string `json:"type"`
	Error struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
}

func envelope(typ, message string) errorEnvelope {
	var e errorEnvelope
	e.Type = "error"
	e.Error.Type = typ
	e.Error.Message = message
	return e
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
