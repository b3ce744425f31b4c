package config

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"

	"github.com/theory/jsonpath"
	"go.yaml.in/yaml/v3"
)

// maxValueDepth bounds the nesting of a transform's value, which YAML aliases could
// otherwise make cyclic.
const maxValueDepth = 64

// transformKinds are the keys of which a rule has exactly one.
var transformKinds = []string{"regex", "drop", "set", "append"}

var roles = []string{"system", "developer", "user", "assistant", "tool"}

// Pattern is the rule's regular expression with its Flags applied, ready for
// regexp.Compile: "(?i)acme" for Regex "acme" and Flags "i".
func (t Transform) Pattern() string {
	if t.Flags == "" {
		return t.Regex
	}
	return "(?" + t.Flags + ")" + t.Regex
}

func transformFields(t *Transform) []field {
	return []field{
		leaf("regex", &t.Regex, nonEmpty),
		leaf("replace", &t.Replace, str),
		list("roles", &t.Roles, oneOf("role", roles...)),
		leaf("flags", &t.Flags, flags),
		leaf("drop", &t.Drop, jsonPath),
		leaf("set", &t.Set, jsonPath),
		leaf("append", &t.Append, jsonPath),
		{key: "value", kind: kindOther, set: func(d *decoder, n *yaml.Node, path string) {
			t.Value = d.value(n, path)
		}},
	}
}

// transforms decodes a list of rules; the list replaces the current one whole.
func transforms(dst *[]Transform) func(d *decoder, n *yaml.Node, path string) {
	return func(d *decoder, n *yaml.Node, path string) {
		items, ok := d.sequence(n, path)
		if !ok {
			return
		}
		if len(items) > maxTransforms {
			d.fail(n, path, "%d rules; at most %d are allowed (every rule runs on every request)", len(items), maxTransforms)
			return
		}
		var out []Transform
		for i, item := range items {
			out = append(out, d.transform(item, fmt.Sprintf("%s[%d]", path, i)))
		}
		*dst = out
	}
}

// ruleKeys are the keys each kind of rule allows besides its own.
var ruleKeys = map[string][]string{
	"regex":  {"replace", "roles", "flags"},
	"drop":   nil,
	"set":    {"value"},
	"append": {"value"},
}

// transform decodes one rule and checks that its keys fit its kind.
func (d *decoder) transform(n *yaml.Node, path string) Transform {
	t := Transform{Line: resolve(n).Line}
	present := d.mapping(n, path, transformFields(&t))
	if present == nil && !isNull(resolve(n)) {
		return t // not a mapping: already reported
	}
	var kinds []string
	for _, k := range transformKinds {
		if v := present[k]; v != nil && !isNull(resolve(v)) {
			kinds = append(kinds, k)
		}
	}
	if len(kinds) != 1 {
		d.fail(n, path, "a rule has exactly one of regex, drop, set or append, got %d", len(kinds))
		return t
	}
	kind := kinds[0]
	for _, k := range []string{"replace", "roles", "flags", "value"} {
		if present[k] != nil && !slices.Contains(ruleKeys[kind], k) {
			d.fail(present[k], join(path, k), "not allowed with %s", kind)
		}
	}
	d.checkTransform(&t, kind, present, n, path)
	return t
}

// checkTransform checks what a rule of the given kind requires.
func (d *decoder) checkTransform(t *Transform, kind string, present map[string]*yaml.Node, n *yaml.Node, path string) {
	switch kind {
	case "regex":
		if present["replace"] == nil {
			d.fail(n, join(path, "replace"), "required with regex (\"\" deletes the match)")
		}
		if _, err := regexp.Compile(t.Pattern()); err != nil && t.Regex != "" {
			d.fail(present["regex"], join(path, "regex"), "%v", err)
		}
	case "set", "append":
		if present["value"] == nil {
			d.fail(n, join(path, "value"), "required with %s", kind)
		}
	}
}

