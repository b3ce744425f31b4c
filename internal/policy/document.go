package policy

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
)

// document is one request body on its way through the transforms: its current
// bytes, and the tree JSONPath queries run on, decoded only when a JSONPath rule
// needs it and again only after the bytes have changed.
//
// The caller's body is never written to: every edit writes a new buffer, so a
// retry can start again from the pristine request.
type document struct {
	b    []byte
	tree any // b decoded with UseNumber; nil until needed
}

// edit replaces the bytes [start, end) of a document with repl.
type edit struct {
	start, end int
	repl       []byte
}

// maxDecoded bounds the JSON values of a body decoded for a JSONPath rule. A
// decoded value costs some hundred bytes, so a 32 MiB body of `0,0,0,…` would
// cost gigabytes; a real request holds a few thousand values (a long agent
// session with many tools, tens of thousands).
const maxDecoded = 200_000

// errTooManyValues is returned for a body holding more than maxDecoded values.
var errTooManyValues = fmt.Errorf("%w: the request holds more than %d JSON values for a JSONPath rule to search", ErrTooComplex, maxDecoded)

// root returns the decoded body. Numbers decode as json.Number, so that filter
// comparisons see them exactly as written.
func (d *document) root() (any, error) {
	if d.tree != nil {
		return d.tree, nil
	}
	if len(d.b) > 2*maxDecoded && values(d.b, maxDecoded) > maxDecoded {
		return nil, errTooManyValues
	}
	dec := json.NewDecoder(bytes.NewReader(d.b))
	dec.UseNumber()
	var tree any // not &d.tree: d would escape, costing the fast path an allocation
	if err := dec.Decode(&tree); err != nil {
		return nil, fmt.Errorf("decoding body: %w", err)
	}
	d.tree = tree
	return tree, nil
}

// values counts the values of the JSON text b, up to a little more than limit:
// every value but the first follows a ',' or opens a container. A value takes at
// least two bytes with its separator, so a body of under 2×limit bytes holds at
// most limit values and need not be counted.
func values(b []byte, limit int) int {
	n := 1
	for i := 0; i < len(b) && n <= limit; i++ {
		switch b[i] {
		case '"':
			i = stringEnd(b, i) - 1
		case ',', '[', '{':
			n++
		}
	}
	return n
}

// apply makes edits in one pass. Edits may come in any order. One that lies
// inside a span another edit replaces is dropped, as the replacement overwrites it
// anyway (a set on `$..x` where one x holds another). Inserts at one position go
// into the same container: they are joined with commas, in the order given.
func (d *document) apply(edits []edit) {
	if len(edits) == 0 {
		return
	}
	slices.SortStableFunc(edits, func(a, b edit) int {
		return cmp.Or(cmp.Compare(a.start, b.start), cmp.Compare(b.end, a.end))
	})
	kept := edits[:0]
	limit := 0
	for _, e := range edits {
		switch {
		case e.start < limit:
			continue
		case len(kept) > 0 && isInsert(e) && isInsert(kept[len(kept)-1]) && e.start == kept[len(kept)-1].start:
			prev := &kept[len(kept)-1]
			item := bytes.TrimPrefix(e.repl, []byte(","))
			prev.repl = append(append(slices.Clip(prev.repl), ','), item...)
			continue
		}
		kept = append(kept, e)
		limit = max(limit, e.end)
	}
	d.splice(kept)
}

// isInsert reports whether e adds an entry rather than replacing bytes.
func isInsert(e edit) bool { return e.start == e.end }

// splice applies edits, which must be sorted by offset and must not overlap,
// into a new buffer in one pass. The caller's body is never written to.
func (d *document) splice(edits []edit) {
	n := len(d.b)
	for _, e := range edits {
		n += len(e.repl) - (e.end - e.start)
	}
	out := make([]byte, 0, n)
	pos := 0
	for _, e := range edits {
		out = append(out, d.b[pos:e.start]...)
		out = append(out, e.repl...)
		pos = e.end
	}
	d.b = append(out, d.b[pos:]...)
	d.tree = nil
}
