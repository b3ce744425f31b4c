package translate

// OpenAI Chat Completions client, Anthropic Messages upstream: the response side.
// Response and the Stream/End decoder that turns Anthropic events into chat chunks
// (also used by completions_anthropic.go); the request side is in openai_anthropic.go.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/llmrouter/llmrouter/internal/sse"
	"github.com/tidwall/gjson"
)

// Response implements Translator.
func (t *openAIToAnthropic) Response(body []byte) ([]byte, error) {
	c, err := anthropicToChat(body)
	if err != nil {
		return nil, err
	}
	return marshal("chat completion", c)
}

// OpenAI response and chunk shapes (README §1.2-1.3).
type (
	chatCompletion struct {
		ID      string       `json:"id"`
		Object  string       `json:"object"`
		Created int64        `json:"created"`
		Model   string       `json:"model"`
		Choices []chatChoice `json:"choices"`
		Usage   *openAIUsage `json:"usage,omitempty"`
	}
	chatChoice struct {
		Index        int         `json:"index"`
		Message      chatRespMsg `json:"message"`
		Logprobs     any         `json:"logprobs"`
		FinishReason string      `json:"finish_reason"`
	}
	chatRespMsg struct {
		Role             string         `json:"role"`
		Content          *string        `json:"content"`
		Refusal          *string        `json:"refusal"` // required, null: Anthropic has no refusal text
		ReasoningContent string         `json:"reasoning_content,omitempty"`
		ToolCalls        []chatToolCall `json:"tool_calls,omitempty"`
	}
	chatToolCall struct {
		ID       string       `json:"id"`
		Type     string       `json:"type"`
		Function chatFunction `json:"function"`
	}
	chatFunction struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	}
)

// anthropicToChat converts an Anthropic message into a chat completion: text blocks
// joined into content (null when there are none), thinking blocks into the
// non-standard reasoning_content, tool_use blocks into tool_calls. redacted_thinking
// and server-tool blocks have no OpenAI form and are left out.
func anthropicToChat(body []byte) (*chatCompletion, error) {
	if !json.Valid(body) {
		return nil, fmt.Errorf("decoding anthropic response: invalid JSON")
	}
	r := gjson.ParseBytes(body)
	msg := chatRespMsg{Role: "assistant"}
	var text, reasoning strings.Builder
	hasText := false
	r.Get("content").ForEach(func(_, b gjson.Result) bool {
		switch b.Get("type").String() {
		case "text":
			text.WriteString(b.Get("text").String())
			hasText = true
		case "thinking":
			reasoning.WriteString(b.Get("thinking").String())
		case "tool_use":
			msg.ToolCalls = append(msg.ToolCalls, chatToolCall{
				ID: b.Get("id").String(), Type: "function",
				Function: chatFunction{Name: b.Get("name").String(), Arguments: inputArguments(b.Get("input"))},
			})
		}
		return true
	})
	if hasText {
		s := text.String()
		msg.Content = &s
	}
	msg.ReasoningContent = reasoning.String()
	var u anthropicUsage
	readAnthropicUsage(&u, r.Get("usage"))
	return &chatCompletion{
		ID: cmpOr(r.Get("id").String(), newID("chatcmpl-")), Object: "chat.completion",
		Created: clock().Unix(), Model: r.Get("model").String(),
		Choices: []chatChoice{{Message: msg, FinishReason: anthropicToOpenAIFinish(r.Get("stop_reason").String())}},
		Usage:   u.toOpenAI(true),
	}, nil
}

// inputArguments renders an Anthropic tool input object as an OpenAI arguments
// string (compact JSON); anything but an object becomes "{}".
func inputArguments(in gjson.Result) string {
	if !in.IsObject() {
		return "{}"
	}
	var b bytes.Buffer
	if json.Compact(&b, []byte(in.Raw)) != nil {
		return "{}"
	}
	return b.String()
}

// Stream implements Translator: Anthropic SSE events in, OpenAI chunks out
// (README §13.1, "Anthropic upstream → OpenAI client").
func (t *openAIToAnthropic) Stream(dst []byte, ev sse.Event) ([]byte, error) {
	d, err := t.dec.decode(ev)
	if err != nil {
		return dst, err
	}
	switch d.kind {
	case deltaNone:
		return dst, nil
	case deltaFinish:
		return t.dec.appendChunk(dst, chunkDelta{}, &d.finish)
	case deltaDone:
		if t.includeUsage {
			var err error
			if dst, err = t.dec.appendUsageChunk(dst, "chat.completion.chunk", true); err != nil {
				return dst, err
			}
		}
		return sse.AppendEvent(dst, "", []byte("[DONE]")), nil
	}
	return t.dec.appendChunk(dst, d.chunkDelta(), nil)
}

