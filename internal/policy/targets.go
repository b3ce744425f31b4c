package policy

// trie holds the normalized paths of the nodes a JSONPath selected, so that one
// walk over the body, entering only the containers on those paths, finds every
// node. Locating each path from the root instead would cost a scan per node: a
// body with many matches would take time quadratic in its size.
type trie struct {
	hit     bool // the node at this path is selected
	names   map[string]*trie
	indexes map[int]*trie
	// Marks of the evaluation that builds the trie (eval.go): the segment that
	// last selected the node, and the last descendant segment that walked it.
	selected, seen uint32
}

// child returns the position below t reached by name, or by index when index >= 0,
// creating it when missing.
func (t *trie) child(name string, index int) *trie {
	if index >= 0 {
		if t.indexes == nil {
			t.indexes = make(map[int]*trie)
		}
		return lookupOrAdd(t.indexes, index)
	}
	if t.names == nil {
		t.names = make(map[string]*trie)
	}
	return lookupOrAdd(t.names, name)
}

// existing returns the position below t reached by name or index, or nil.
func (t *trie) existing(name string, index int) *trie {
	if index >= 0 {
		return t.indexes[index]
	}
	return t.names[name]
}

func lookupOrAdd[K comparable](m map[K]*trie, k K) *trie {
	c, ok := m[k]
	if !ok {
		c = &trie{}
		m[k] = c
	}
	return c
}

// child is one entry of a container and the part of the trie below it.
type child struct {
	entry
	sub  *trie // nil: nothing selected at or below this entry
	last bool  // the last member with its key: the one the decoded tree holds
}

// children returns the entries of the container at b[c] with their sub-tries, or
// nil when the trie selects nothing below it. Every member with a duplicated key
// gets the key's sub-trie; only the last is marked last.
func children(b []byte, c int, t *trie) []child {
	var out []child
	switch {
	case b[c] == '{' && len(t.names) > 0:
		for e := range entries(b, c) {
			k, _ := stringAt(b, e.key)
			out = append(out, child{entry: e, sub: t.names[string(k)]})
		}
		seen := make(map[*trie]bool)
		for i := len(out) - 1; i >= 0; i-- {
			if s := out[i].sub; s != nil {
				out[i].last = !seen[s]
				seen[s] = true
			}
		}
	case b[c] == '[' && len(t.indexes) > 0:
		k := 0
		for e := range entries(b, c) {
			out = append(out, child{entry: e, sub: t.indexes[k], last: true})
			k++
		}
	}
	return out
}

// isContainer reports whether the value at b[i] is an object or an array.
func isContainer(b []byte, i int) bool { return b[i] == '{' || b[i] == '[' }

// dropEdits returns the edits removing the selected entries below the container
// at b[c]. Every member with a selected key goes, duplicates included, so that no
// earlier duplicate resurfaces in its place.
func dropEdits(b []byte, c int, t *trie, edits []edit) []edit {
	cs := children(b, c, t)
	edits = cuts(b, c, cs, edits)
	for _, ch := range cs {
		if ch.sub != nil && !ch.sub.hit && ch.last && isContainer(b, ch.value.start) {
			edits = dropEdits(b, ch.value.start, ch.sub, edits)
		}
	}
	return edits
}

// cuts returns the edits removing the selected entries of one container, with
// the commas between them. Entries before the first kept one are cut up to the
// start of the next entry; entries after it from the end of the previous one; if
// none is kept, everything between the brackets goes.
func cuts(b []byte, c int, cs []child, edits []edit) []edit {
	kept := -1
	dropped := false
	for i, ch := range cs {
		if ch.sub != nil && ch.sub.hit {
			dropped = true
		} else if kept < 0 {
			kept = i
		}
	}
	switch {
	case !dropped:
		return edits
	case kept < 0:
		end := skipSpace(b, cs[len(cs)-1].value.end) // the closing bracket
		return append(edits, edit{start: c + 1, end: end})
	}
	for i, ch := range cs {
		if ch.sub == nil || !ch.sub.hit {
			continue
		}
		if i < kept {
			edits = append(edits, edit{start: ch.start(), end: cs[i+1].start()})
		} else {
			edits = append(edits, edit{start: cs[i-1].value.end, end: ch.value.end})
		}
	}
	return edits
}

// start returns where an entry begins: its key, or its value in an array.
func (e entry) start() int {
	if e.key != (span{}) {
		return e.key.start
	}
	return e.value.start
}

// replaceEdits returns the edits setting every selected node below the container
// at b[c] to value. A replaced node's own descendants need no edit.
func replaceEdits(b []byte, c int, t *trie, value []byte, edits []edit) []edit {
	for _, ch := range children(b, c, t) {
		switch {
		case ch.sub == nil || !ch.last:
		case ch.sub.hit:
			edits = append(edits, edit{ch.value.start, ch.value.end, value})
		case isContainer(b, ch.value.start):
			edits = replaceEdits(b, ch.value.start, ch.sub, value, edits)
		}
	}
	return edits
}

// memberEdits returns the edits setting the member path names to value in every
// selected object at or below the node at b[i]. Edits inside a member one of them
// replaces are dropped later by document.apply.
func memberEdits(b []byte, i int, t *trie, names []string, value []byte, edits []edit) []edit {
	if t.hit {
		if e, ok := namesEdit(b, i, names, value); ok {
			edits = append(edits, e)
		}
	}
	for _, ch := range children(b, i, t) {
		if ch.sub != nil && ch.last {
			edits = memberEdits(b, ch.value.start, ch.sub, names, value, edits)
		}
	}
	return edits
}

// namesEdit sets the member path names below the object at b[obj] to value,
// creating the missing members: `"a":{"b":value}` when a is missing. Of duplicate
// keys it follows the last, the one a decoder keeps. ok is false when a node on
// the way is not an object.
func namesEdit(b []byte, obj int, names []string, value []byte) (e edit, ok bool) {
	for k, name := range names {
		if b[obj] != '{' {
			return edit{}, false
		}
		v, found := field(b, obj, name)
		switch {
		case !found:
			return insertEdit(b, obj, member(names[k:], value)), true
		case k == len(names)-1:
			return edit{v.start, v.end, value}, true
		}
		obj = v.start
	}
	return edit{}, false
}

// member returns `"a":{"b":value}` for names [a b].
func member(names []string, value []byte) []byte {
	var out []byte
	for _, n := range names {
		out = appendString(out, []byte(n))
		out = append(out, ':', '{')
	}
	out = append(out[:len(out)-1], value...)
	for range names[1:] {
		out = append(out, '}')
	}
	return out
}

// appendEdits returns the edits appending value to every selected array at or
// below the node at b[i].
func appendEdits(b []byte, i int, t *trie, value []byte, edits []edit) []edit {
	for _, ch := range children(b, i, t) {
		if ch.sub != nil && ch.last {
			edits = appendEdits(b, ch.value.start, ch.sub, value, edits)
		}
	}
	if t.hit && b[i] == '[' {
		edits = append(edits, insertEdit(b, i, value))
	}
	return edits
}

// insertEdit returns the edit adding item as the last entry of the container at
// b[c].
func insertEdit(b []byte, c int, item []byte) edit {
	last := -1
	for e := range entries(b, c) {
		last = e.value.end
	}
	if last < 0 {
		return edit{c + 1, c + 1, item}
	}
	return edit{last, last, append([]byte{','}, item...)}
}