// flags accepts a subset of RE2's flags i, m, s and U.
func flags(s string) (string, error) {
	if strings.Trim(s, "imsU") != "" {
		return "", fmt.Errorf("unknown regex flags %q (want any of i, m, s, U)", s)
	}
	return s, nil
}

// jsonPath accepts an RFC 9535 JSONPath query.
func jsonPath(s string) (string, error) {
	if _, err := jsonpath.Parse(s); err != nil {
		return "", fmt.Errorf("invalid JSONPath: %w", err)
	}
	return s, nil
}

// value converts a YAML value into what encoding/json produces: map[string]any,
// []any, string, int64 or float64, bool and nil. Strings are ${VAR}-expanded.
func (d *decoder) value(n *yaml.Node, path string) any {
	v, deep := d.walkValue(n, path, 0)
	if deep {
		d.fail(n, path, "value nested more than %d deep (a cyclic alias?)", maxValueDepth)
	}
	return v
}

// walkValue converts n, reporting whether it is nested beyond maxValueDepth.
func (d *decoder) walkValue(n *yaml.Node, path string, depth int) (any, bool) {
	if depth > maxValueDepth {
		return nil, true
	}
	if !d.spend(n, path, 1) {
		return nil, false
	}
	switch v := resolve(n); v.Kind {
	case yaml.MappingNode:
		return d.object(v, path, depth)
	case yaml.SequenceNode:
		arr := make([]any, len(v.Content))
		deep := false
		for i, item := range v.Content {
			var tooDeep bool
			arr[i], tooDeep = d.walkValue(item, fmt.Sprintf("%s[%d]", path, i), depth+1)
			deep = deep || tooDeep
		}
		return arr, deep
	case yaml.ScalarNode:
		return d.scalarValue(v, path), false
	}
	return nil, false
}

func (d *decoder) object(m *yaml.Node, path string, depth int) (map[string]any, bool) {
	obj := make(map[string]any, len(m.Content)/2)
	deep := false
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := resolve(m.Content[i]), m.Content[i+1]
		p := join(path, k.Value)
		if k.Kind != yaml.ScalarNode {
			d.fail(m.Content[i], path, "object keys must be strings, got %s", describe(k))
			continue
		}
		if _, dup := obj[k.Value]; dup {
			d.fail(m.Content[i], p, "key repeated")
			continue
		}
		var tooDeep bool
		obj[k.Value], tooDeep = d.walkValue(v, p, depth+1)
		deep = deep || tooDeep
	}
	return obj, deep
}

// scalarValue types a scalar the way YAML does. A plain scalar that held a ${VAR}
// is typed after expansion, so `value: ${TEMPERATURE:-0.2}` is a number.
func (d *decoder) scalarValue(n *yaml.Node, path string) any {
	if n.ShortTag() != "!!str" {
		return d.typed(n, n, path)
	}
	s, ok := d.scalar(n, path)
	if !ok || n.Style != 0 || s == n.Value {
		return s
	}
	return d.typed(&yaml.Node{Kind: yaml.ScalarNode, Value: s}, n, path)
}

// typed decodes scalar n as its YAML type; problems are reported at node at.
func (d *decoder) typed(n, at *yaml.Node, path string) any {
	v, err := typedScalar(n)
	if err != nil {
		d.fail(at, path, "%v", err)
		return nil
	}
	return v
}

func typedScalar(n *yaml.Node) (any, error) {
	switch n.ShortTag() {
	case "!!null":
		return nil, nil
	case "!!bool":
		var b bool
		err := n.Decode(&b)
		return b, err
	case "!!int":
		var i int64
		if err := n.Decode(&i); err == nil {
			return i, nil
		}
		fallthrough // beyond int64: keep it as a JSON number
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil {
			return nil, err
		}
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, fmt.Errorf("JSON has no %v", f)
		}
		return f, nil
	}
	return n.Value, nil
}
