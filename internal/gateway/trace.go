package gateway

import (
	"encoding/json"
	"io"
	"log/slog"

	"github.com/llmrouter/llmrouter/internal/metrics"
	"github.com/llmrouter/llmrouter/internal/policy"
	"github.com/llmrouter/llmrouter/internal/redact"
	"github.com/llmrouter/llmrouter/internal/telemetry"
	"github.com/llmrouter/llmrouter/internal/wire"
)

// What the spans say beyond the request's metrics (observe.go records both): the
// model that answered and why it stopped, read from the upstream's own events or
// body, and, when content is captured, the prompt and the answer.

// answered is what a span needs of an upstream's protocol: what an answer body
// or a stream event says of the model that answered and why it stopped.
type answered interface {
	ReadAnswer(data []byte, a *wire.Answer)
}

// event reads an upstream stream event, or a whole answer body, for the
// attempt's span.
func (ob *observation) event(up answered, data []byte) {
	if ob.a.span != nil {
		up.ReadAnswer(data, &ob.a.answer)
	}
}

// maxTracedHead bounds what is kept of a relayed answer to read its model and
// finish reasons from when the attempt ends.
const maxTracedHead = 64 << 10

// tee keeps the head of a relayed answer for the attempt's span.
func (ob *observation) tee(dst io.Writer) io.Writer {
	if ob.a.span == nil {
		return dst
	}
	ob.a.head = &capBuffer{max: maxTracedHead}
	return io.MultiWriter(dst, ob.a.head)
}

// upstreamModel is the model name an attempt to t sends upstream.
func upstreamModel(t *target, requested string) string {
	if t.model.UpstreamModel != "" {
		return t.model.UpstreamModel
	}
	return requested
}

// endSpan ends the server span: the status and cause the client got, the
// deployment that answered, the usage; a request refused before it was routed
// learns its model here. The trace id goes to the access-log line.
func (ob *observation) endSpan(rec *record, status int, cause metrics.Cause, route string) {
	if ob.span == nil {
		return
	}
	if !ob.started && rec.model != "" {
		ob.span.Routed(ob.ep.api.Operation().String(), rec.model, route, false)
	}
	res := telemetry.Result{Status: status, ErrorType: cause.String(), Usage: telemetry.Usage(rec.usage)}
	if ob.last != nil {
		res.Deployment = ob.last.model.ID
	}
	ob.span.End(res)
	if id := ob.span.TraceID(); id != "" {
		rec.extra = append(rec.extra, slog.String("trace_id", id))
	}
}

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
