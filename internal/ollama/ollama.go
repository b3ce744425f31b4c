// Package ollama holds the Ollama native-API specifics llmrouter needs outside
// translation: upstream paths and the error envelope {"error":"message"}.
package ollama

import "github.com/tidwall/gjson"

// Upstream paths, relative to an endpoint such as http://127.0.0.1:11434.
const (
	ChatPath     = "/api/chat"
	GeneratePath = "/api/generate"
)

// ParseError reads an Ollama error body or NDJSON error line; ok is false when it is
// not one.
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
