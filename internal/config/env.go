package config

import (
	"slices"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

// An override is an environment variable that can set one schema path, e.g.
// LLMROUTER_DEFAULTS_RETRY_ATTEMPTS for defaults.retry.attempts.
type override struct {
	name string
	path []string
	list bool // a comma-separated value sets a list
}

// overrides enumerates every scalar and list of scalars under server, logging,
// defaults, routing, limits, telemetry and reload. Names come from the schema, never from splitting a name on `_`, since
// keys such as first_byte hold underscores themselves.
var overrides = sync.OnceValue(func() []override {
	var out []override
	var walk func(prefix []string, fields []field)
	walk = func(prefix []string, fields []field) {
		for _, f := range fields {
			path := append(slices.Clip(prefix), f.key)
			switch f.kind {
			case kindMapping:
				walk(path, f.sub)
			case kindScalar, kindList:
				name := "LLMROUTER_" + strings.ToUpper(strings.Join(path, "_"))
				out = append(out, override{name: name, path: path, list: f.kind == kindList})
			}
		}
	}
	walk(nil, append([]field{
		group("server", serverFields(new(Server))),
		group("logging", loggingFields(new(Logging))),
		group("defaults", policyFields(new(Model))),
	}, sectionFields(new(Config))...))
	return out
})

// applyOverrides writes the value of every override variable that is set into the
// document, replacing what the file says. The injected nodes are remembered, so a bad
// value is reported under the variable's name and is not ${VAR}-expanded.
func (d *decoder) applyOverrides(root *yaml.Node) {
	for _, o := range overrides() {
		v, ok := d.lookup(o.name)
		if !ok {
			continue
		}
		n := d.envNode(o, v)
		set(root, o.path, n)
	}
}

// envNode builds the node for an override's value: a scalar, or a list from a
// comma-separated value (blank items skipped, so "" is the empty list).
func (d *decoder) envNode(o override, v string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v}
	if o.list {
		n = &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for item := range strings.SplitSeq(v, ",") {
			if item = strings.TrimSpace(item); item != "" {
				s := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: item}
				d.env[s] = o.name
				n.Content = append(n.Content, s)
			}
		}
	}
	d.env[n] = o.name
	return n
}

// set puts v at path in mapping m, creating the mappings on the way. A section that
// is not a mapping is left alone: decoding reports it.
func set(m *yaml.Node, path []string, v *yaml.Node) {
	for i, key := range path {
		if m.Kind != yaml.MappingNode {
			return
		}
		j := keyIndex(m, key)
		if j < 0 {
			m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, nil)
			j = len(m.Content) - 2
		}
		if i == len(path)-1 {
			m.Content[j+1] = v
			return
		}
		m.Content[j+1] = ownMapping(m.Content[j+1])
		m = m.Content[j+1]
	}
}

// ownMapping returns a mapping that can be written to without changing anything else:
// a new one for null, and a copy of an anchored one, which aliases elsewhere share.
func ownMapping(n *yaml.Node) *yaml.Node {
	switch r := resolve(n); {
	case isNull(r):
		return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: lineOf(n)}
	case r != n || r.Anchor != "":
		c := *r
		c.Anchor, c.Content = "", slices.Clone(r.Content)
		return &c
	}
	return n
}

func lineOf(n *yaml.Node) int {
	if n == nil {
		return 0
	}
	return n.Line
}

// keyIndex is the index of key's key node in mapping m, or -1.
func keyIndex(m *yaml.Node, key string) int {
	for j := 0; j+1 < len(m.Content); j += 2 {
		if k := m.Content[j]; k.Kind == yaml.ScalarNode && k.Value == key {
			return j
		}
	}
	return -1
}
