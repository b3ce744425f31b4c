package anthropic

import "encoding/json"

// Messages request (docs/protocols.md §3.1): the members the router writes when it calls an
// Anthropic upstream for another dialect's client.
type (
	// Request is the body of POST /v1/messages.
	Request struct {
		Model         string          `json:"model"`
		MaxTokens     int64           `json:"max_tokens"`
		System        string          `json:"system,omitempty"`
		Messages      []MessageParam  `json:"messages"`
		Metadata      *Metadata       `json:"metadata,omitempty"`
		StopSequences []string        `json:"stop_sequences,omitempty"`
		Temperature   json.RawMessage `json:"temperature,omitempty"`
		TopP          json.RawMessage `json:"top_p,omitempty"`
		Tools         []Tool          `json:"tools,omitempty"`
		ToolChoice    *ToolChoice     `json:"tool_choice,omitempty"`
		Thinking      *Thinking       `json:"thinking,omitempty"`
		OutputConfig  *OutputConfig   `json:"output_config,omitempty"`
		Stream        bool            `json:"stream,omitempty"`
	}
	// Thinking is {"type":"enabled","budget_tokens"}, {"type":"adaptive"} (with
	// OutputConfig.Effort) or {"type":"disabled"} (README §3.1, §10).
	Thinking struct {
		Type         string `json:"type"`
		BudgetTokens int64  `json:"budget_tokens,omitempty"`
	}
	// OutputConfig is how the model answers: its effort ("low", "medium",
	// "high", "xhigh" or "max") and a structured output format.
	OutputConfig struct {
		Effort string        `json:"effort,omitempty"`
		Format *OutputFormat `json:"format,omitempty"`
	}
	// OutputFormat is {"type":"json_schema","schema"}: the answer is JSON that
	// follows the schema (anthropic-sdk-go JSONOutputFormatParam).
	OutputFormat struct {
		Type   string          `json:"type"`
		Schema json.RawMessage `json:"schema"`
	}
	// MessageParam is one message of a request.
	MessageParam struct {
		Role    string `json:"role"`
		Content any    `json:"content"` // a string, or []any of blocks
	}
	// Metadata carries the end user's id.
	Metadata struct {
		UserID string `json:"user_id"`
	}
	// Tool is a client tool declaration; InputSchema is a JSON Schema object.
	Tool struct {
		Name        string          `json:"name"`
		Description string          `json:"description,omitempty"`
		InputSchema json.RawMessage `json:"input_schema"`
	}
	// ToolChoice is {"type":"auto"|"any"|"tool"|"none", "name"?}.
	ToolChoice struct {
		Type                   string `json:"type"`
		Name                   string `json:"name,omitempty"`
		DisableParallelToolUse bool   `json:"disable_parallel_tool_use,omitempty"`
	}
)

// Content blocks (docs/protocols.md §3.1-3.2), in requests and answers.
type (
	// TextBlock is a {"type":"text"} block.
	TextBlock struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	// ImageBlock is an {"type":"image"} block.
	ImageBlock struct {
		Type   string      `json:"type"`
		Source ImageSource `json:"source"`
	}
	// ImageSource is {"type":"base64", media_type, data} or {"type":"url", url}.
	ImageSource struct {
		Type      string `json:"type"`
		MediaType string `json:"media_type,omitempty"`
		Data      string `json:"data,omitempty"`
		URL       string `json:"url,omitempty"`
	}
	// ToolUseBlock is a tool call; Input is a JSON object.
	ToolUseBlock struct {
		Type  string          `json:"type"`
		ID    string          `json:"id"`
		Name  string          `json:"name"`
		Input json.RawMessage `json:"input"`
	}
	// ToolResultBlock answers a ToolUseBlock.
	ToolResultBlock struct {
		Type      string `json:"type"`
		ToolUseID string `json:"tool_use_id"`
		Content   any    `json:"content"` // a string or []TextBlock
	}
	// ThinkingBlock is the model's reasoning; Signature lets Anthropic check
	// the block when a client sends it back.
	ThinkingBlock struct {
		Type      string `json:"type"`
		Thinking  string `json:"thinking"`
		Signature string `json:"signature"`
	}
	// RedactedThinkingBlock is reasoning Anthropic encrypted: Data goes back
	// as it came.
	RedactedThinkingBlock struct {
		Type string `json:"type"`
		Data string `json:"data"`
	}
)

// Message is a whole answer (docs/protocols.md §3.2), and the message of message_start,
// where content is empty and stop_reason null.
type Message struct {
	ID           string  `json:"id"`
	Type         string  `json:"type"`
	Role         string  `json:"role"`
	Model        string  `json:"model"`
	Content      []any   `json:"content"` // blocks
	StopReason   *string `json:"stop_reason"`
	StopSequence *string `json:"stop_sequence"`
	Usage        Usage   `json:"usage"`
}

// Stream event names (docs/protocols.md §3.3): an event's `event:` line, and its data's type.
const (
	EventMessageStart      = "message_start"
	EventContentBlockStart = "content_block_start"
	EventContentBlockDelta = "content_block_delta"
	EventContentBlockStop  = "content_block_stop"
	EventMessageDelta      = "message_delta"
	EventMessageStop       = "message_stop"
	EventPing              = "ping"
	EventError             = "error"
)

// Stream events (docs/protocols.md §3.3).
type (
	// MessageStartEvent opens the stream.
	MessageStartEvent struct {
		Type    string  `json:"type"`
		Message Message `json:"message"`
	}
	// ContentBlockStartEvent opens block Index with its empty ContentBlock.
	ContentBlockStartEvent struct {
		Type         string `json:"type"`
		Index        int    `json:"index"`
		ContentBlock any    `json:"content_block"`
	}
	// ContentBlockDeltaEvent adds Delta (a TextDelta, ThinkingDelta or
	// InputJSONDelta) to block Index.
	ContentBlockDeltaEvent struct {
		Type  string `json:"type"`
		Index int    `json:"index"`
		Delta any    `json:"delta"`
	}
	// ContentBlockStopEvent closes block Index.
	ContentBlockStopEvent struct {
		Type  string `json:"type"`
		Index int    `json:"index"`
	}
	// MessageDeltaEvent carries the stop reason and the cumulative usage.
	MessageDeltaEvent struct {
		Type  string       `json:"type"`
		Delta MessageDelta `json:"delta"`
		Usage Usage        `json:"usage"`
	}
	// MessageDelta is the delta of a MessageDeltaEvent.
	MessageDelta struct {
		StopReason   string  `json:"stop_reason"`
		StopSequence *string `json:"stop_sequence"`
	}
	// MessageStopEvent ends the stream.
	MessageStopEvent struct {
		Type string `json:"type"`
	}
	// TextDelta is a {"type":"text_delta"} fragment.
	TextDelta struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	// ThinkingDelta is a {"type":"thinking_delta"} fragment.
	ThinkingDelta struct {
		Type     string `json:"type"`
		Thinking string `json:"thinking"`
	}
	// InputJSONDelta is a fragment of a tool_use block's input, as JSON text.
	InputJSONDelta struct {
		Type        string `json:"type"`
		PartialJSON string `json:"partial_json"`
	}
)

// TokenCount is the answer of POST /v1/messages/count_tokens.
type TokenCount struct {
	InputTokens int64 `json:"input_tokens"`
}
