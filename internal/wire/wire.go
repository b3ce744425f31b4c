// Package wire names the wire protocols llmrouter speaks, on either side of a request.
package wire

// Protocol is one request/response format: an inbound API a client speaks, or the
// API an upstream provider is called with.
type Protocol int

// The protocols. OpenAIChat, OpenAICompletions, AnthropicMessages and
// OpenAIResponses are what clients speak; OllamaChat and OllamaGenerate are
// Ollama's native upstream APIs.
const (
	OpenAIChat        Protocol = iota + 1 // POST /v1/chat/completions
	OpenAICompletions                     // POST /v1/completions (legacy)
	AnthropicMessages                     // POST /v1/messages
	OllamaChat                            // POST /api/chat (NDJSON streams)
	OllamaGenerate                        // POST /api/generate (NDJSON streams)
	OpenAIResponses                       // POST /v1/responses
)

// String returns a short, stable name for logs.
func (p Protocol) String() string {
	switch p {
	case OpenAIChat:
		return "openai-chat"
	case OpenAICompletions:
		return "openai-completions"
	case AnthropicMessages:
		return "anthropic-messages"
	case OllamaChat:
		return "ollama-chat"
	case OllamaGenerate:
		return "ollama-generate"
	case OpenAIResponses:
		return "openai-responses"
	}
	return "unknown"
}

// NDJSON reports whether the protocol streams newline-delimited JSON rather than SSE.
func (p Protocol) NDJSON() bool { return p == OllamaChat || p == OllamaGenerate }

// Upstream returns the protocol used to call a provider for a client protocol.
// provider is "openai", "anthropic" or "ollama".
func Upstream(client Protocol, provider string) Protocol {
	switch provider {
	case "anthropic":
		return AnthropicMessages
	case "ollama":
		if client == OpenAICompletions {
			return OllamaGenerate
		}
		return OllamaChat
	default:
		if client == OpenAICompletions || client == OpenAIResponses {
			return client
		}
		return OpenAIChat
	}
}

// OpenAIUpstream returns the protocol used to call an openai endpoint for a client
// protocol. apis is the model's apis setting ("chat", "completions", "responses",
// the preferred first): the client's own protocol when the endpoint serves it
// (bytes pass through), else the first listed, to which the request is
// translated. Empty apis means all three, as api.openai.com serves.
func OpenAIUpstream(client Protocol, apis []string) Protocol {
	if len(apis) == 0 {
		return Upstream(client, "openai")
	}
	for _, a := range apis {
		if p := openAIAPI(a); p == client {
			return p
		}
	}
	return openAIAPI(apis[0])
}

// openAIAPI is the protocol of an API name, 0 for an unknown one.
func openAIAPI(api string) Protocol {
	switch api {
	case "chat":
		return OpenAIChat
	case "completions":
		return OpenAICompletions
	case "responses":
		return OpenAIResponses
	}
	return 0
}
