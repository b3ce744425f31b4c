package gateway

import (
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/llmrouter/llmrouter/internal/health"
	"github.com/llmrouter/llmrouter/internal/redact"
	"github.com/llmrouter/llmrouter/internal/sse"
	"github.com/llmrouter/llmrouter/internal/translate"
	"github.com/llmrouter/llmrouter/internal/upstream"
	"github.com/llmrouter/llmrouter/internal/wire"
)

// maxCoalesce bounds the client bytes gathered from events that arrived together
// before they are written and flushed.
const maxCoalesce = 32 << 10

// relay is one streaming response in flight: the attempt it belongs to, the
// upstream's events, the converter, and what has reached the client.
type relay struct {
	attempt
	rc      *http.ResponseController
	rd      *sse.Reader
	conv    converter
	buf     []byte // client bytes not yet written
	commit  bool
	log     *streamLog
	pending []sse.Event // upstream events held before the commit point, copied
	held    int         // their raw size
	fed     bool        // conv has been given an event of this attempt
	class   wire.ErrorClass
}

// converter is the part of translate.Translator a stream needs; passthrough
// implements it for same-protocol routes.
type converter interface {
	Stream(dst []byte, ev sse.Event) ([]byte, error)
	End(dst []byte) ([]byte, error)
	Done() bool
	Usage() translate.Usage
}

// terminalGrace is how long a relay that has sent the whole answer waits for the
// upstream to end its body (so that the connection can be reused) before closing it.
const terminalGrace = 250 * time.Millisecond

// maxDrainEvents bounds what is read, and discarded, after the terminal event.
const maxDrainEvents = 16

// relayStream holds the client's response until the upstream's first content event
// (the commit point, commit.go): a failure before it is a failed attempt that may
// be retried and the client sees a clean stream or a proper HTTP error; after it,
// a failure ends the stream with one in-band error event, never with a normal
// finish. The usage the stream reported is recorded however it ends.
func (a *attempt) relayStream() outcome {
	s := &relay{attempt: *a, rc: http.NewResponseController(a.c.w)}
	if a.out.proto.NDJSON() {
		s.rd = sse.NewNDJSONReader(a.idle, 0)
	} else {
		s.rd = sse.NewReader(a.idle, 0)
	}
	s.conv = a.tr
	if a.tr == nil {
		p := &passthrough{up: a.out.up, meter: a.out.up.NewMeter()}
		if f, ok := a.c.ep.client.(continued); ok {
			p.follow = f.Follow()
		}
		s.conv = p
	}
	defer func() {
		if s.commit {
			s.c.rec.usage = s.conv.Usage()
		}
	}()
	if s.log = s.c.g.newStreamLog(s.c.ep.client); s.log != nil {
		defer func() {
			if attr, ok := s.log.attr(); ok && s.commit {
				s.c.rec.extra = append(s.c.rec.extra, attr)
			}
		}()
	}
	for {
		ev, err := s.rd.Next()
		if err != nil {
			return s.finish(err)
		}
		s.c.rec.obs.event(s.out.up, ev.Data) // the answer's model and finish reasons, for traces (observe.go)
		if o, stop := s.event(ev); stop {
			return o
		}
		if s.commit && s.conv.Done() {
			return s.complete()
		}
	}
}

// complete ends a stream whose terminal event has been converted. The client gets
// the rest at once rather than when the upstream closes its body: an upstream that
// holds the connection open must not turn a finished answer into an idle timeout,
// and whatever it sends after its terminal event is never relayed.
func (s *relay) complete() outcome {
	if out, err := s.conv.End(s.buf); err == nil {
		s.write(out)
	}
	s.buf = s.buf[:0]
	s.idle.SetIdle(terminalGrace)
	for range maxDrainEvents { // normally just the body's EOF, already on its way
		if _, err := s.rd.Next(); err != nil {
			break
		}
	}
	return outcome{done: true}
}

// finish handles the end of the upstream body: a normal end, a truncation, or a
// read failure (reset, idle or total timeout, client gone).
func (s *relay) finish(err error) outcome {
	switch {
	case errors.Is(err, io.EOF) && !s.commit:
		// Every terminal event ([DONE], message_stop, done:true) is content and
		// commits, so a body that ends before the commit point is truncated; the
		// held events are not converted, to keep the translator fresh for a retry.
		err = translate.ErrTruncated
	case errors.Is(err, io.EOF):
		out, endErr := s.conv.End(s.buf)
		if endErr == nil {
			s.write(out)
			return outcome{done: true}
		}
		err = endErr
	}
	return s.failed(err)
}

