package gateway

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/llmrouter/llmrouter/internal/redact"
	"github.com/llmrouter/llmrouter/internal/sse"
	"github.com/llmrouter/llmrouter/internal/translate"
	"github.com/llmrouter/llmrouter/internal/upstream"
)

// maxPending bounds what is held back before the commit point (role chunks,
// message_start, pings): past it the stream is committed anyway.
const maxPending = 64 << 10

// maxCoalesce bounds the client bytes gathered from events that arrived together
// before they are written and flushed.
const maxCoalesce = 32 << 10

// relay is one streaming response in flight: upstream reader, converter, client.
type relay struct {
	g       *Gateway
	x       *exchange
	w       http.ResponseWriter
	rc      *http.ResponseController
	resp    *http.Response
	idle    *upstream.IdleReader
	rd      *sse.Reader
	conv    converter
	rec     *record
	out     []byte
	commit  bool
	log     *streamLog
	pending []sse.Event // upstream events held before the commit point, copied
	held    int         // their raw size
	fed     bool        // conv has been given an event of this attempt
}

// converter is the part of translate.Translator a stream needs; passthrough
// implements it for same-protocol routes.
type converter interface {
	Stream(dst []byte, ev sse.Event) ([]byte, error)
	End(dst []byte) ([]byte, error)
	Done() bool
}

// terminalGrace is how long a relay that has sent the whole answer waits for the
// upstream to end its body (so that the connection can be reused) before closing it.
const terminalGrace = 250 * time.Millisecond

// maxDrainEvents bounds what is read, and discarded, after the terminal event.
const maxDrainEvents = 16

