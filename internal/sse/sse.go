// Package sse reads and writes Server-Sent Events and NDJSON streams with a bounded
// per-event size, keeping each event's raw bytes so that a relay can pass them on
// unchanged. It knows nothing of JSON.
package sse

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// DefaultMaxEvent bounds one event (or NDJSON line): memory per stream stays constant
// however long the stream, and a runaway upstream line becomes an error, not an OOM.
const DefaultMaxEvent = 4 << 20

// ErrTooLarge is returned when one event exceeds the reader's limit.
var ErrTooLarge = errors.New("stream event exceeds size limit")

// Event is one SSE event, or one NDJSON line (Name empty, Data the line).
type Event struct {
	Name string // the `event:` field; empty when absent
	Data []byte // `data:` lines joined by "\n"; the JSON text of an NDJSON line
	Raw  []byte // the exact bytes read for this event, terminator included
}

// Reader reads events from an SSE or NDJSON body. The slices of a returned Event
// are valid only until the next call to Next.
type Reader struct {
	br     *bufio.Reader
	max    int
	ndjson bool
	raw    []byte
	data   []byte
}

// NewReader returns a reader of SSE events. max bounds one event; 0 means DefaultMaxEvent.
func NewReader(r io.Reader, max int) *Reader {
	if max <= 0 {
		max = DefaultMaxEvent
	}
	return &Reader{br: bufio.NewReaderSize(r, 4<<10), max: max}
}

// NewNDJSONReader returns a reader whose events are the non-blank lines of r.
func NewNDJSONReader(r io.Reader, max int) *Reader {
	rd := NewReader(r, max)
	rd.ndjson = true
	return rd
}

// Next returns the next event. At the end of the body it returns io.EOF; a body that
// ends inside an event returns that event first (servers often omit the last blank line).
func (r *Reader) Next() (Event, error) {
	if r.ndjson {
		return r.nextLine()
	}
	r.raw, r.data = r.raw[:0], r.data[:0]
	var name []byte
	hasData := false
	for {
		line, err := r.line()
		if err != nil {
			if errors.Is(err, io.EOF) && len(r.raw) > 0 && (hasData || name != nil) {
				// Raw is relayed as is: it must end with its blank line, or the next
				// event written after it (a relay's error event) would merge into it.
				if !bytes.HasSuffix(r.raw, []byte("\n")) {
					r.raw = append(r.raw, '\n')
				}
				r.raw = append(r.raw, '\n')
				return Event{Name: string(name), Data: r.data, Raw: r.raw}, nil
			}
			return Event{}, err
		}
		content := trimEOL(line)
		if len(content) == 0 {
			if hasData || name != nil {
				return Event{Name: string(name), Data: r.data, Raw: r.raw}, nil
			}
			r.raw = r.raw[:0] // stray blank line between events: not part of any event
			continue
		}
		field, value := splitField(content)
		switch string(field) {
		case "data":
			if hasData {
				r.data = append(r.data, '\n')
			}
			r.data = append(r.data, value...)
			hasData = true
		case "event":
			name = append(name[:0:0], value...)
		}
	}
}

func (r *Reader) nextLine() (Event, error) {
	for {
		r.raw = r.raw[:0]
		line, err := r.line()
		if err != nil && (!errors.Is(err, io.EOF) || len(r.raw) == 0) {
			return Event{}, err
		}
		data := bytes.TrimSpace(line)
		if len(data) == 0 {
			if err != nil {
				return Event{}, err
			}
			continue
		}
		return Event{Data: data, Raw: r.raw}, nil
	}
}

// Ready reports whether a whole next event is already buffered, so that Next will
// return it without reading from the network. A relay uses it to write events that
// arrived together in one write and one flush, while an event followed by silence is
// still flushed at once. Blocks Next skips (comments such as ": keep-alive", lone
// id: or retry: fields) do not count: Next would read past them.
func (r *Reader) Ready() bool {
	buf, _ := r.br.Peek(r.br.Buffered())
	field := false
	for len(buf) > 0 {
		i := bytes.IndexByte(buf, '\n')
		if i < 0 {
			return false
		}
		line := bytes.TrimSpace(buf[:i])
		blank := len(line) == 0
		if !blank && r.ndjson {
			return true
		}
		if blank && field {
			return true
		}
		field = field || isEventField(line)
		buf = buf[i+1:]
	}
	return false
}

// isEventField reports whether an SSE line is a data: or event: field, the fields
// that make a block an event Next returns.
func isEventField(line []byte) bool {
	name, _ := splitField(line)
	return string(name) == "data" || string(name) == "event"
}

// line reads one line into r.raw and returns it (a sub-slice of r.raw).
func (r *Reader) line() ([]byte, error) {
	start := len(r.raw)
	for {
		chunk, err := r.br.ReadSlice('\n')
		if len(r.raw)+len(chunk) > r.max {
			return nil, fmt.Errorf("%w (%d bytes)", ErrTooLarge, r.max)
		}
		r.raw = append(r.raw, chunk...)
		switch {
		case err == nil:
			return r.raw[start:], nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(r.raw) > start:
			return r.raw[start:], io.EOF
		default:
			return nil, err
		}
	}
}

func trimEOL(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r"))
}

func splitField(line []byte) (field, value []byte) {
	i := bytes.IndexByte(line, ':')
	if i < 0 {
		return line, nil
	}
	field, value = line[:i], line[i+1:]
	if len(value) > 0 && value[0] == ' ' {
		value = value[1:]
	}
	return field, value
}

// AppendEvent appends one SSE event with an optional name and a single-line data
// payload, terminated by a blank line.
func AppendEvent(dst []byte, name string, data []byte) []byte {
	if name != "" {
		dst = append(dst, "event: "...)
		dst = append(dst, name...)
		dst = append(dst, '\n')
	}
	dst = append(dst, "data: "...)
	dst = append(dst, data...)
	return append(dst, '\n', '\n')
}
