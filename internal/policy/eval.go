package policy

import (
	"fmt"

	"github.com/theory/jsonpath/spec"
)

// A JSONPath is evaluated here rather than by the library's SelectLocated, whose
// cost a hostile body can make explode: RFC 9535 nodelists keep duplicates, so
// every `..` segment multiplies the nodes the next one starts from (`$..*..*..*.x`
// on a body nested 200 deep selects 200³ nodes), and every selected node carries
// its own copy of its path from the root (memory quadratic in the depth). A rule
// only needs the set of nodes it edits, so here each segment yields a set:
//
//   - a node is a position in the result trie, and the trie is the node's
//     identity: reaching it again adds nothing;
//   - a `..` segment walks each node at most once, whatever number of the nodes it
//     starts from lie below one another;
//   - a node's path is the chain of trie positions to it, shared with its
//     ancestors, and is only built for nodes that are selected.
//
// So a rule costs at most (segments × nodes of the body) steps and its trie at
// most one entry per selected node. Filters are the one part still evaluated by
// the library, per candidate node; checkFilter refuses at load time the filters
// whose own cost would grow with the body (see cost.go).

// maxSelected bounds the nodes one step of a rule may select, and the nodes its
// filters may test (a filter costs far more per node than a name: match() and
// search() compile their pattern each time). A rule that edits or tests more than
// this in one request is a mistake or an attack, not a configuration: the request
// is refused rather than the router's memory or CPU spent on it.
const maxSelected = 100_000

var (
	// errTooManyNodes is returned when a step selects more than maxSelected nodes.
	errTooManyNodes = fmt.Errorf("%w: a JSONPath selects more than %d nodes", ErrTooComplex, maxSelected)
	// errTooManyTests is returned when filters test more than maxSelected nodes.
	errTooManyTests = fmt.Errorf("%w: a JSONPath filter tests more than %d nodes", ErrTooComplex, maxSelected)
)

// node is one selected value and its position in the result trie.
type node struct {
	v any
	t *trie
}

// frame is one node on the path from where a walk started to the node being
// visited: how its parent reaches it, and its trie position once it has one.
type frame struct {
	name  string
	index int // -1: reached by name
	t     *trie
}

// walker evaluates one JSONPath against one decoded body.
type walker struct {
	root  any
	step  uint32  // the segment being evaluated, from 1; marks trie nodes
	next  []node  // what the segment has selected so far
	stack []frame // the walk's path; stack[0] is where it started
	// visits counts the values the walk has looked at, for tests of its cost.
	visits int
	tests  int // filter evaluations, bounded by maxSelected
}

// evaluate returns the trie of the nodes segs select in root, or nil when they
// select none.
func evaluate(segs []*spec.Segment, root any) (*trie, error) {
	w := &walker{root: root}
	return w.evaluate(segs)
}

func (w *walker) evaluate(segs []*spec.Segment) (*trie, error) {
	t := &trie{}
	current := []node{{v: w.root, t: t}}
	for _, seg := range segs {
		w.step++
		w.next = nil
		for _, n := range current {
			if err := w.segment(seg, n); err != nil {
				return nil, err
			}
		}
		current = w.next
		if len(current) == 0 {
			return nil, nil
		}
	}
	for _, n := range current {
		n.t.hit = true
	}
	return t, nil
}

// segment applies one segment to node n: its selectors to n's children, and for a
// descendant segment to the children of every node below n as well.
func (w *walker) segment(seg *spec.Segment, n node) error {
	w.stack = append(w.stack[:0], frame{index: -1, t: n.t})
	if !seg.IsDescendant() {
		return w.apply(seg.Selectors(), n.v)
	}
	if n.t.seen == w.step {
		return nil // below a node this segment has already walked from
	}
	return w.descend(seg.Selectors(), n.v)
}

// descend applies sels at the node on top of the stack, holding v, and at every
// node below it that this segment has not walked yet.
func (w *walker) descend(sels []spec.Selector, v any) error {
	w.visits++
	top := &w.stack[len(w.stack)-1]
	if top.t != nil {
		top.t.seen = w.step
	}
	if err := w.apply(sels, v); err != nil {
		return err
	}
	switch v := v.(type) {
	case map[string]any:
		for k, c := range v {
			if err := w.enter(sels, c, frame{name: k, index: -1}); err != nil {
				return err
			}
		}
	case []any:
		for i, c := range v {
			if err := w.enter(sels, c, frame{index: i}); err != nil {
				return err
			}
		}
	}
	return nil
}

