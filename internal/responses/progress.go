package responses

import (
	"encoding/json"

	"github.com/tidwall/gjson"
)

// Progress follows a Responses stream relayed as it is (a passthrough route):
// the last sequence number and the response's id, model and creation time, so
// that a relay whose upstream fails midway (a reset, a timeout) can end the
// client's stream with an error event and a response.failed that continue it, as
// the API itself does (README §15.3), rather than with a bare error. It keeps a
// few scalars, whatever the stream's length.
type Progress struct {
	seq       int64 // last sequence number seen; -1 before any
	id, model string
	created   int64
	terminal  bool
}

// NewProgress returns a Progress that has seen nothing.
func NewProgress() *Progress { return &Progress{seq: -1} }

// Observe reads one relayed event.
func (p *Progress) Observe(name string, data []byte) {
	r := gjson.GetManyBytes(data, "type", "sequence_number", "response.id", "response.model", "response.created_at")
	if n := r[1]; n.Type == gjson.Number && n.Int() > p.seq {
		p.seq = n.Int()
	}
	if r[2].String() != "" {
		p.id, p.model, p.created = r[2].String(), r[3].String(), r[4].Int()
	}
	typ := r[0].String()
	if typ == "" {
		typ = name
	}
	p.terminal = p.terminal || IsTerminal(typ)
}

// Terminal reports whether the terminal event has been seen.
func (p *Progress) Terminal() bool { return p.terminal }

// Fail appends the two events that end a failed stream (Failure), framed as
// SSE: it implements wire.Follower with Observe.
func (p *Progress) Fail(dst []byte, code, message string) []byte {
	errorData, failedData := p.Failure(code, message)
	return appendRaw(appendRaw(dst, EventError, errorData), EventFailed, failedData)
}

// Failure returns the data of the two events that end a failed stream: an
// error event and response.failed, numbered after the last event seen. code
// may be empty (null).
func (p *Progress) Failure(code, message string) (errorData, failedData []byte) {
	var c *string
	if code != "" {
		c = &code
	}
	errorData, _ = json.Marshal(ErrorEvent{Type: EventError, Code: c, Message: message, SequenceNumber: p.seq + 1})
	failedData, _ = json.Marshal(ResponseEvent{Type: EventFailed, SequenceNumber: p.seq + 2, Response: &Response{
		ID: p.id, Object: ObjectResponse, CreatedAt: p.created, Status: StatusFailed, Model: p.model,
		Error: &Error{Code: code, Message: message}, Output: []any{}, Truncation: "disabled",
	}})
	p.seq += 2
	p.terminal = true
	return errorData, failedData
}
