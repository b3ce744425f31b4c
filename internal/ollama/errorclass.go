package ollama

import (
	"strings"

	"github.com/llmrouter/llmrouter/internal/wire"
	"github.com/tidwall/gjson"
)

// Ollama's errors are one string, {"error":"…"}, with no type or code, so a
// prompt too long for the context window is told by its message, the only
// signal Ollama gives. Ollama truncates an overlong prompt by default and says
// nothing; it refuses one (400) when the request sets "truncate": false or the
// model cannot be cut, in one of two shapes:
//
//   - its runner's own error (runner/ollamarunner: errorInputTooLong),
//     {"error":"the input length exceeds the context length"};
//   - from the releases that run llama.cpp's server, that server's error JSON as
//     the string: {"error":"{\"error\":{\"code\":400,\"message\":\"request (2622
//     tokens) exceeds the available context size (512 tokens), try increasing
//     it\",\"type\":\"exceed_context_size_error\",…}}"}, whose type is a code.
//
// Ollama has no content-policy error.
const (
	inputTooLong       = "the input length exceeds the context length"
	contextSizeErrType = "exceed_context_size_error"
)

// ErrorClass classifies an Ollama error body or NDJSON error line: a
// context-window overflow, else by status (wire.StatusClass). status is the
// HTTP status, or for an in-band error the status its type stands for.
func (API) ErrorClass(status int, body []byte) wire.ErrorClass {
	msg, ok := ParseError(body)
	switch {
	case !ok:
	case strings.HasPrefix(msg, inputTooLong):
		return wire.ErrorContextWindow
	case strings.HasPrefix(msg, "{") && gjson.Get(msg, "error.type").String() == contextSizeErrType:
		return wire.ErrorContextWindow
	}
	return wire.StatusClass(status)
}