// enter walks the child f of the node on top of the stack, unless it is a
// container this segment has already walked (it was also a starting node).
func (w *walker) enter(sels []spec.Selector, c any, f frame) error {
	switch c.(type) {
	case map[string]any, []any:
	default:
		return nil // a scalar has no children to select
	}
	if pt := w.stack[len(w.stack)-1].t; pt != nil {
		f.t = pt.existing(f.name, f.index)
		if f.t != nil && f.t.seen == w.step {
			return nil
		}
	}
	w.stack = append(w.stack, f)
	err := w.descend(sels, c)
	w.stack = w.stack[:len(w.stack)-1]
	return err
}

// apply runs the selectors of one segment on v, the node on top of the stack.
func (w *walker) apply(sels []spec.Selector, v any) error {
	for _, sel := range sels {
		if err := w.selector(sel, v); err != nil {
			return err
		}
	}
	return nil
}

// selector selects the children of v that sel names, as RFC 9535 §2.3 defines
// each kind of selector.
func (w *walker) selector(sel spec.Selector, v any) error {
	switch s := sel.(type) {
	case spec.Name:
		if obj, ok := v.(map[string]any); ok {
			if c, ok := obj[string(s)]; ok {
				return w.hit(c, string(s), -1)
			}
		}
	case spec.Index:
		if arr, ok := v.([]any); ok {
			i := int(s)
			if i < 0 {
				i += len(arr)
			}
			if i >= 0 && i < len(arr) {
				return w.hit(arr[i], "", i)
			}
		}
	case spec.WildcardSelector:
		return w.children(v, func(any) bool { return true })
	case spec.SliceSelector:
		if arr, ok := v.([]any); ok {
			return w.slice(s, arr)
		}
	case *spec.FilterSelector:
		var err error
		keep := func(c any) bool {
			if w.tests++; w.tests > maxSelected {
				err = errTooManyTests
				return false
			}
			return s.Eval(c, w.root)
		}
		if e := w.children(v, keep); e != nil {
			return e
		}
		return err
	default:
		return fmt.Errorf("unsupported JSONPath selector %T", sel)
	}
	return nil
}

// children selects the children of v that keep accepts.
func (w *walker) children(v any, keep func(any) bool) error {
	switch v := v.(type) {
	case map[string]any:
		for k, c := range v {
			if keep(c) {
				if err := w.hit(c, k, -1); err != nil {
					return err
				}
			}
		}
	case []any:
		for i, c := range v {
			if keep(c) {
				if err := w.hit(c, "", i); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// slice selects the elements of arr that s names, in the order RFC 9535 §2.3.4
// gives (the order does not matter to a set, but the bounds do).
func (w *walker) slice(s spec.SliceSelector, arr []any) error {
	lower, upper := s.Bounds(len(arr))
	switch step := s.Step(); {
	case step > 0:
		for i := lower; i < upper; i += step {
			if err := w.hit(arr[i], "", i); err != nil {
				return err
			}
		}
	case step < 0:
		for i := upper; lower < i; i += step {
			if err := w.hit(arr[i], "", i); err != nil {
				return err
			}
		}
	}
	return nil
}

// hit records that the child (name or index) of the node on top of the stack,
// holding c, is selected by the current segment.
func (w *walker) hit(c any, name string, index int) error {
	w.visits++
	t := w.position(len(w.stack)-1).child(name, index)
	if t.selected == w.step {
		return nil
	}
	t.selected = w.step
	if len(w.next) == maxSelected {
		return errTooManyNodes
	}
	w.next = append(w.next, node{v: c, t: t})
	return nil
}

// position returns the trie position of stack[i], creating it and the positions
// of its ancestors that the walk has not needed before.
func (w *walker) position(i int) *trie {
	j := i
	for w.stack[j].t == nil {
		j-- // stack[0] always has one
	}
	for j < i {
		j++
		f := &w.stack[j]
		f.t = w.stack[j-1].t.child(f.name, f.index)
	}
	return w.stack[i].t
}
