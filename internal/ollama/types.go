package ollama

import "encoding/json"

// Requests (docs/protocols.md §4.1-4.2): the members the router writes.
type (
	// ChatRequest is the body of POST /api/chat. Stream is always written:
	// Ollama streams when it is absent.
	ChatRequest struct {
		Model       string          `json:"model"`
		Messages    []Message       `json:"messages"`
		Tools       []Tool          `json:"tools,omitempty"`
		Format      json.RawMessage `json:"format,omitempty"`
		Options     *Options        `json:"options,omitempty"`
		Think       json.RawMessage `json:"think,omitempty"`
		Logprobs    json.RawMessage `json:"logprobs,omitempty"`
		TopLogprobs json.RawMessage `json:"top_logprobs,omitempty"`
		Stream      bool            `json:"stream"`
	}
	// GenerateRequest is the body of POST /api/generate.
	GenerateRequest struct {
		Model   string   `json:"model"`
		Prompt  string   `json:"prompt"`
		Suffix  string   `json:"suffix,omitempty"`
		Options *Options `json:"options,omitempty"`
		Stream  bool     `json:"stream"`
	}
	// Message is one /api/chat message, in a request or a response. Content is
	// always a plain string; Images are bare base64.
	Message struct {
		Role       string     `json:"role"`
		Content    string     `json:"content"`
		Thinking   string     `json:"thinking,omitempty"`
		Images     []string   `json:"images,omitempty"`
		ToolCalls  []ToolCall `json:"tool_calls,omitempty"`
		ToolName   string     `json:"tool_name,omitempty"`
		ToolCallID string     `json:"tool_call_id,omitempty"`
	}
	// ToolCall is a tool call in a request's history or in a response.
	ToolCall struct {
		ID       string           `json:"id,omitempty"`
		Function ToolCallFunction `json:"function"`
	}
	// ToolCallFunction carries the arguments as a JSON object, never a string.
	ToolCallFunction struct {
		Index     int             `json:"index"`
		Name      string          `json:"name"`
		Arguments json.RawMessage `json:"arguments"`
	}
	// Tool is a tool declaration, in OpenAI's function format.
	Tool struct {
		Type     string          `json:"type"`
		Function json.RawMessage `json:"function"`
	}
	// Options are the sampling options. Values are JSON numbers.
	Options struct {
		NumPredict       json.RawMessage `json:"num_predict,omitempty"`
		Temperature      json.RawMessage `json:"temperature,omitempty"`
		TopP             json.RawMessage `json:"top_p,omitempty"`
		TopK             json.RawMessage `json:"top_k,omitempty"`
		Seed             json.RawMessage `json:"seed,omitempty"`
		Stop             []string        `json:"stop,omitempty"`
		FrequencyPenalty json.RawMessage `json:"frequency_penalty,omitempty"`
		PresencePenalty  json.RawMessage `json:"presence_penalty,omitempty"`
	}
)

// Responses (docs/protocols.md §4.3): a whole non-streaming body, or one NDJSON line of a
// stream. The last line has Done true, a DoneReason ("" when the runner's
// connection closed early) and the Metrics.
type (
	// ChatResponse is an /api/chat answer. Logprobs are OpenAI-shaped token
	// logprobs ({token, logprob, bytes?, top_logprobs?}), when asked for.
	ChatResponse struct {
		Model      string          `json:"model"`
		CreatedAt  string          `json:"created_at"`
		Message    Message         `json:"message"`
		Done       bool            `json:"done"`
		DoneReason string          `json:"done_reason"`
		Logprobs   json.RawMessage `json:"logprobs"`
		Metrics
	}
	// GenerateResponse is an /api/generate answer.
	GenerateResponse struct {
		Model      string `json:"model"`
		CreatedAt  string `json:"created_at"`
		Response   string `json:"response"`
		Thinking   string `json:"thinking"`
		Done       bool   `json:"done"`
		DoneReason string `json:"done_reason"`
		Metrics
	}
)

// Embeddings (captured: ollama-real/api_embed).
type (
	// EmbedRequest is the body of POST /api/embed. Input is a string or an array
	// of strings; Dimensions, when set, asks a model that can for shorter vectors.
	EmbedRequest struct {
		Model      string          `json:"model"`
		Input      json.RawMessage `json:"input"`
		Dimensions json.RawMessage `json:"dimensions,omitempty"`
	}
	// EmbedResponse is an /api/embed answer: one vector per input, in order, and
	// the prompt tokens of all of them.
	EmbedResponse struct {
		Model           string            `json:"model"`
		Embeddings      []json.RawMessage `json:"embeddings"`
		PromptEvalCount int64             `json:"prompt_eval_count"`
	}
)