// failed reports a stream failure: before the commit point it is a failed attempt,
// after it one in-band error event in the client's protocol ends the stream.
func (s *relay) failed(err error) outcome {
	c := s.c
	if c.r.Context().Err() != nil {
		c.rec.errMsg = "client went away"
		return outcome{done: true, cause: health.ClientGone}
	}
	aerr := s.streamError(err)
	var se *translate.StreamError
	if errors.As(err, &se) && s.class == wire.ErrorOther {
		s.class = wire.StatusClass(aerr.Status) // an error the converter found
	}
	cause := c.streamCause(s.ctx, err, s.class)
	if !s.commit {
		retry := s.out.t.model.Retry.OnNetworkError
		var se *translate.StreamError
		if errors.As(err, &se) {
			retry = upstream.RetryStatus(s.out.t.model.Retry, aerr.Status)
		}
		// A translator that converted events of this attempt holds their state;
		// this only happens when an event fails to convert at the commit point.
		// (The next attempt would get a fresh one (call.translator); not retrying
		// keeps the policy as it was.)
		if s.fed && s.tr != nil {
			retry = false
		}
		return outcome{retryable: retry, err: aerr, cause: cause, class: s.class}
	}
	c.rec.obs.broke(s.ctx, err) // an error after the answer began (observe.go)
	// The error's cause may quote the upstream (an in-band message echoing a key):
	// the log gets it scrubbed like the client does.
	c.rec.errMsg = redact.Scrub(aerr.Error(), c.secrets()...)
	s.write(s.failEvents(aerr))
	return outcome{done: true, cause: cause}
}

// continued is a client protocol whose failed streams end with events that
// continue them (the Responses API's error event and response.failed, numbered
// after the events sent) rather than with one error event. A translator to it
// writes them itself (translate.Failer); a same-protocol relay has its Follower.
type continued interface {
	Follow() wire.Follower
	// FailureCode is the code those events carry for an error of status and
	// type typ (may be empty).
	FailureCode(status int, typ string) string
}

// failEvents appends to what is pending the events that end a stream failed
// after its commit point: those that continue it, for a client protocol whose
// failures do, else its error event.
func (s *relay) failEvents(aerr *apiError) []byte {
	client := s.c.ep.client
	var f translate.Failer
	switch conv := s.conv.(type) {
	case translate.Failer:
		f = conv
	case *passthrough:
		f = conv.follow // a nil Follower is a nil Failer
	}
	if cont, ok := client.(continued); ok && f != nil {
		return f.Fail(s.buf, cont.FailureCode(aerr.Status, aerr.Type), aerr.Message)
	}
	return append(s.buf, client.ErrorEvent(aerr.Status, aerr.Type, aerr.Param, aerr.Message)...)
}

// streamError describes a stream failure for the client, without secrets.
func (s *relay) streamError(err error) *apiError {
	if e := stoppedError(s.ctx, err); e != nil {
		return e
	}
	var se *translate.StreamError
	switch {
	case errors.As(err, &se):
		return inBandAPIError(s.c.ep.client, se, s.c.secrets())
	case errors.Is(err, translate.ErrTruncated):
		return &apiError{Status: http.StatusBadGateway, Message: "upstream stream ended before it was complete (truncated)", Err: err}
	case errors.Is(err, sse.ErrTooLarge):
		return &apiError{Status: http.StatusBadGateway, Message: "upstream sent a stream event larger than the router accepts", Err: err}
	case errors.As(err, new(*badEventError)):
		msg := redact.Scrub(err.Error(), s.c.secrets()...)
		return &apiError{Status: http.StatusBadGateway, Message: "upstream sent a malformed stream event: " + msg, Err: err}
	}
	return failure(s.ctx, err, "upstream timed out mid-stream: ", "upstream connection failed mid-stream: ")
}

// write sends b to the client, committing the response first if needed, and
// flushes. It reports false when the client is gone.
func (s *relay) write(b []byte) bool {
	if !s.commit {
		s.commit = true
		s.c.committed()
		s.startResponse()
	}
	if len(b) == 0 {
		_ = s.rc.Flush()
		return true
	}
	s.idle.Pause()
	defer s.idle.Resume()
	if d := s.out.t.model.Timeouts.Idle; d > 0 {
		_ = s.rc.SetWriteDeadline(time.Now().Add(d))
	}
	if _, err := s.c.w.Write(b); err != nil {
		s.c.rec.errMsg = "writing to the client failed"
		return false
	}
	s.log.add(b)
	if err := s.rc.Flush(); err != nil {
		s.c.rec.errMsg = "writing to the client failed"
		return false
	}
	return true
}

func (s *relay) startResponse() {
	h := s.c.w.Header()
	copyResponseHeaders(h, s.resp, s.tr != nil, s.c.secrets())
	if s.tr != nil || s.resp.Header.Get("Content-Type") == "" {
		h.Set("Content-Type", "text/event-stream; charset=utf-8")
	}
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	s.c.w.WriteHeader(http.StatusOK)
}
