package openai

import "encoding/json"

// Chat Completions request (docs/protocols.md §1.1): the members the router writes when it
// calls an OpenAI upstream for another dialect's client.
type (
	// ChatRequest is the body of POST /v1/chat/completions.
	ChatRequest struct {
		Model               string          `json:"model"`
		Messages            []MessageParam  `json:"messages"`
		MaxCompletionTokens json.RawMessage `json:"max_completion_tokens,omitempty"`
		MaxTokens           json.RawMessage `json:"max_tokens,omitempty"` // what OpenAI-compatible servers read (LimitField)
		Temperature         json.RawMessage `json:"temperature,omitempty"`
		TopP                json.RawMessage `json:"top_p,omitempty"`
		Stop                []string        `json:"stop,omitempty"`
		User                string          `json:"user,omitempty"`
		ResponseFormat      *ResponseFormat `json:"response_format,omitempty"`
		Tools               []Tool          `json:"tools,omitempty"`
		ToolChoice          any             `json:"tool_choice,omitempty"` // a string or a NamedToolChoice
		ParallelToolCalls   *bool           `json:"parallel_tool_calls,omitempty"`
		Stream              bool            `json:"stream,omitempty"`
		StreamOptions       *StreamOptions  `json:"stream_options,omitempty"`
		ReasoningEffort     string          `json:"reasoning_effort,omitempty"`
	}
	// MessageParam is one message of a request.
	MessageParam struct {
		Role       string     `json:"role"`
		Content    any        `json:"content,omitempty"` // a string, or []any of TextPart and ImagePart
		ToolCalls  []ToolCall `json:"tool_calls,omitempty"`
		ToolCallID string     `json:"tool_call_id,omitempty"`
	}
	// TextPart is a {"type":"text"} content part.
	TextPart struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	// ImagePart is an {"type":"image_url"} content part.
	ImagePart struct {
		Type     string   `json:"type"`
		ImageURL ImageURL `json:"image_url"`
	}
	// ImageURL is an https:// or a base64 data: URL.
	ImageURL struct {
		URL string `json:"url"`
	}
	// Tool is a function tool declaration.
	Tool struct {
		Type     string             `json:"type"`
		Function FunctionDefinition `json:"function"`
	}
	// FunctionDefinition declares a function: Parameters is a JSON Schema object.
	FunctionDefinition struct {
		Name        string          `json:"name"`
		Description string          `json:"description,omitempty"`
		Parameters  json.RawMessage `json:"parameters"`
	}
	// NamedToolChoice forces a call of one function.
	NamedToolChoice struct {
		Type     string       `json:"type"`
		Function FunctionName `json:"function"`
	}
	// FunctionName names the function of a NamedToolChoice.
	FunctionName struct {
		Name string `json:"name"`
	}
	// ResponseFormat is {"type":"json_schema","json_schema":{name, schema}}: the
	// answer is JSON that follows the schema; or {"type":"json_object"}.
	ResponseFormat struct {
		Type       string            `json:"type"`
		JSONSchema *JSONSchemaFormat `json:"json_schema,omitempty"`
	}
	// JSONSchemaFormat names a schema; Name is required. Description and
	// Strict are the client's, when a Responses client gave them.
	JSONSchemaFormat struct {
		Name        string          `json:"name"`
		Description string          `json:"description,omitempty"`
		Schema      json.RawMessage `json:"schema"`
		Strict      *bool           `json:"strict,omitempty"`
	}
	// StreamOptions asks for the usage chunk at the end of a stream.
	StreamOptions struct {
		IncludeUsage bool `json:"include_usage"`
	}
)

// Chat Completions response (docs/protocols.md §1.2).
type (
	// ChatCompletion is a whole non-streaming answer, object "chat.completion".
	ChatCompletion struct {
		ID      string       `json:"id"`
		Object  string       `json:"object"`
		Created int64        `json:"created"`
		Model   string       `json:"model"`
		Choices []ChatChoice `json:"choices"`
		Usage   *Usage       `json:"usage,omitempty"`
	}
	// ChatChoice is one choice of a ChatCompletion; Logprobs is null unless
	// asked for.
	ChatChoice struct {
		Index        int         `json:"index"`
		Message      ChatMessage `json:"message"`
		Logprobs     *Logprobs   `json:"logprobs"`
		FinishReason string      `json:"finish_reason"`
	}
	// Logprobs are the log probabilities of a choice's tokens. Content is an
	// array of token logprobs, {token, logprob, bytes, top_logprobs}, as JSON.
	Logprobs struct {
		Content json.RawMessage `json:"content"`
	}
	// ChatMessage is the assistant message of a choice. Content and Refusal are
	// required and may be null. ReasoningContent is not OpenAI's: OpenAI-compatible
	// servers (vLLM, DeepSeek, Ollama's own layer) put reasoning text there.
	ChatMessage struct {
		Role             string     `json:"role"`
		Content          *string    `json:"content"`
		Refusal          *string    `json:"refusal"`
		ReasoningContent string     `json:"reasoning_content,omitempty"`
		ToolCalls        []ToolCall `json:"tool_calls,omitempty"`
	}
	// ToolCall is a whole function call, in a response or in a request's history.
	ToolCall struct {
		ID       string       `json:"id"`
		Type     string       `json:"type"`
		Function FunctionCall `json:"function"`
	}
	// FunctionCall names the function; Arguments is a JSON object encoded as a string.
	FunctionCall struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	}
)

