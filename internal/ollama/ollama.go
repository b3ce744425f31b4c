// Package ollama holds Ollama's native API wire format: the /api/chat and
// /api/generate requests, responses and NDJSON lines, their token counters and
// the error object, the upstream paths, and which think values a model accepts
// (think.go). It imports only the standard library, gjson and sjson.
package ollama

import "github.com/tidwall/gjson"

// Upstream paths, relative to an endpoint such as http://127.0.0.1:11434.
const (
	ChatPath     = "/api/chat"
	GeneratePath = "/api/generate"
)

// ParseError reads an Ollama error body or NDJSON error line, {"error":"message"};
// ok is false when it is not one.
func ParseError(body []byte) (message string, ok bool) {
	e := gjson.GetBytes(body, "error")
	if !e.Exists() {
		return "", false
	}
	if e.Type == gjson.String {
		return e.String(), true
	}
	return e.Raw, true
}
