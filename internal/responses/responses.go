// Package responses holds the OpenAI Responses API wire format (README §15): the
// request, response, output item, stream event and usage types, and the facts
// llmrouter needs about the API on the client's side and the upstream's (the
// methods of API, api.go): paths, authentication, in-band errors, which stream
// events are content and which end the stream, usage reading, where a request's
// texts are, the transcript, and how a relayed stream that fails is ended
// (Progress). Its error envelope is OpenAI's ({"error":{message,type,param,code}},
// package openai), even for a request that asked for a stream
// (responses/openai-responses-error-400.json). It imports only the standard
// library, gjson, and packages wire and openai.
//
// Field sources: the recorded fixtures in testdata/responses and
// testdata/ollama-real/v1_responses_*, the digest, and the official SDK's types
// (github.com/openai/openai-go/v3/responses, cited as [SDK] where a field is in
// no recording).
package responses

import "github.com/tidwall/gjson"

// Upstream paths, relative to an openai endpoint that already ends in /v1. The
// stateful calls (retrieve, delete, cancel, input items) live under Path/{id}.
const (
	Path            = "/responses"
	InputTokensPath = "/responses/input_tokens" // [SDK] InputTokenService.Count
)

// ObjectResponse is the "object" member of a response.
const ObjectResponse = "response"

// Statuses of a response (Response.Status) and of an output item.
const (
	StatusInProgress = "in_progress"
	StatusCompleted  = "completed"
	StatusIncomplete = "incomplete"
	StatusFailed     = "failed"
)

// Reasons of incomplete_details (README §15.2).
const (
	ReasonMaxOutputTokens = "max_output_tokens"
	ReasonContentFilter   = "content_filter"
)

// IncludeEncryptedReasoning is the include[] entry that asks for reasoning
// items' encrypted_content.
const IncludeEncryptedReasoning = "reasoning.encrypted_content"

// Item and content part types (README §15.1-15.2).
const (
	ItemMessage              = "message"
	ItemFunctionCall         = "function_call"
	ItemFunctionCallOutput   = "function_call_output"
	ItemCustomToolCall       = "custom_tool_call"
	ItemCustomToolCallOutput = "custom_tool_call_output"
	ItemReasoning            = "reasoning"
	ItemReference            = "item_reference" // [SDK] ResponseInputItemItemReferenceParam: a stored item

	PartInputText     = "input_text"
	PartInputImage    = "input_image"
	PartInputFile     = "input_file"
	PartOutputText    = "output_text"
	PartRefusal       = "refusal"
	PartSummaryText   = "summary_text"
	PartReasoningText = "reasoning_text"
)

// Tool types a client declares itself. Every other tool type (web_search*,
// file_search, code_interpreter, computer_use*, image_generation, mcp, namespace,
// local_shell, tool_search, ...) runs at OpenAI or needs OpenAI's own item
// types: only an OpenAI upstream can take it.
const (
	ToolFunction = "function"
	ToolCustom   = "custom"
)

// Stream event types (README §15.3); an event's `event:` line equals its data's
// "type" in every OpenAI recording.
const (
	EventCreated             = "response.created"
	EventInProgress          = "response.in_progress"
	EventQueued              = "response.queued" // [SDK] ResponseQueuedEvent
	EventCompleted           = "response.completed"
	EventIncomplete          = "response.incomplete"
	EventFailed              = "response.failed"
	EventError               = "error"
	EventOutputItemAdded     = "response.output_item.added"
	EventOutputItemDone      = "response.output_item.done"
	EventContentPartAdded    = "response.content_part.added"
	EventContentPartDone     = "response.content_part.done"
	EventOutputTextDelta     = "response.output_text.delta"
	EventOutputTextDone      = "response.output_text.done"
	EventRefusalDelta        = "response.refusal.delta" // [SDK] ResponseRefusalDeltaEvent
	EventRefusalDone         = "response.refusal.done"  // [SDK] ResponseRefusalDoneEvent
	EventArgumentsDelta      = "response.function_call_arguments.delta"
	EventArgumentsDone       = "response.function_call_arguments.done"
	EventCustomInputDelta    = "response.custom_tool_call_input.delta"
	EventCustomInputDone     = "response.custom_tool_call_input.done"
	EventSummaryPartAdded    = "response.reasoning_summary_part.added"
	EventSummaryPartDone     = "response.reasoning_summary_part.done"
	EventSummaryTextDelta    = "response.reasoning_summary_text.delta"
	EventSummaryTextDone     = "response.reasoning_summary_text.done"
	EventReasoningTextDelta  = "response.reasoning_text.delta"
	EventReasoningTextDone   = "response.reasoning_text.done"
	EventTextAnnotationAdded = "response.output_text.annotation.added"
)

// EventType is an event's type: its data's "type", else its `event:` name
// (OpenRouter sends no `event:` lines, README §15.3).
func EventType(name string, data []byte) string {
	if t := gjson.GetBytes(data, "type"); t.Type == gjson.String {
		return t.Str
	}
	return name
}

// IsTerminal reports whether an event type ends a stream: exactly one of
// response.completed, response.incomplete or response.failed comes last.
func IsTerminal(typ string) bool {
	return typ == EventCompleted || typ == EventIncomplete || typ == EventFailed
}

// IsContent reports whether a stream event is past the commit point: output the
// client must see once sent, rather than the preamble a retried attempt can
// repeat (created, in_progress, queued, the opening of an empty message or
// reasoning item and of its parts), which carries nothing the answer depends on.
// Terminal events are content; so are events of types this package does not
// know, which a relay passes on.
func IsContent(name string, data []byte) bool {
	switch EventType(name, data) {
	case EventCreated, EventInProgress, EventQueued, EventContentPartAdded, EventSummaryPartAdded:
		return false
	case EventOutputItemAdded:
		typ := gjson.GetBytes(data, "item.type").String()
		return typ != ItemMessage && typ != ItemReasoning
	case "":
		return false // a comment or keep-alive without data
	}
	return true
}

// ParseEventError reads an in-band failure: an `error` event, whose fields are
// top-level in the spec ([SDK] ResponseErrorEvent: code, message, param) and
// nested under "error" in the recording (README §15.3, accept both), or a
// response.failed event (response.error {code, message}). ok is false for any
// other event. code may be empty; message is never empty when ok.
func ParseEventError(name string, data []byte) (code, message string, ok bool) {
	switch EventType(name, data) {
	case EventError:
		r := gjson.ParseBytes(data)
		if e := r.Get("error"); e.IsObject() {
			r = e
		}
		code, message = r.Get("code").String(), r.Get("message").String()
		if code == "" {
			code = r.Get("type").String()
		}
	case EventFailed:
		e := gjson.GetBytes(data, "response.error")
		code, message = e.Get("code").String(), e.Get("message").String()
	default:
		return "", "", false
	}
	if message == "" {
		message = string(data)
	}
	return code, message, true
}
