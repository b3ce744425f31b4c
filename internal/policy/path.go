package policy

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/theory/jsonpath"
	"github.com/theory/jsonpath/spec"
)

// JSONPath rules (RFC 9535, github.com/theory/jsonpath) select nodes, then edit the
// body's bytes where those nodes are (targets.go): one walk over the body finds them
// all, and the edits are spliced in at once, so a rule costs time linear in the body
// however many nodes it selects. A path of plain names and indexes (`$.metadata`,
// `$.messages[0].name`) is walked directly; any other path is run on the decoded
// body first.

// dropRule removes every node its path selects: object members and array elements.
type dropRule struct{ sel selector }

// setRule sets a value at every node its path selects.
//
// When the path ends in names (`$.temperature`, `$.options.num_ctx`,
// `$.messages[*].metadata.user_id`), every object the path before those names
// selects gets them set, missing members created on the way: `$.options.num_ctx`
// creates "options" when absent. A member on the way that exists but is not an
// object stops it (`$.options` is a string: nothing is done). A path ending in
// anything else (an index, a wildcard, a filter, `..name`) only replaces nodes that
// exist.
type setRule struct {
	sel   selector // the whole path, or the path before its trailing names
	names []string // the trailing names; nil: replace only
	value []byte   // JSON
}

// appendRule appends a value to every array its path selects. A selected node that
// is not an array, or a path selecting nothing, is left alone: no array is created.
type appendRule struct {
	sel   selector
	value []byte // JSON
}

// selector finds the nodes of a JSONPath.
type selector struct {
	segs   []*spec.Segment
	static *trie // the one node of a path of names and indexes; nil: evaluate segs
}

func newSelector(segs []*spec.Segment) selector {
	s := selector{segs: segs, static: &trie{}}
	t := s.static
	for _, seg := range segs {
		sels := seg.Selectors()
		if seg.IsDescendant() || len(sels) != 1 {
			s.static = nil
			return s
		}
		switch sel := sels[0].(type) {
		case spec.Name:
			t = t.child(string(sel), -1)
		case spec.Index:
			if sel < 0 { // counts from the end: needs the array
				s.static = nil
				return s
			}
			t = t.child("", int(sel))
		default:
			s.static = nil
			return s
		}
	}
	t.hit = true
	return s
}

// targets returns the nodes s selects in d, or nil when there are none.
func (s selector) targets(d *document) (*trie, error) {
	if s.static != nil {
		return s.static, nil
	}
	root, err := d.root()
	if err != nil {
		return nil, err
	}
	return evaluate(s.segs, root)
}

// parsePath parses a JSONPath that must select something below the root (a rule
// on `$` itself would remove or replace the whole request) and whose cost is
// linear in the body (checkCost), and returns its segments.
func parsePath(expr string) ([]*spec.Segment, error) {
	p, err := jsonpath.Parse(expr)
	if err != nil {
		return nil, fmt.Errorf("JSONPath %q: %w", expr, err)
	}
	segs := p.Query().Segments()
	if len(segs) == 0 {
		return nil, fmt.Errorf("JSONPath %q selects the whole body", expr)
	}
	if err := checkCost(segs); err != nil {
		return nil, fmt.Errorf("JSONPath %q: %w", expr, err)
	}
	return segs, nil
}

// encodeValue encodes a configured value once, at compile time, with
// encoding/json: object keys come out sorted, and <, >, & are not escaped.
func encodeValue(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("value: %w", err)
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

func compileDrop(expr string) (*dropRule, error) {
	segs, err := parsePath(expr)
	if err != nil {
		return nil, err
	}
	return &dropRule{sel: newSelector(segs)}, nil
}

func compileSet(expr string, value any) (*setRule, error) {
	segs, err := parsePath(expr)
	if err != nil {
		return nil, err
	}
	v, err := encodeValue(value)
	if err != nil {
		return nil, err
	}
	k := len(segs)
	for k > 0 && childName(segs[k-1]) != "" {
		k--
	}
	r := &setRule{value: v}
	if k == len(segs) {
		r.sel = newSelector(segs)
		return r, nil
	}
	r.sel = newSelector(segs[:k])
	for _, s := range segs[k:] {
		r.names = append(r.names, childName(s))
	}
	return r, nil
}

// childName returns the name a segment selects when it is a plain child name
// (`.a` or `["a"]`), else "". An empty name (`[""]`) counts as not plain: the
// rule then only replaces.
func childName(s *spec.Segment) string {
	sels := s.Selectors()
	if s.IsDescendant() || len(sels) != 1 {
		return ""
	}
	n, _ := sels[0].(spec.Name)
	return string(n)
}

func compileAppend(expr string, value any) (*appendRule, error) {
	segs, err := parsePath(expr)
	if err != nil {
		return nil, err
	}
	v, err := encodeValue(value)
	if err != nil {
		return nil, err
	}
	return &appendRule{sel: newSelector(segs), value: v}, nil
}

func (r *dropRule) apply(d *document) error {
	t, err := r.sel.targets(d)
	if err != nil || t == nil {
		return err
	}
	d.apply(dropEdits(d.b, skipSpace(d.b, 0), t, nil))
	return nil
}

func (r *setRule) apply(d *document) error {
	t, err := r.sel.targets(d)
	if err != nil || t == nil {
		return err
	}
	root := skipSpace(d.b, 0)
	if r.names == nil {
		d.apply(replaceEdits(d.b, root, t, r.value, nil))
	} else {
		d.apply(memberEdits(d.b, root, t, r.names, r.value, nil))
	}
	return nil
}

func (r *appendRule) apply(d *document) error {
	t, err := r.sel.targets(d)
	if err != nil || t == nil {
		return err
	}
	d.apply(appendEdits(d.b, skipSpace(d.b, 0), t, r.value, nil))
	return nil
}
