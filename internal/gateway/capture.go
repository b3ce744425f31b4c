package gateway

import (
	"encoding/json"

	"github.com/llmrouter/llmrouter/internal/policy"
	"github.com/llmrouter/llmrouter/internal/redact"
	"github.com/llmrouter/llmrouter/internal/wire"
)

// Content capture (telemetry.traces.capture_content): an attempt's span gets the
// prompt as it was sent upstream (gen_ai.input.messages) and the text of the
// answer (gen_ai.output.messages), in the GenAI conventions' JSON form, scrubbed
// of every key the request knows (the configured ones and the client's). Only
// texts are captured: the ones transforms rewrite (policy.Texts), never images,
// tool arguments or thinking.

// maxCaptured bounds the prompt text gathered for a span; the tracer cuts the
// attribute at its own bound too.
const maxCaptured = 64 << 10

// capturedMessage is one message of gen_ai.input.messages or
// gen_ai.output.messages.
type capturedMessage struct {
	Role         string         `json:"role"`
	Parts        []capturedPart `json:"parts"`
	FinishReason string         `json:"finish_reason,omitempty"`
}

type capturedPart struct {
	Type    string `json:"type"`
	Content string `json:"content"`
}

// inputMessages is the prompt of an upstream request body: one message per text,
// under the role it counts as, up to maxCaptured bytes of text.
func inputMessages(body []byte, d policy.Dialect, secrets []string) string {
	var msgs []capturedMessage
	size := 0
	policy.Texts(body, d, func(role string, text []byte) {
		if size >= maxCaptured {
			return
		}
		size += len(text)
		if role == "" {
			role = "user"
		}
		msgs = append(msgs, capturedMessage{Role: role, Parts: []capturedPart{{Type: "text", Content: string(text)}}})
	})
	return captured(msgs, secrets)
}

// outputMessages is the answer an attempt read: its text and first finish reason.
func outputMessages(a *wire.Answer, secrets []string) string {
	m := capturedMessage{Role: "assistant", Parts: []capturedPart{{Type: "text", Content: string(a.Text)}}}
	if len(a.Finish) > 0 {
		m.FinishReason = a.Finish[0]
	}
	return captured([]capturedMessage{m}, secrets)
}

func captured(msgs []capturedMessage, secrets []string) string {
	if msgs == nil {
		msgs = []capturedMessage{}
	}
	b, err := json.Marshal(msgs)
	if err != nil {
		return "[]"
	}
	return redact.Scrub(string(b), secrets...)
}
