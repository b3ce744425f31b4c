package config

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// A problem is one thing wrong with a configuration, located by its YAML line (or by
// the LLMROUTER_* variable that supplied the value) and its path in the schema.
type problem struct {
	line int    // 0 when the value did not come from the file
	env  string // the override variable that supplied the value, if any
	path string // e.g. models[0].retry.attempts
	msg  string
	// The rejected value msg may quote, and how it was written, so that it can be
	// hidden once every secret of the document is known (hide.go).
	value, raw string
	key        bool // the value of a key field: never shown
}

func (p *problem) Error() string {
	var b strings.Builder
	switch {
	case p.env != "":
		b.WriteString(p.env + ": ")
	case p.line > 0:
		fmt.Fprintf(&b, "line %d: ", p.line)
	}
	if p.path != "" {
		b.WriteString(p.path + ": ")
	}
	b.WriteString(p.msg)
	return b.String()
}

// rank sorts problems from override variables before those from the file.
func rank(p *problem) int {
	if p.env != "" {
		return 0
	}
	return 1
}

// A decoder walks a YAML node tree against the schema, writing values into typed
// structs and collecting every problem instead of stopping at the first.
type decoder struct {
	lookup   func(string) (string, bool) // environment, for ${VAR} and overrides
	env      map[*yaml.Node]string       // nodes injected by overrides -> variable name
	problems []*problem
	budget   int // values still allowed to be decoded: see spend
	// secrets are the values no problem may show (hide.go): those of key fields
	// and of variables that hold keys; keyVars name the variables used in keys.
	secrets map[string]bool
	keyVars map[string]bool
	// What the checks after the models need of sections decoded before them.
	fallbacks [numCauses][]listing
	keyRefs   []keyRef
}

// maxExpansion bounds the values decoded from one document beyond twice the nodes
// it holds. YAML aliases let a small file name the same subtree many times over (a
// "billion laughs"), and defaults.transforms are copied into every model; a large
// file that does neither (50,000 models) decodes each of its values once, well
// within the bound, which therefore grows with the file.
const maxExpansion = 100_000

func newDecoder(lookup func(string) (string, bool)) *decoder {
	return &decoder{lookup: lookup, env: make(map[*yaml.Node]string), budget: maxExpansion,
		secrets: make(map[string]bool), keyVars: make(map[string]bool)}
}

// allow sets the budget for a document: twice its nodes, plus maxExpansion.
func (d *decoder) allow(root *yaml.Node) {
	d.budget = maxExpansion + 2*nodes(root)
}

// nodes counts the nodes of a document as written: an alias counts once, however
// large the subtree it names.
func nodes(root *yaml.Node) int {
	n := 0
	stack := []*yaml.Node{root}
	for len(stack) > 0 {
		top := stack[len(stack)-1]
		stack = append(stack[:len(stack)-1], top.Content...)
		n++
	}
	return n
}

// spend charges n values to the budget and reports whether decoding may go on; the
// first overdraft is a problem.
func (d *decoder) spend(at *yaml.Node, path string, n int) bool {
	if d.budget < 0 {
		return false
	}
	d.budget -= n
	if d.budget < 0 {
		d.fail(at, path, "YAML aliases expand the document to over %d values more than it holds (an alias bomb?)", maxExpansion)
		return false
	}
	return true
}

// fail records a problem at node n. Messages never quote a value that may be secret.
func (d *decoder) fail(n *yaml.Node, path, format string, args ...any) {
	p := &problem{path: path, msg: fmt.Sprintf(format, args...)}
	if n != nil {
		p.line, p.env = n.Line, d.env[n]
	}
	d.problems = append(d.problems, p)
}

// err returns every problem, override variables first, then in line order, with
// every secret hidden.
func (d *decoder) err() error {
	d.hideSecrets()
	slices.SortStableFunc(d.problems, func(a, b *problem) int {
		return cmp.Or(cmp.Compare(rank(a), rank(b)), cmp.Compare(a.line, b.line))
	})
	errs := make([]error, len(d.problems))
	for i, p := range d.problems {
		errs[i] = p
	}
	return errors.Join(errs...)
}

// kind says how a schema field is written in YAML, and so whether an env var can set it.
type kind int

const (
	kindScalar  kind = iota // one value; overridable
	kindList                // a list of scalars; overridable with a comma-separated value
	kindMapping             // a nested group of fields
	kindOther               // maps, transforms, models: decoded by set, not overridable
)

// A field is one key of a YAML mapping in the schema, bound to where its value goes.
type field struct {
	key  string
	kind kind
	sub  []field                                     // kindMapping
	set  func(d *decoder, n *yaml.Node, path string) // every other kind
}

// group is a nested mapping of fields.
func group(key string, sub []field) field {
	return field{key: key, kind: kindMapping, sub: sub}
}

