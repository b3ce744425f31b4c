package responses

import "encoding/json"

// Response is a whole answer (README §15.2), and the "response" of the lifecycle
// events. The members a request sets are echoed as the client sent them, as JSON
// text (nil renders null); members in the order of the recordings.
type Response struct {
	ID                 string             `json:"id"`
	Object             string             `json:"object"` // "response"
	CreatedAt          int64              `json:"created_at"`
	Status             string             `json:"status"`
	CompletedAt        *int64             `json:"completed_at"`
	Error              *Error             `json:"error"`
	IncompleteDetails  *IncompleteDetails `json:"incomplete_details"`
	Instructions       json.RawMessage    `json:"instructions"`
	MaxOutputTokens    json.RawMessage    `json:"max_output_tokens"`
	Model              string             `json:"model"`
	Output             []any              `json:"output"` // OutputMessage, FunctionCall, CustomToolCall, ReasoningItem
	ParallelToolCalls  bool               `json:"parallel_tool_calls"`
	PreviousResponseID *string            `json:"previous_response_id"`
	Reasoning          json.RawMessage    `json:"reasoning"`
	Store              bool               `json:"store"`
	Temperature        json.RawMessage    `json:"temperature"`
	Text               json.RawMessage    `json:"text"`
	ToolChoice         json.RawMessage    `json:"tool_choice"`
	Tools              json.RawMessage    `json:"tools"`
	TopP               json.RawMessage    `json:"top_p"`
	Truncation         string             `json:"truncation"`
	Usage              *Usage             `json:"usage"`
	User               json.RawMessage    `json:"user"`
	Metadata           json.RawMessage    `json:"metadata"`
}

// Error is a failed response's error: {code, message}.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// IncompleteDetails says why a response is incomplete: ReasonMaxOutputTokens or
// ReasonContentFilter.
type IncompleteDetails struct {
	Reason string `json:"reason"`
}

// Output items (README §15.2); FunctionCall is in request.go.
type (
	// OutputMessage is the assistant's message; Content holds OutputText and
	// Refusal parts.
	OutputMessage struct {
		ID      string `json:"id"`
		Type    string `json:"type"` // "message"
		Status  string `json:"status"`
		Content []any  `json:"content"`
		Role    string `json:"role"` // "assistant"
	}
	// OutputText is an {"type":"output_text"} part; Annotations and Logprobs
	// are always arrays.
	OutputText struct {
		Type        string `json:"type"`
		Annotations []any  `json:"annotations"`
		Logprobs    []any  `json:"logprobs"`
		Text        string `json:"text"`
	}
	// Refusal is a {"type":"refusal"} part [SDK ResponseOutputRefusal].
	Refusal struct {
		Type    string `json:"type"`
		Refusal string `json:"refusal"`
	}
	// CustomToolCall is a call of a custom (freeform) tool: Input is raw text,
	// not JSON.
	CustomToolCall struct {
		ID     string `json:"id"`
		Type   string `json:"type"` // "custom_tool_call"
		Status string `json:"status"`
		CallID string `json:"call_id"`
		Input  string `json:"input"`
		Name   string `json:"name"`
	}
	// ReasoningItem is the model's reasoning: Summary is always an array (of
	// SummaryText); EncryptedContent is only there when the client asked for it
	// (include reasoning.encrypted_content). It has no status in any recording.
	ReasoningItem struct {
		ID               string        `json:"id"`
		Type             string        `json:"type"` // "reasoning"
		Summary          []SummaryText `json:"summary"`
		EncryptedContent string        `json:"encrypted_content,omitempty"`
	}
	// SummaryText is a {"type":"summary_text"} part of a reasoning summary.
	SummaryText struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
)