// Done implements Translator.
func (t *openAIToAnthropic) Done() bool { return t.dec.stopped }

// End implements Translator: an Anthropic stream is complete only after message_stop.
func (t *openAIToAnthropic) End(dst []byte) ([]byte, error) {
	if !t.dec.stopped {
		return dst, ErrTruncated
	}
	return dst, nil
}

// deltaKind says what one Anthropic stream event means to an OpenAI client.
type deltaKind int

const (
	deltaNone      deltaKind = iota // nothing to send (ping, block stop, signature…)
	deltaRole                       // message_start: the role chunk
	deltaText                       // text_delta
	deltaReasoning                  // thinking_delta
	deltaToolStart                  // content_block_start of a tool_use block
	deltaToolArgs                   // input_json_delta
	deltaFinish                     // message_delta: the finish reason
	deltaDone                       // message_stop
)

// chatDelta is one Anthropic stream event reduced to what OpenAI clients can see.
// Chat and legacy completions render it differently.
type chatDelta struct {
	kind     deltaKind
	text     string // text, reasoning or arguments fragment
	tool     int    // ordinal of the tool call (OpenAI tool_calls[].index)
	id, name string // tool call start
	finish   string // OpenAI finish_reason
}

// anthropicDecoder turns Anthropic SSE events into chatDeltas. It holds only the
// message id, model and usage and the open block's index, type and tool ordinal:
// constant memory however long the stream.
type anthropicDecoder struct {
	id, model string
	created   int64
	usage     anthropicUsage
	block     int64  // index of the open content block
	blockType string // its type; "" when no block is open
	tool      int    // tool ordinal of the open tool_use block
	tools     int    // tool_use blocks started so far
	started   bool   // message_start seen
	stopped   bool   // message_stop seen
	nullUsage bool   // the client asked for include_usage: chunks say "usage": null
}

// chunkUsage is the usage value of an ordinary chunk: null with include_usage, else
// absent.
func (d *anthropicDecoder) chunkUsage() any {
	if d.nullUsage {
		return json.RawMessage("null")
	}
	return nil
}

// decode reads one event. An `error` event is returned as a *StreamError.
func (d *anthropicDecoder) decode(ev sse.Event) (chatDelta, error) {
	data := bytes.TrimSpace(ev.Data)
	if d.stopped || len(data) == 0 {
		return chatDelta{}, nil
	}
	if !json.Valid(data) {
		return chatDelta{}, fmt.Errorf("anthropic stream: %q event data is not valid JSON", ev.Name)
	}
	r := gjson.ParseBytes(data)
	typ := cmpOr(r.Get("type").String(), ev.Name)
	if d.created == 0 {
		d.created = clock().Unix()
	}
	switch typ {
	case "message_start":
		return d.messageStart(r.Get("message")), nil
	case "content_block_start":
		return d.blockStart(r), nil
	case "content_block_delta":
		return d.blockDelta(r), nil
	case "content_block_stop":
		d.blockType = ""
	case "message_delta":
		readAnthropicUsage(&d.usage, r.Get("usage"))
		return chatDelta{kind: deltaFinish, finish: anthropicToOpenAIFinish(r.Get("delta.stop_reason").String())}, nil
	case "message_stop":
		d.stopped = true
		return chatDelta{kind: deltaDone}, nil
	case "error":
		msg := cmpOr(r.Get("error.message").String(), string(data))
		return chatDelta{}, &StreamError{Type: r.Get("error.type").String(), Message: msg}
	}
	return chatDelta{}, nil // ping, and event types added after this was written
}

func (d *anthropicDecoder) messageStart(m gjson.Result) chatDelta {
	if d.started {
		return chatDelta{}
	}
	d.started = true
	d.id, d.model = m.Get("id").String(), m.Get("model").String()
	readAnthropicUsage(&d.usage, m.Get("usage"))
	return chatDelta{kind: deltaRole}
}

func (d *anthropicDecoder) blockStart(r gjson.Result) chatDelta {
	cb := r.Get("content_block")
	d.block, d.blockType = r.Get("index").Int(), cb.Get("type").String()
	switch d.blockType {
	case "text":
		return chatDelta{kind: deltaText, text: cb.Get("text").String()}
	case "thinking":
		return chatDelta{kind: deltaReasoning, text: cb.Get("thinking").String()}
	case "tool_use":
		// The start's input is always {}: the arguments come as input_json_delta.
		d.tool = d.tools
		d.tools++
		return chatDelta{kind: deltaToolStart, tool: d.tool, id: cb.Get("id").String(), name: cb.Get("name").String()}
	}
	return chatDelta{} // redacted_thinking, server tools: nothing an OpenAI client can use
}

