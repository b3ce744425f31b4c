package responses

import "encoding/json"

// Request (README §15.1): the members the router writes when it calls a
// Responses upstream for another dialect's client. A client's own Responses
// request is read, not decoded into these types: it passes through as bytes, or
// is converted member by member.
type (
	// Request is the body of POST /v1/responses.
	Request struct {
		Model             string          `json:"model"`
		Instructions      string          `json:"instructions,omitempty"`
		Input             []any           `json:"input"` // Message, FunctionCall, FunctionCallOutput items
		Tools             []FunctionTool  `json:"tools,omitempty"`
		ToolChoice        any             `json:"tool_choice,omitempty"` // "auto", "none", "required" or a NamedToolChoice
		ParallelToolCalls *bool           `json:"parallel_tool_calls,omitempty"`
		MaxOutputTokens   int64           `json:"max_output_tokens,omitempty"`
		Temperature       json.RawMessage `json:"temperature,omitempty"`
		TopP              json.RawMessage `json:"top_p,omitempty"`
		Reasoning         *Reasoning      `json:"reasoning,omitempty"`
		Text              *Text           `json:"text,omitempty"`
		User              string          `json:"user,omitempty"`
		SafetyIdentifier  string          `json:"safety_identifier,omitempty"`
		PromptCacheKey    string          `json:"prompt_cache_key,omitempty"`
		ServiceTier       string          `json:"service_tier,omitempty"`
		Metadata          json.RawMessage `json:"metadata,omitempty"`
		// Store is always written: the API stores a response unless told not
		// to (default true), which a Chat or Anthropic client never asked for.
		Store  bool `json:"store"`
		Stream bool `json:"stream,omitempty"`
	}
	// Message is an input message ([SDK] EasyInputMessageParam): role user,
	// assistant, system or developer; Content a string or []any of InputText,
	// InputImage and InputFile parts.
	Message struct {
		Type    string `json:"type"` // "message"
		Role    string `json:"role"`
		Content any    `json:"content"`
	}
	// InputText is an {"type":"input_text"} part.
	InputText struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	// InputFile is an {"type":"input_file"} part: a file stored at OpenAI
	// (FileID) or sent inline (FileData, a base64 data: URL, and Filename).
	InputFile struct {
		Type     string `json:"type"`
		FileID   string `json:"file_id,omitempty"`
		FileData string `json:"file_data,omitempty"`
		Filename string `json:"filename,omitempty"`
	}
	// InputImage is an {"type":"input_image"} part: ImageURL is an https:// or
	// a base64 data: URL.
	InputImage struct {
		Type     string `json:"type"`
		ImageURL string `json:"image_url"`
		Detail   string `json:"detail,omitempty"`
	}
	// FunctionCall is a call the model made, in the history or in the output;
	// Arguments is a JSON object encoded as a string. ID and Status are output
	// members.
	FunctionCall struct {
		ID        string `json:"id,omitempty"`
		Type      string `json:"type"` // "function_call"
		Status    string `json:"status,omitempty"`
		Arguments string `json:"arguments"`
		CallID    string `json:"call_id"`
		Name      string `json:"name"`
	}
	// FunctionCallOutput is a call's result, matched to the call by CallID.
	FunctionCallOutput struct {
		Type   string `json:"type"` // "function_call_output"
		CallID string `json:"call_id"`
		Output string `json:"output"`
	}
	// FunctionTool declares a function, flat (not nested as in Chat). Strict is
	// always written: the Responses API defaults it to true [SDK
	// FunctionToolParam], and a schema written for Chat (default false) would
	// be refused under it.
	FunctionTool struct {
		Type        string          `json:"type"` // "function"
		Name        string          `json:"name"`
		Description string          `json:"description,omitempty"`
		Parameters  json.RawMessage `json:"parameters"`
		Strict      bool            `json:"strict"`
	}
	// NamedToolChoice forces a call of one function: {"type":"function","name"}.
	NamedToolChoice struct {
		Type string `json:"type"`
		Name string `json:"name"`
	}
	// Reasoning is {effort, summary}: effort none, minimal, low, medium, high,
	// xhigh or max; summary auto, concise or detailed.
	Reasoning struct {
		Effort  string `json:"effort,omitempty"`
		Summary string `json:"summary,omitempty"`
	}
	// Text configures the output's format and verbosity (low, medium, high).
	Text struct {
		Format    *Format `json:"format,omitempty"`
		Verbosity string  `json:"verbosity,omitempty"`
	}
	// Format is {"type":"text"}, {"type":"json_object"}, or {"type":"json_schema",
	// name, schema, strict?, description?}, whose members sit in the format
	// itself, not under a json_schema key as in Chat's response_format.
	Format struct {
		Type        string          `json:"type"`
		Name        string          `json:"name,omitempty"`
		Schema      json.RawMessage `json:"schema,omitempty"`
		Strict      *bool           `json:"strict,omitempty"`
		Description string          `json:"description,omitempty"`
	}
)