// Stream events (README §15.3), grouped by the members they carry; Type names
// the event. Every event has a SequenceNumber, counting from 0.
type (
	// ResponseEvent carries the whole response: created, in_progress,
	// completed, incomplete, failed.
	ResponseEvent struct {
		Type           string    `json:"type"`
		Response       *Response `json:"response"`
		SequenceNumber int64     `json:"sequence_number"`
	}
	// ItemEvent opens or closes output item OutputIndex:
	// response.output_item.added and .done.
	ItemEvent struct {
		Type           string `json:"type"`
		OutputIndex    int    `json:"output_index"`
		Item           any    `json:"item"`
		SequenceNumber int64  `json:"sequence_number"`
	}
	// PartEvent opens or closes a message's content part:
	// response.content_part.added and .done.
	PartEvent struct {
		Type           string `json:"type"`
		ItemID         string `json:"item_id"`
		OutputIndex    int    `json:"output_index"`
		ContentIndex   int    `json:"content_index"`
		Part           any    `json:"part"`
		SequenceNumber int64  `json:"sequence_number"`
	}
	// TextDeltaEvent is a fragment of an output_text part
	// (response.output_text.delta); Logprobs is always an array.
	TextDeltaEvent struct {
		Type           string `json:"type"`
		ItemID         string `json:"item_id"`
		OutputIndex    int    `json:"output_index"`
		ContentIndex   int    `json:"content_index"`
		Delta          string `json:"delta"`
		Logprobs       []any  `json:"logprobs"`
		SequenceNumber int64  `json:"sequence_number"`
	}
	// TextDoneEvent closes an output_text part (response.output_text.done).
	TextDoneEvent struct {
		Type           string `json:"type"`
		ItemID         string `json:"item_id"`
		OutputIndex    int    `json:"output_index"`
		ContentIndex   int    `json:"content_index"`
		Text           string `json:"text"`
		Logprobs       []any  `json:"logprobs"`
		SequenceNumber int64  `json:"sequence_number"`
	}
	// RefusalDeltaEvent is a fragment of a refusal part
	// (response.refusal.delta) [SDK].
	RefusalDeltaEvent struct {
		Type           string `json:"type"`
		ItemID         string `json:"item_id"`
		OutputIndex    int    `json:"output_index"`
		ContentIndex   int    `json:"content_index"`
		Delta          string `json:"delta"`
		SequenceNumber int64  `json:"sequence_number"`
	}
	// RefusalDoneEvent closes a refusal part (response.refusal.done) [SDK].
	RefusalDoneEvent struct {
		Type           string `json:"type"`
		ItemID         string `json:"item_id"`
		OutputIndex    int    `json:"output_index"`
		ContentIndex   int    `json:"content_index"`
		Refusal        string `json:"refusal"`
		SequenceNumber int64  `json:"sequence_number"`
	}
	// DeltaEvent is a fragment of a call's arguments or input:
	// response.function_call_arguments.delta and
	// response.custom_tool_call_input.delta.
	DeltaEvent struct {
		Type           string `json:"type"`
		ItemID         string `json:"item_id"`
		OutputIndex    int    `json:"output_index"`
		Delta          string `json:"delta"`
		SequenceNumber int64  `json:"sequence_number"`
	}
	// ArgumentsDoneEvent closes a function call's arguments
	// (response.function_call_arguments.done).
	ArgumentsDoneEvent struct {
		Type           string `json:"type"`
		ItemID         string `json:"item_id"`
		OutputIndex    int    `json:"output_index"`
		Arguments      string `json:"arguments"`
		SequenceNumber int64  `json:"sequence_number"`
	}
	// InputDoneEvent closes a custom tool call's input
	// (response.custom_tool_call_input.done).
	InputDoneEvent struct {
		Type           string `json:"type"`
		ItemID         string `json:"item_id"`
		OutputIndex    int    `json:"output_index"`
		Input          string `json:"input"`
		SequenceNumber int64  `json:"sequence_number"`
	}
	// SummaryPartEvent opens or closes a part of a reasoning summary:
	// response.reasoning_summary_part.added and .done.
	SummaryPartEvent struct {
		Type           string      `json:"type"`
		ItemID         string      `json:"item_id"`
		OutputIndex    int         `json:"output_index"`
		SummaryIndex   int         `json:"summary_index"`
		Part           SummaryText `json:"part"`
		SequenceNumber int64       `json:"sequence_number"`
	}
	// SummaryDeltaEvent is a fragment of a summary part
	// (response.reasoning_summary_text.delta).
	SummaryDeltaEvent struct {
		Type           string `json:"type"`
		ItemID         string `json:"item_id"`
		OutputIndex    int    `json:"output_index"`
		SummaryIndex   int    `json:"summary_index"`
		Delta          string `json:"delta"`
		SequenceNumber int64  `json:"sequence_number"`
	}
	// SummaryDoneEvent closes a summary part's text
	// (response.reasoning_summary_text.done).
	SummaryDoneEvent struct {
		Type           string `json:"type"`
		ItemID         string `json:"item_id"`
		OutputIndex    int    `json:"output_index"`
		SummaryIndex   int    `json:"summary_index"`
		Text           string `json:"text"`
		SequenceNumber int64  `json:"sequence_number"`
	}
	// ErrorEvent is an in-band error, in the spec's shape [SDK
	// ResponseErrorEvent]: code, message and param at the top level (nil code
	// and param render null).
	ErrorEvent struct {
		Type           string  `json:"type"` // "error"
		Code           *string `json:"code"`
		Message        string  `json:"message"`
		Param          *string `json:"param"`
		SequenceNumber int64   `json:"sequence_number"`
	}
)