func (d *anthropicDecoder) blockDelta(r gjson.Result) chatDelta {
	dl := r.Get("delta")
	switch dl.Get("type").String() {
	case "text_delta":
		return chatDelta{kind: deltaText, text: dl.Get("text").String()}
	case "thinking_delta":
		return chatDelta{kind: deltaReasoning, text: dl.Get("thinking").String()}
	case "input_json_delta":
		if d.blockType == "tool_use" && r.Get("index").Int() == d.block {
			return chatDelta{kind: deltaToolArgs, tool: d.tool, text: dl.Get("partial_json").String()}
		}
	}
	return chatDelta{} // signature_delta, citations_delta
}

// OpenAI chunk shapes (README §1.3).
type (
	chatChunk struct {
		ID      string        `json:"id"`
		Object  string        `json:"object"`
		Created int64         `json:"created"`
		Model   string        `json:"model"`
		Choices []chunkChoice `json:"choices"`
		// Absent without include_usage; with it null on every chunk but the last,
		// which carries the totals (README §1.3).
		Usage any `json:"usage,omitempty"`
	}
	chunkChoice struct {
		Index        int        `json:"index"`
		Delta        chunkDelta `json:"delta"`
		Logprobs     any        `json:"logprobs"`
		FinishReason *string    `json:"finish_reason"`
	}
	chunkDelta struct {
		Role             string          `json:"role,omitempty"`
		Content          *string         `json:"content,omitempty"`
		ReasoningContent string          `json:"reasoning_content,omitempty"`
		ToolCalls        []chunkToolCall `json:"tool_calls,omitempty"`
	}
	chunkToolCall struct {
		Index    int           `json:"index"`
		ID       string        `json:"id,omitempty"`
		Type     string        `json:"type,omitempty"`
		Function chunkFunction `json:"function"`
	}
	chunkFunction struct {
		Name      string `json:"name,omitempty"`
		Arguments string `json:"arguments"`
	}
)

// chunkDelta renders a role, text, reasoning or tool delta. Empty fragments render
// as an empty delta, which appendChunk skips.
func (d chatDelta) chunkDelta() chunkDelta {
	switch d.kind {
	case deltaRole:
		empty := ""
		return chunkDelta{Role: "assistant", Content: &empty}
	case deltaText:
		if d.text != "" {
			return chunkDelta{Content: &d.text}
		}
	case deltaReasoning:
		return chunkDelta{ReasoningContent: d.text}
	case deltaToolStart:
		return chunkDelta{ToolCalls: []chunkToolCall{{Index: d.tool, ID: d.id, Type: "function",
			Function: chunkFunction{Name: d.name}}}}
	case deltaToolArgs:
		if d.text != "" {
			return chunkDelta{ToolCalls: []chunkToolCall{{Index: d.tool, Function: chunkFunction{Arguments: d.text}}}}
		}
	}
	return chunkDelta{}
}

// appendChunk appends one chat.completion.chunk event. A chunk with neither a delta
// nor a finish reason is not worth a line and is skipped.
func (d *anthropicDecoder) appendChunk(dst []byte, delta chunkDelta, finish *string) ([]byte, error) {
	if finish == nil && delta.Role == "" && delta.Content == nil && delta.ReasoningContent == "" && delta.ToolCalls == nil {
		return dst, nil
	}
	b, err := marshal("chat chunk", chatChunk{
		ID: d.id, Object: "chat.completion.chunk", Created: d.created, Model: d.model,
		Choices: []chunkChoice{{Delta: delta, FinishReason: finish}}, Usage: d.chunkUsage(),
	})
	if err != nil {
		return dst, err
	}
	return sse.AppendEvent(dst, "", b), nil
}

// appendUsageChunk appends the include_usage chunk: empty choices, the whole usage.
func (d *anthropicDecoder) appendUsageChunk(dst []byte, object string, details bool) ([]byte, error) {
	b, err := marshal("usage chunk", chatChunk{
		ID: d.id, Object: object, Created: d.created, Model: d.model,
		Choices: []chunkChoice{}, Usage: d.usage.toOpenAI(details),
	})
	if err != nil {
		return dst, err
	}
	return sse.AppendEvent(dst, "", b), nil
}
