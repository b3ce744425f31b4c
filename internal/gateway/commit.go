package gateway

import (
	"bytes"
	"errors"

	"github.com/llmrouter/llmrouter/internal/sse"
	"github.com/llmrouter/llmrouter/internal/translate"
	"github.com/llmrouter/llmrouter/internal/wire"
)

// The commit point of a stream: nothing reaches the client before the upstream's
// first content event, so an attempt that fails before it (an in-band error, a
// truncation, a stall) is retried or reported as a clean HTTP error, and the
// client sees one stream or none. Which event is content, which ends the stream
// and which is an in-band error is the upstream protocol's to say, on the raw
// event, before any converter has seen it.

// eventReader is what the commit point and the same-protocol relay need of the
// upstream's protocol: what a raw stream event is.
type eventReader interface {
	// Content reports whether an event is past the commit point: real output
	// rather than role-only deltas, message_start or pings.
	Content(name string, data []byte) bool
	// Terminal reports whether an event ends the stream.
	Terminal(name string, data []byte) bool
	// StreamError reads an in-band error event; ok is false for any other.
	StreamError(name string, data []byte) (typ, message string, ok bool)
}

// maxPending bounds what is held back before the commit point (role chunks,
// message_start, pings): past it the stream is committed anyway.
const maxPending = 64 << 10

// inBandError returns an upstream's in-band error event as a
// *translate.StreamError, else nil.
func inBandError(up eventReader, name string, data []byte) error {
	if typ, msg, ok := up.StreamError(name, data); ok {
		return &translate.StreamError{Type: typ, Message: msg}
	}
	return nil
}

// event handles one upstream event; stop reports that the attempt is over.
//
// Before the commit point the events are only held, unconverted: the translator
// keeps the stream's state (message_start sent, role chunk sent, ids, usage), so
// had it converted the events of an attempt that then fails, the retry would be
// converted as the continuation of a stream the client never saw, without its
// message_start or role chunk. In-band errors are recognised on the raw events, so
// that such an attempt fails (and is retried) without the converter.
func (s *relay) event(ev sse.Event) (outcome, bool) {
	if !s.commit {
		up := s.out.up
		if err := inBandError(up, ev.Name, ev.Data); err != nil {
			s.class = inBandClass(up, err.(*translate.StreamError), ev.Data)
			return s.failed(err), true
		}
		if !up.Content(ev.Name, ev.Data) && s.held+len(ev.Raw) < maxPending {
			s.pending = append(s.pending, sse.Event{Name: ev.Name, Data: bytes.Clone(ev.Data), Raw: bytes.Clone(ev.Raw)})
			s.held += len(ev.Raw)
			return outcome{}, false
		}
		if err := s.convertHeld(); err != nil {
			return s.failed(err), true
		}
	}
	if err := s.convert(ev); err != nil {
		return s.failed(err), true
	}
	if s.commit && len(s.buf) < maxCoalesce && s.rd.Ready() {
		return outcome{}, false // the next event is already here: one write for both
	}
	if !s.write(s.buf) {
		return outcome{done: true}, true
	}
	s.buf = s.buf[:0]
	return outcome{}, false
}

// convert appends the client's bytes for one upstream event to s.buf. A failure
// other than an in-band upstream error is an event the converter cannot read.
func (s *relay) convert(ev sse.Event) error {
	s.fed = true
	var err error
	s.buf, err = s.conv.Stream(s.buf, ev)
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

// passthrough relays a same-protocol stream byte for byte, watching only for the
// terminal event (so a truncated stream is reported), in-band errors (so the
// commit point and the error path work as for translated streams) and the events
// that carry usage. It is the converter of a route whose protocols match.
type passthrough struct {
	up     eventReader
	meter  wire.Meter
	follow wire.Follower // for a client protocol whose failures continue the stream (stream.go)
	done   bool
}

// Stream appends ev as it came, or returns its in-band error.
func (p *passthrough) Stream(dst []byte, ev sse.Event) ([]byte, error) {
	if err := inBandError(p.up, ev.Name, ev.Data); err != nil {
		return dst, err
	}
	p.meter.Read(ev.Data)
	if p.follow != nil {
		p.follow.Observe(ev.Name, ev.Data)
	}
	p.done = p.done || p.up.Terminal(ev.Name, ev.Data)
	return append(dst, ev.Raw...), nil
}

// Done reports whether the terminal event has been relayed.
func (p *passthrough) Done() bool { return p.done }

// End reports a stream that ended without its terminal event.
func (p *passthrough) End(dst []byte) ([]byte, error) {
	if !p.done {
		return dst, translate.ErrTruncated
	}
	return dst, nil
}

// Usage is what the relayed events said of the answer's usage.
func (p *passthrough) Usage() translate.Usage { return usageOf(p.meter) }