// relayStream holds the client's response until the upstream's first content event
// (the commit point): a failure before it is a failed attempt that may be retried
// and the client sees a clean stream or a proper HTTP error; after it, a failure
// ends the stream with one in-band error event, never with a normal finish.
func (g *Gateway) relayStream(ctx context.Context, w http.ResponseWriter, r *http.Request, x *exchange, rec *record, resp *http.Response, idle *upstream.IdleReader) outcome {
	s := &relay{g: g, x: x, w: w, rc: http.NewResponseController(w), resp: resp, idle: idle, rec: rec}
	if x.up.NDJSON() {
		s.rd = sse.NewNDJSONReader(idle, 0)
	} else {
		s.rd = sse.NewReader(idle, 0)
	}
	s.conv = x.tr
	if x.tr == nil {
		s.conv = &passthrough{up: x.up}
	}
	if s.log = g.newStreamLog(x.client); s.log != nil {
		defer func() {
			if a, ok := s.log.attr(); ok && s.commit {
				rec.extra = append(rec.extra, a)
			}
		}()
	}
	for {
		ev, err := s.rd.Next()
		if err != nil {
			return s.finish(ctx, r, err)
		}
		if o, stop := s.event(ctx, r, ev); stop {
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
	if out, err := s.conv.End(s.out); err == nil {
		s.write(out)
	}
	s.out = s.out[:0]
	s.idle.SetIdle(terminalGrace)
	for range maxDrainEvents { // normally just the body's EOF, already on its way
		if _, err := s.rd.Next(); err != nil {
			break
		}
	}
	return outcome{done: true}
}

// event handles one upstream event; stop reports that the attempt is over.
//
// Before the commit point the events are only held, unconverted: the translator
// keeps the stream's state (message_start sent, role chunk sent, ids, usage), so
// had it converted the events of an attempt that then fails, the retry would be
// converted as the continuation of a stream the client never saw, without its
// message_start or role chunk. In-band errors are recognised on the raw events, so
// that such an attempt fails (and is retried) without the converter.
func (s *relay) event(ctx context.Context, r *http.Request, ev sse.Event) (outcome, bool) {
	if !s.commit {
		if err := inBandError(s.x.up, ev); err != nil {
			return s.failed(ctx, r, err), true
		}
		if !isContent(s.x.up, ev) && s.held+len(ev.Raw) < maxPending {
			s.pending = append(s.pending, sse.Event{Name: ev.Name, Data: bytes.Clone(ev.Data), Raw: bytes.Clone(ev.Raw)})
			s.held += len(ev.Raw)
			return outcome{}, false
		}
		if err := s.convertHeld(); err != nil {
			return s.failed(ctx, r, err), true
		}
	}
	if err := s.convert(ev); err != nil {
		return s.failed(ctx, r, err), true
	}
	if s.commit && len(s.out) < maxCoalesce && s.rd.Ready() {
		return outcome{}, false // the next event is already here: one write for both
	}
	if !s.write(s.out) {
		return outcome{done: true}, true
	}
	s.out = s.out[:0]
	return outcome{}, false
}

// convert appends the client's bytes for one upstream event to s.out. A failure
// other than an in-band upstream error is an event the converter cannot read.
func (s *relay) convert(ev sse.Event) error {
	s.fed = true
	var err error
	s.out, err = s.conv.Stream(s.out, ev)
	var se *translate.StreamError
	if err != nil && !errors.As(err, &se) {
		return &badEventError{err: err}
	}
	return err
}

// convertHeld converts the events held before the commit point.
func (s *relay) convertHeld() error {
	for _, ev := range s.pending {
		if err := s.convert(ev); err != nil {
			return err
		}
	}
	s.pending, s.held = nil, 0
	return nil
}

// badEventError is an upstream stream event that could not be converted
// (malformed JSON, an unexpected shape): an upstream protocol error, not a
// connection failure.
type badEventError struct{ err error }

func (e *badEventError) Error() string { return e.err.Error() }
func (e *badEventError) Unwrap() error { return e.err }

// finish handles the end of the upstream body: a normal end, a truncation, or a
// read failure (reset, idle or total timeout, client gone).
func (s *relay) finish(ctx context.Context, r *http.Request, err error) outcome {
	switch {
	case errors.Is(err, io.EOF) && !s.commit:
		// Every terminal event ([DONE], message_stop, done:true) is content and
		// commits, so a body that ends before the commit point is truncated; the
		// held events are not converted, to keep the translator fresh for a retry.
		err = translate.ErrTruncated
	case errors.Is(err, io.EOF):
		out, endErr := s.conv.End(s.out)
		if endErr == nil {
			s.write(out)
			return outcome{done: true}
		}
		err = endErr
	}
	return s.failed(ctx, r, err)
}

// failed reports a stream failure: before the commit point it is a failed attempt,
// after it one in-band error event in the client's protocol ends the stream.
func (s *relay) failed(ctx context.Context, r *http.Request, err error) outcome {
	if r.Context().Err() != nil {
		s.rec.errMsg = "client went away"
		return outcome{done: true}
	}
	aerr := s.streamError(ctx, err)
	if !s.commit {
		retry := s.x.t.model.Retry.OnNetworkError
		var se *translate.StreamError
		if errors.As(err, &se) {
			retry = upstream.RetryStatus(s.x.t.model.Retry, aerr.Status)
		}
		// A translator that converted events of this attempt holds their state and
		// cannot start another stream (see event); this only happens when an event
		// fails to convert at the commit point.
		if s.fed && s.x.tr != nil {
			retry = false
		}
		return outcome{retryable: retry, err: aerr}
	}
	// The error's cause may quote the upstream (an in-band message echoing a key):
	// the log gets it scrubbed like the client does.
	s.rec.errMsg = redact.Scrub(aerr.Error(), s.x.secrets(s.g)...)
	s.write(append(s.out, aerr.event(s.x.client)...))
	return outcome{done: true}
}

// streamError describes a stream failure for the client, without secrets.
func (s *relay) streamError(ctx context.Context, err error) *apiError {
	if e := stoppedError(ctx, err); e != nil {
		return e
	}
	var se *translate.StreamError
	switch {
	case errors.As(err, &se):
		return inBandAPIError(s.x.client, se, s.x.secrets(s.g))
	case errors.Is(err, translate.ErrTruncated):
		return &apiError{Status: http.StatusBadGateway, Message: "upstream stream ended before it was complete (truncated)", Err: err}
	case errors.Is(err, sse.ErrTooLarge):
		return &apiError{Status: http.StatusBadGateway, Message: "upstream sent a stream event larger than the router accepts", Err: err}
	case errors.As(err, new(*badEventError)):
		msg := redact.Scrub(err.Error(), s.x.secrets(s.g)...)
		return &apiError{Status: http.StatusBadGateway, Message: "upstream sent a malformed stream event: " + msg, Err: err}
	}
	err = causeOf(ctx, err)
	if upstream.IsTimeout(err) {
		return &apiError{Status: http.StatusGatewayTimeout, Message: "upstream timed out mid-stream: " + causeMessage(err), Err: err}
	}
	return &apiError{Status: http.StatusBadGateway, Message: "upstream connection failed mid-stream: " + causeMessage(err), Err: err}
}

// write sends b to the client, committing the response first if needed, and
// flushes. It reports false when the client is gone.
func (s *relay) write(b []byte) bool {
	if !s.commit {
		s.commit = true
		s.startResponse()
	}
	if len(b) == 0 {
		_ = s.rc.Flush()
		return true
	}
	s.idle.Pause()
	defer s.idle.Resume()
	if d := s.x.t.model.Timeouts.Idle; d > 0 {
		_ = s.rc.SetWriteDeadline(time.Now().Add(d))
	}
	if _, err := s.w.Write(b); err != nil {
		s.rec.errMsg = "writing to the client failed"
		return false
	}
	s.log.add(b)
	if err := s.rc.Flush(); err != nil {
		s.rec.errMsg = "writing to the client failed"
		return false
	}
	return true
}

func (s *relay) startResponse() {
	h := s.w.Header()
	copyResponseHeaders(h, s.resp, s.x.tr != nil, s.x.secrets(s.g))
	if s.x.tr != nil || s.resp.Header.Get("Content-Type") == "" {
		h.Set("Content-Type", "text/event-stream; charset=utf-8")
	}
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	s.w.WriteHeader(http.StatusOK)
}