// mapping decodes mapping node n with fields and returns the value node of every key
// present. Unknown and repeated keys are problems; a null node is an empty mapping.
func (d *decoder) mapping(n *yaml.Node, path string, fields []field) map[string]*yaml.Node {
	m := resolve(n)
	if isNull(m) {
		return nil
	}
	if m.Kind != yaml.MappingNode {
		d.fail(n, path, "want a mapping of keys to values, got %s", describe(m))
		return nil
	}
	if !d.spend(n, path, len(m.Content)/2) {
		return nil
	}
	present := make(map[string]*yaml.Node, len(m.Content)/2)
	lines := make(map[string]int, len(m.Content)/2)
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := resolve(m.Content[i]), m.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.fail(m.Content[i], path, "want a key name, got %s", describe(k))
			continue
		}
		name := k.Value
		if looksLikeKey(name) {
			name = Mask(name) // a key pasted as a mapping key
		}
		p := join(path, name)
		f, ok := lookupField(fields, k.Value)
		_, dup := present[k.Value]
		switch {
		case !ok:
			d.fail(k, p, "unknown key (valid keys: %s)", keys(fields))
		case dup:
			d.fail(k, p, "key repeated (first at line %d)", lines[k.Value])
		default:
			present[k.Value], lines[k.Value] = v, k.Line
			d.decodeField(f, v, p)
		}
	}
	return present
}

func (d *decoder) decodeField(f field, v *yaml.Node, path string) {
	if f.kind == kindMapping {
		d.mapping(v, path, f.sub)
		return
	}
	f.set(d, v, path)
}

func lookupField(fields []field, key string) (field, bool) {
	for _, f := range fields {
		if f.key == key {
			return f, true
		}
	}
	return field{}, false
}

func keys(fields []field) string {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.key
	}
	return strings.Join(names, ", ")
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// scalar returns the text of scalar node n with ${VAR} expanded. Values injected by an
// override variable are taken literally: the shell has already expanded them.
func (d *decoder) scalar(n *yaml.Node, path string) (string, bool) {
	s := resolve(n)
	if s.Kind != yaml.ScalarNode {
		d.fail(n, path, "want a single value, got %s", describe(s))
		return "", false
	}
	if _, ok := d.env[s]; ok {
		return s.Value, true
	}
	v, err := expand(s.Value, d.lookup)
	if err != nil {
		d.fail(n, path, "%v", err)
		return "", false
	}
	d.noteSecretVariables(s.Value)
	return v, true
}

// sequence returns the items of sequence node n; null is an empty list.
func (d *decoder) sequence(n *yaml.Node, path string) ([]*yaml.Node, bool) {
	s := resolve(n)
	switch {
	case isNull(s):
		return nil, true
	case s.Kind != yaml.SequenceNode:
		d.fail(n, path, "want a list, got %s", describe(s))
		return nil, false
	case !d.spend(n, path, len(s.Content)):
		return nil, false
	}
	return s.Content, true
}

// A parser turns one expanded scalar into a typed value, or says what it wanted.
type parser[T any] func(s string) (T, error)

// leaf is a scalar field; null leaves the current (default) value in place.
func leaf[T any](key string, dst *T, parse parser[T]) field {
	return scalarField(key, dst, parse, false)
}

// secretLeaf is a leaf that holds a credential: its value is never shown by a problem,
// nor anywhere else in one (hide.go).
func secretLeaf[T any](key string, dst *T, parse parser[T]) field {
	return scalarField(key, dst, parse, true)
}

func scalarField[T any](key string, dst *T, parse parser[T], secret bool) field {
	return field{key: key, kind: kindScalar, set: func(d *decoder, n *yaml.Node, path string) {
		if isNull(resolve(n)) {
			return
		}
		if v, ok := parseNode(d, n, path, parse, secret); ok {
			*dst = v
		}
	}}
}

// list is a list-of-scalars field; a list replaces the current value whole.
func list[T any](key string, dst *[]T, parse parser[T]) field {
	return listField(key, dst, parse, false)
}

func listField[T any](key string, dst *[]T, parse parser[T], secret bool) field {
	return field{key: key, kind: kindList, set: func(d *decoder, n *yaml.Node, path string) {
		items, ok := d.sequence(n, path)
		if !ok {
			return
		}
		var out []T
		for i, item := range items {
			if v, ok := parseNode(d, item, fmt.Sprintf("%s[%d]", path, i), parse, secret); ok {
				out = append(out, v)
			}
		}
		*dst = out
	}}
}

// parseNode expands and parses scalar n. A rejected value is kept with the problem,
// to be shown or hidden once the whole document is known.
func parseNode[T any](d *decoder, n *yaml.Node, path string, parse parser[T], secret bool) (T, bool) {
	var zero T
	s, ok := d.scalar(n, path)
	if !ok {
		return zero, false
	}
	if secret {
		d.noteSecret(n, s)
	}
	v, err := parse(s)
	if err != nil {
		d.failValue(n, path, s, err.Error(), secret)
		return zero, false
	}
	return v, true
}

// resolve follows an alias to its anchored node.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == 0 || n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if isNull(n) {
			return "null"
		}
		return "a single value"
	}
	return "nothing"
}