// Chat Completions stream (docs/protocols.md §1.3).
type (
	// ChatChunk is one stream event, object "chat.completion.chunk". Usage is
	// absent without stream_options.include_usage; with it, it is null
	// (json.RawMessage("null")) on every chunk but the last, which has empty
	// choices and the request's *Usage.
	ChatChunk struct {
		ID      string        `json:"id"`
		Object  string        `json:"object"`
		Created int64         `json:"created"`
		Model   string        `json:"model"`
		Choices []ChunkChoice `json:"choices"`
		Usage   any           `json:"usage,omitempty"`
	}
	// ChunkChoice is one choice of a chunk; FinishReason is null until the end.
	ChunkChoice struct {
		Index        int        `json:"index"`
		Delta        ChunkDelta `json:"delta"`
		Logprobs     *Logprobs  `json:"logprobs"`
		FinishReason *string    `json:"finish_reason"`
	}
	// ChunkDelta is what one chunk adds to the message.
	ChunkDelta struct {
		Role             string          `json:"role,omitempty"`
		Content          *string         `json:"content,omitempty"`
		Refusal          *string         `json:"refusal,omitempty"`
		ReasoningContent string          `json:"reasoning_content,omitempty"`
		ToolCalls        []ToolCallDelta `json:"tool_calls,omitempty"`
	}
	// ToolCallDelta is a fragment of tool call Index: the first carries its id,
	// type and name, later ones only arguments.
	ToolCallDelta struct {
		Index    int               `json:"index"`
		ID       string            `json:"id,omitempty"`
		Type     string            `json:"type,omitempty"`
		Function FunctionCallDelta `json:"function"`
	}
	// FunctionCallDelta is a fragment of a FunctionCall.
	FunctionCallDelta struct {
		Name      string `json:"name,omitempty"`
		Arguments string `json:"arguments"`
	}
)

// Legacy Completions response and stream (docs/protocols.md §2).
type (
	// TextCompletion is a whole answer or one stream chunk, object
	// "text_completion". Usage is as ChatChunk.Usage in a stream and a *Usage in
	// a whole answer.
	TextCompletion struct {
		ID      string             `json:"id"`
		Object  string             `json:"object"`
		Created int64              `json:"created"`
		Model   string             `json:"model"`
		Choices []CompletionChoice `json:"choices"`
		Usage   any                `json:"usage,omitempty"`
	}
	// CompletionChoice is one choice. Logprobs is null unless asked for, and
	// then the legacy object ({tokens, token_logprobs, top_logprobs,
	// text_offset}), which the router never asks for.
	CompletionChoice struct {
		Text         string  `json:"text"`
		Index        int     `json:"index"`
		Logprobs     any     `json:"logprobs"`
		FinishReason *string `json:"finish_reason"`
	}
)

// Embeddings (POST /v1/embeddings; recorded: ollama-real/v1_embeddings, the
// answer of Ollama's OpenAI layer).
type (
	// EmbeddingList is the answer: one Embedding per input, in order.
	EmbeddingList struct {
		Object string          `json:"object"` // "list"
		Data   []Embedding     `json:"data"`
		Model  string          `json:"model"`
		Usage  EmbeddingsUsage `json:"usage"`
	}
	// Embedding is one vector: a JSON array of numbers, or with
	// encoding_format "base64" a string of the little-endian float32 values.
	Embedding struct {
		Object    string          `json:"object"` // "embedding"
		Embedding json.RawMessage `json:"embedding"`
		Index     int             `json:"index"`
	}
	// EmbeddingsUsage counts the input tokens; nothing is generated.
	EmbeddingsUsage struct {
		PromptTokens int64 `json:"prompt_tokens"`
		TotalTokens  int64 `json:"total_tokens"`
	}
)
