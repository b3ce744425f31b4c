package openai

import (
	"strings"

	"github.com/llmrouter/llmrouter/internal/wire"
	"github.com/tidwall/gjson"
)

// Error codes and types that say where else a request could succeed. OpenAI
// gives a machine-readable code for each; the servers that copy its API give
// their own (llama.cpp's server a type, Azure OpenAI its filter's code).
const (
	// CodeContextLength: the prompt and max tokens exceed the model's window.
	// {"error":{"message":"This model's maximum context length is 4097 tokens.
	// However, …","type":"invalid_request_error","param":"messages",
	// "code":"context_length_exceeded"}}
	CodeContextLength = "context_length_exceeded"
	// TypeContextSize is llama.cpp server's type for the same overflow
	// ({"error":{"code":400,"type":"exceed_context_size_error","message":
	// "request (9412 tokens) exceeds the available context size (8192 tokens), …"}}).
	TypeContextSize = "exceed_context_size_error"
	// CodeContentFilter is Azure OpenAI's refusal of a prompt by its content
	// filter: 400 {"error":{"code":"content_filter","param":"prompt",
	// "innererror":{"code":"ResponsibleAIPolicyViolation",…}}}.
	CodeContentFilter = "content_filter"
	// CodeContentPolicy is OpenAI's safety system rejecting a request
	// ("Your request was rejected as a result of our safety system").
	CodeContentPolicy = "content_policy_violation"
	// CodeInvalidPrompt is OpenAI's refusal of a prompt flagged as violating its
	// usage policy ("Invalid prompt: your prompt was flagged as potentially
	// violating our usage policy").
	CodeInvalidPrompt = "invalid_prompt"
)

// contextLengthMessage is the wording of OpenAI's context_length_exceeded
// message ("This model's maximum context length is 4097 tokens. However, …"),
// which servers that copy OpenAI's API repeat without its code (DeepSeek's code
// is "invalid_request_error", vLLM's the status): for them it is the only
// signal. OpenAI itself is told by the code.
const contextLengthMessage = "maximum context length"

// ErrorClass classifies an OpenAI error body or in-band error chunk
// ({"error":{…}}, or vLLM's older top-level {"object":"error",…}) by its code:
// a context-window overflow, a content-policy refusal, else by status
// (wire.StatusClass). status is the HTTP status, or for an in-band error the
// status its type stands for.
func (API) ErrorClass(status int, body []byte) wire.ErrorClass {
	e := gjson.GetBytes(body, "error")
	if !e.IsObject() {
		if gjson.GetBytes(body, "object").String() != "error" {
			return wire.StatusClass(status)
		}
		e = gjson.ParseBytes(body)
	}
	code, typ := e.Get("code"), e.Get("type").String()
	switch {
	case code.Str == CodeContextLength || typ == TypeContextSize:
		return wire.ErrorContextWindow
	case code.Str == CodeContentFilter || code.Str == CodeContentPolicy || code.Str == CodeInvalidPrompt:
		return wire.ErrorContentPolicy
	case strings.Contains(e.Get("message").String(), contextLengthMessage):
		return wire.ErrorContextWindow
	}
	return wire.StatusClass(status)
}
