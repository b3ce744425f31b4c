package gateway

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/llmrouter/llmrouter/internal/anthropic"
	"github.com/llmrouter/llmrouter/internal/openai"
	"github.com/llmrouter/llmrouter/internal/redact"
	"github.com/llmrouter/llmrouter/internal/translate"
	"github.com/llmrouter/llmrouter/internal/wire"
)

// apiError is what the client sees of a failure (Status, Type, Message, Param),
// kept apart from Err, which is only logged. Message must never hold a secret.
type apiError struct {
	Status  int
	Type    string // protocol error type; empty: derived from Status
	Param   string
	Message string
	Err     error // cause, for the log
}

// Error is the log's view: the message, and the cause when it adds something.
func (e *apiError) Error() string {
	if e.Err == nil {
		return e.Message
	}
	cause := e.Err.Error()
	if strings.Contains(e.Message, causeMessage(e.Err)) || strings.Contains(e.Message, cause) {
		return e.Message
	}
	return e.Message + ": " + cause
}

func errorf(status int, msg string) *apiError { return &apiError{Status: status, Message: msg} }

// body renders the error in the client protocol's envelope.
func (e *apiError) body(p wire.Protocol) []byte {
	if p == wire.AnthropicMessages {
		typ := e.Type
		if typ == "" {
			typ = anthropic.ErrorType(e.Status)
		}
		return anthropic.ErrorBody(typ, e.Message)
	}
	typ, code := openai.ErrorType(e.Status)
	if e.Type != "" {
		typ = e.Type
	}
	return openai.ErrorBody(e.Message, typ, e.Param, code)
}

// event renders the error as one in-band stream event in the client's protocol:
// `data: {"error":…}` for OpenAI, `event: error` for Anthropic.
func (e *apiError) event(p wire.Protocol) []byte {
	if p == wire.AnthropicMessages {
		b := append([]byte("event: error\ndata: "), e.body(p)...)
		return append(b, "\n\n"...)
	}
	b := append([]byte("data: "), e.body(p)...)
	return append(b, "\n\n"...)
}

// writeError sends e as an HTTP error response in the client's envelope.
func writeError(w http.ResponseWriter, p wire.Protocol, e *apiError) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Del("Content-Length")
	w.WriteHeader(e.Status)
	_, _ = w.Write(e.body(p))
}

// causeMessage describes a transport failure without its URL: url.Error prints the
// request URL, query string included, and a query can hold a key.
func causeMessage(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return err.Error()
}

// statusOfType maps a provider's in-band error type to the HTTP status it would
// have had before the stream started, so on_status decides about retrying it.
func statusOfType(typ string) int {
	switch typ {
	case "overloaded_error":
		return 529
	case "rate_limit_error", "rate_limit_exceeded", "requests", "tokens":
		return 429
	case "invalid_request_error":
		return 400
	case "authentication_error":
		return 401
	case "permission_error":
		return 403
	case "not_found_error":
		return 404
	case "timeout_error":
		return 504
	}
	return 500
}

// inBandAPIError describes an upstream's own error object (an in-band stream error,
// or one answered with a 2xx) for the client: the status the provider would have
// given it before the stream started, so that on_status decides about retrying
// it, and its type when the client speaks the same family, scrubbed of secrets.
func inBandAPIError(client wire.Protocol, se *translate.StreamError, secrets []string) *apiError {
	msg, typ := redact.Scrub(se.Message, secrets...), redact.Scrub(se.Type, secrets...)
	return &apiError{Status: statusOfType(se.Type), Type: clientType(client, typ), Message: msg, Err: se}
}

// clientType keeps the upstream's error type when the client speaks the same
// family, else lets the envelope derive one from the status.
func clientType(client wire.Protocol, typ string) string {
	if typ == "" {
		return ""
	}
	anthropicType := typ == "overloaded_error" || typ == "api_error" || typ == "rate_limit_error" ||
		typ == "authentication_error" || typ == "permission_error" || typ == "not_found_error" || typ == "timeout_error"
	if (client == wire.AnthropicMessages) == anthropicType {
		return typ
	}
	return ""
}
