package gateway

import (
	"bytes"
	"sync"

	"github.com/llmrouter/llmrouter/internal/translate"
	"github.com/llmrouter/llmrouter/internal/wire"
)

// Every request's token usage ends up in its record (the access log's
// input_tokens, output_tokens, ...), ready for metrics and limits: a translated
// answer's from its translator (Translator.Usage), a same-protocol answer's read
// by the upstream protocol's meter from the raw body or the events that carry it,
// with no other parsing on the way.

// metered is what reading a same-protocol answer's usage needs of its protocol.
type metered interface {
	// NewMeter returns a meter for one answer.
	NewMeter() wire.Meter
	// UsageMembers names the top-level members of a non-streaming answer that
	// carry its usage.
	UsageMembers() []string
}

// usageOf returns what a meter has read in the terms every protocol shares.
func usageOf(m wire.Meter) translate.Usage {
	in, out, cacheRead, cacheWrite, reasoning := m.Tokens()
	return translate.Usage{Input: in, Output: out, CacheRead: cacheRead, CacheWrite: cacheWrite, Reasoning: reasoning}
}

// maxUsageMember bounds the value of a usage member kept by a usageTap: a usage
// object is a few hundred bytes.
const maxUsageMember = 4 << 10

// usageTap watches a JSON body relayed in pieces for the top-level members named
// in members, and keeps them (each at most maxUsageMember bytes) as one JSON
// object, so that usage is read without holding the body. It follows strings and
// nesting only: most bytes are inside strings, which it skips with IndexByte. Once
// started it is ready; it never fails, and a body that is not the JSON object it
// expects yields no usage.
type usageTap struct {
	members []string
	depth   int  // open objects and arrays
	inStr   bool // inside a string
	esc     bool // the previous byte of the string was a backslash
	atKey   bool // at depth 1, the next string is a member's name
	inKey   bool // reading a member's name
	keep    bool // the member being read is one of members
	keeping bool // inside the value of a kept member
	key     []byte
	doc     []byte // ,"name":value... of the members kept so far
	mark    int    // len(doc) before the member being kept
	keyArr  [maxName + 1]byte
	docArr  [512]byte
}

// maxName bounds the member names compared with members (theirs are short).
const maxName = 64

// taps recycles usageTaps: a tap holds its own buffers, so it lives on the heap.
var taps = sync.Pool{New: func() any { return new(usageTap) }}

// start readies u for a new body.
func (u *usageTap) start(members []string) {
	*u = usageTap{members: members}
	u.key, u.doc = u.keyArr[:0], u.docArr[:0]
}

// scan reads the next piece of the body.
func (u *usageTap) scan(p []byte) {
	for i := 0; i < len(p); {
		if u.inStr {
			j, closed := u.stringEnd(p, i)
			u.stringText(p[i:j], closed)
			i = j
			continue
		}
		c := p[i]
		i++
		switch c {
		case '"':
			u.inStr = true
			if u.depth == 1 && u.atKey {
				u.inKey, u.key = true, u.key[:0]
				continue // a name is kept without its quotes
			}
		case '{', '[':
			u.depth++
			u.atKey = u.depth == 1 && c == '{'
		case '}', ']':
			if u.depth--; u.depth == 0 {
				u.keeping = false
				return // the end of the body's object
			}
		case ':':
			if u.depth == 1 && u.keep {
				u.keeping, u.mark = true, len(u.doc)
				u.doc = append(append(append(u.doc, ',', '"'), u.key...), '"', ':')
				continue
			}
		case ',':
			if u.depth == 1 {
				u.keep, u.keeping, u.atKey = false, false, true
			}
		}
		u.value(p[i-1 : i])
	}
}

// stringEnd returns where the string that p[i:] continues ends, past its closing
// quote (closed), or len(p) when it goes on.
func (u *usageTap) stringEnd(p []byte, i int) (int, bool) {
	for i < len(p) {
		if u.esc {
			u.esc = false
			i++
			continue
		}
		rest := p[i:]
		q := bytes.IndexByte(rest, '"')
		end := q
		if q < 0 {
			end = len(rest)
		}
		if b := bytes.IndexByte(rest[:end], '\\'); b >= 0 {
			u.esc = true
			i += b + 1
			continue
		}
		if q < 0 {
			return len(p), false
		}
		u.inStr = false
		return i + q + 1, true
	}
	return len(p), false
}

// stringText takes a piece of a string, its closing quote included when closed.
// A name is compared with members once whole; one spelled with escapes keeps its
// backslashes and matches none.
func (u *usageTap) stringText(b []byte, closed bool) {
	if !u.inKey {
		u.value(b)
		return
	}
	if closed {
		b = b[:len(b)-1]
	}
	u.key = append(u.key, b[:min(len(b), maxName+1-len(u.key))]...)
	if !closed {
		return
	}
	u.inKey, u.atKey, u.keep = false, false, false
	for _, m := range u.members {
		u.keep = u.keep || string(u.key) == m
	}
}

// value keeps b when it belongs to a kept member's value; a value too long to be
// usage is dropped.
func (u *usageTap) value(b []byte) {
	if !u.keeping {
		return
	}
	if len(u.doc)+len(b)-u.mark > maxUsageMember {
		u.keeping, u.keep = false, false
		u.doc = u.doc[:u.mark]
		return
	}
	u.doc = append(u.doc, b...)
}

// usage returns what the kept members say, read by a meter of the upstream's
// protocol; nothing when no member was kept. It ends the tap's use.
func (u *usageTap) usage(up metered) translate.Usage {
	if len(u.doc) == 0 {
		return translate.Usage{}
	}
	u.doc[0] = '{' // the first member's leading comma
	u.doc = append(u.doc, '}')
	m := up.NewMeter()
	m.Read(u.doc)
	return usageOf(m)
}
