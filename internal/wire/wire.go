// Package wire names the wire protocols llmrouter speaks, on either side of a
// request, and the few terms in which their dialect packages (openai, anthropic,
// ollama) describe themselves to the rest of the router: the operations a client
// asks for, where a request keeps its texts, what a stream transcript is told, and
// how an answer's token usage is read; and it reads the model list OpenAI and
// Anthropic share. It imports only the standard library and gjson.
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

// Operation is what a client asks of a model.
type Operation int

// The operations.
const (
	Generate    Operation = iota + 1 // an answer: chat, completions, messages, responses
	CountTokens                      // a token count of the request (Anthropic's count_tokens, Responses' input_tokens)
	// Stored is a call on a response an upstream stored (the Responses API's
	// retrieve, delete, cancel and input items): the upstream that made it
	// answers it, so only an upstream of the client's own protocol serves it.
	Stored
	Embed // embedding vectors of texts (OpenAI's embeddings)
)

// String returns the operation's name, as its endpoint spells it.
func (o Operation) String() string {
	switch o {
	case Generate:
		return "generate"
	case CountTokens:
		return "count_tokens"
	case Stored:
		return "stored response"
	case Embed:
		return "embeddings"
	}
	return "unknown"
}

// Streams reports whether an operation's answer may be a stream: a generated
// answer, and a stored one replayed (the Responses API's retrieve with
// stream=true); never a count or embeddings.
func (o Operation) Streams() bool { return o == Generate || o == Stored }

// Shape is how a request field holds text.
type Shape int

// The shapes.
const (
	NoText  Shape = iota // the field holds no text
	String               // a JSON string
	Content              // a string, or an array of {"type":"text","text":…} blocks
)

// Texts says where a request of one protocol keeps the texts a regex transform
// rewrites (docs/protocols.md §1-4, §9). Nothing else is text: ids, tool calls and
// their arguments, images and thinking blocks are never touched.
type Texts struct {
	Messages    Shape // messages[].content, the role read from messages[].role
	System      Shape // a top-level system field, role "system"
	Prompt      bool  // a top-level prompt, a string or an array of strings, role "user"
	ToolResults bool  // tool_result blocks in a Content hold text, matched by role "tool" too
	// Instructions: a top-level instructions string, role "system" (Responses).
	Instructions bool
	// Input: a top-level input (Responses), a string (role "user") or items:
	// messages, whose content is a string or input_text / output_text parts,
	// with the message's role; and the output of function_call_output and
	// custom_tool_call_output items, a string or input_text parts, role "tool".
	Input bool
}

// Transcript is told, event by event, what a stream sent to a client says, for the
// response-body log. A dialect's Transcribe reads one event of its protocol into it.
// Tool calls are keyed by the protocol's own index (an OpenAI tool_calls index, an
// Anthropic content block index).
type Transcript interface {
	Text(s string)                       // answer text (a refusal included)
	Reasoning(s string)                  // reasoning or thinking text
	ToolCall(key int64, id, name string) // opens a tool call, unless one is open under key
	ToolArgs(key int64, s string)        // appends to the arguments of the call under key
	Finish(reason string)                // the protocol's own finish or stop reason
	Usage(object string)                 // a usage object, merged into the last (later keys win)
	Error(object string)                 // an in-band error object
}

// Meter reads the token usage of an answer in one protocol from the raw bodies or
// stream events that carry it, without any translation. One meter serves one answer.
type Meter interface {
	// Read takes a whole body or one stream event, and reports whether it carried
	// usage. Data without usage is passed over cheaply, so a relay calls Read on
	// every event.
	Read(data []byte) bool
	// Tokens is the usage read so far: input counts every prompt token, cached or
	// not, of which cacheRead were read from and cacheWrite written to the cache;
	// output counts every generated token, of which reasoning were reasoning.
	Tokens() (input, output, cacheRead, cacheWrite, reasoning int64)
}

// Follower follows a stream relayed to a client as it is, for a protocol whose
// failed streams end with events that continue them (the Responses API numbers
// its events, and ends a failure with an error event and response.failed
// repeating the response): Observe reads each event relayed, Fail appends the
// events that end the stream after a failure; code may be empty.
type Follower interface {
	Observe(name string, data []byte)
	Fail(dst []byte, code, message string) []byte
}

// OpenAIUpstream returns the protocol used to call an openai endpoint for a client
// protocol. apis is the model's apis setting ("chat", "completions", "responses",
// the preferred first): the client's own protocol when the endpoint serves it
// (bytes pass through), else the first listed, to which the request is
// translated. Empty apis means all three, as api.openai.com serves.
func OpenAIUpstream(client Protocol, apis []string) Protocol {
	if len(apis) == 0 {
		apis = []string{"chat", "completions", "responses"}
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

// Relaxer is an upstream protocol's memory of what its servers refuse in the
// requests the router translates for clients that ask more than a model can do
// (Ollama refuses think for a model without thinking), learned from the refusals
// themselves, per server (endpoint) and model. One serves every request of a
// router and is safe for concurrent use.
type Relaxer interface {
	// Fit returns req, a translated body for the server at endpoint, relaxed as
	// far as the memory knows its model needs, and what that gave up; req itself
	// and RelaxedNothing when nothing changes.
	Fit(endpoint string, req []byte) ([]byte, Relaxed)
	// Refused reads the server's answer to req: when it refused something the
	// memory can relax, the memory learns it and returns the body to send
	// instead and what it gives up. RelaxedNothing: not such a refusal. Each
	// retry is strictly more relaxed than req.
	Refused(endpoint string, req []byte, status int, answer []byte) ([]byte, Relaxed)
}

// Relaxed says what relaxing a request gave up of what its client asked for.
type Relaxed int

// What a relaxation gives up.
const (
	RelaxedNothing   Relaxed = iota // the request is unchanged
	RelaxedLevel                    // the reasoning level (Ollama's think "high" became true)
	RelaxedReasoning                // reasoning altogether (think is gone)
)
