package config

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The causes a fallback map is for, in the order of the routing section.
const (
	causeRetryable = iota
	causeContextWindow
	causeContentPolicy
	numCauses
)

var causeKeys = [numCauses]string{"fallbacks", "context_window_fallbacks", "content_policy_fallbacks"}

// Bounds of the fallbacks: every model of a chain may be one more upstream call.
const (
	maxFallbacks = 64 // names in one list
	maxChain     = 64 // models in one resolved chain
)

// listing is one entry of a fallback map as written, with its nodes for problems.
type listing struct {
	key   string
	node  *yaml.Node // the key's node
	path  string
	names []string
	nodes []*yaml.Node
}

// fallbackMap decodes a mapping of model name (or glob pattern) to a list of model
// names. Keys are taken as written; names are ${VAR}-expanded like every value.
func fallbackMap(cause int, dst *map[string][]string) func(d *decoder, n *yaml.Node, path string) {
	return func(d *decoder, n *yaml.Node, path string) {
		d.fallbacks[cause] = nil
		m := resolve(n)
		if isNull(m) {
			*dst = nil
			return
		}
		if m.Kind != yaml.MappingNode {
			d.fail(n, path, "want a mapping of model names to lists of model names, got %s", describe(m))
			return
		}
		if !d.spend(n, path, len(m.Content)/2) {
			return
		}
		out := make(map[string][]string, len(m.Content)/2)
		lines := make(map[string]int, len(m.Content)/2)
		for i := 0; i+1 < len(m.Content); i += 2 {
			k := resolve(m.Content[i])
			if k.Kind != yaml.ScalarNode {
				d.fail(m.Content[i], path, "want a model name, got %s", describe(k))
				continue
			}
			p := join(path, k.Value)
			if first, dup := lines[k.Value]; dup {
				d.fail(k, p, "model repeated (first at line %d)", first)
				continue
			}
			lines[k.Value] = k.Line
			if l, ok := d.listing(k, m.Content[i+1], p); ok {
				out[k.Value] = l.names
				d.fallbacks[cause] = append(d.fallbacks[cause], l)
			}
		}
		*dst = out
	}
}

// listing decodes the list of one fallback map entry.
func (d *decoder) listing(k, v *yaml.Node, path string) (listing, bool) {
	items, ok := d.sequence(v, path)
	if !ok {
		return listing{}, false
	}
	if len(items) > maxFallbacks {
		d.fail(v, path, "%d models; at most %d are allowed", len(items), maxFallbacks)
		return listing{}, false
	}
	l := listing{key: k.Value, node: k, path: path}
	for j, item := range items {
		if s, ok := d.scalar(item, fmt.Sprintf("%s[%d]", path, j)); ok {
			l.names = append(l.names, s)
			l.nodes = append(l.nodes, item)
		}
	}
	return l, true
}

// resolveFallbacks checks every fallback entry against the routes, refuses a
// cycle, and resolves the chains into r.Chains.
func (d *decoder) resolveFallbacks(c *Config) {
	r := &c.Routes
	lists := [numCauses]map[string][]string{c.Routing.Fallbacks, c.Routing.ContextWindowFallbacks, c.Routing.ContentPolicyFallbacks}
	valid := true
	for _, ls := range d.fallbacks {
		for _, l := range ls {
			valid = d.checkListing(r, l) && valid
		}
	}
	if !valid || d.cycles(r, lists) {
		return
	}
	for _, ls := range d.fallbacks {
		for _, l := range ls {
			if _, done := r.Chains[l.key]; done {
				continue
			}
			var ch Chains
			for x, dst := range []*[]Fallback{&ch.Fallbacks, &ch.ContextWindow, &ch.ContentPolicy} {
				var full bool
				if *dst, full = r.chain(lists[x], l.key); full {
					d.fail(l.node, l.path, "the %s chain of %q resolves to more than %d models", causeKeys[x], l.key, maxChain)
				}
			}
			if r.Chains == nil {
				r.Chains = make(map[string]Chains)
			}
			r.Chains[l.key] = ch
		}
	}
}

// checkListing checks one entry: its key names a model (or is a glob pattern of
// the models list), and each fallback is a model name that routes, other than the
// key, listed once.
func (d *decoder) checkListing(r *Routes, l listing) bool {
	ok := true
	if isGlob(l.key) {
		if r.globGroup(l.key) < 0 {
			d.fail(l.node, l.path, "%q is not a glob pattern of the models list (a key with * names a models entry as written)", l.key)
			ok = false
		}
	} else if _, found := r.Lookup(l.key); !found || l.key == "" {
		d.fail(l.node, l.path, "no model is named %q and no glob matches it", l.key)
		ok = false
	}
	seen := make(map[string]int)
	for j, name := range l.names {
		at, p := l.nodes[j], fmt.Sprintf("%s[%d]", l.path, j)
		_, found := r.Lookup(name)
		switch first, dup := seen[name]; {
		case isGlob(name):
			d.fail(at, p, "%q is a pattern; a fallback is a model name to request", name)
		case name == "" || !found:
			d.fail(at, p, "no model is named %q and no glob matches it", name)
		case name == l.key:
			d.fail(at, p, "%q falls back to itself", name)
		case dup:
			d.fail(at, p, "%q is listed twice (first at line %d)", name, first)
		default:
			seen[name] = lineOf(at)
			continue
		}
		ok = false
	}
	return ok
}

// globGroup returns the index of the glob group whose pattern is p, or -1.
func (r *Routes) globGroup(p string) int {
	for _, i := range r.Globs {
		if r.Groups[i].Name == p {
			return i
		}
	}
	return -1
}

// effective returns the key of lists whose fallbacks apply to a requested name:
// the name's own entry, else the entry of the glob pattern that serves it.
func (r *Routes) effective(lists map[string][]string, name string) (string, bool) {
	if _, ok := lists[name]; ok {
		return name, true
	}
	if isGlob(name) {
		return "", false
	}
	if g, ok := r.Lookup(name); ok && g.Glob {
		if _, ok := lists[g.Name]; ok {
			return g.Name, true
		}
	}
	return "", false
}

// chain resolves the fallbacks of root in lists: each fallback followed by its own
// fallbacks, depth first, no model twice, never root. full reports a chain cut at
// maxChain.
func (r *Routes) chain(lists map[string][]string, root string) (out []Fallback, full bool) {
	seen := map[string]bool{root: true}
	var visit func(key string)
	visit = func(key string) {
		for _, name := range lists[key] {
			if seen[name] {
				continue
			}
			if len(out) == maxChain {
				full = true
				return
			}
			seen[name] = true
			g, _ := r.Lookup(name)
			out = append(out, Fallback{Model: name, Group: r.index(g)})
			if k, ok := r.effective(lists, name); ok {
				visit(k)
			}
		}
	}
	if k, ok := r.effective(lists, root); ok {
		visit(k)
	}
	return out, full
}

// edge is one fallback: from a model to a name in one of its lists.
type edge struct {
	to   string
	via  bool // the list is that of the glob serving the model, not its own
	node *yaml.Node
	path string
}

// cycles reports every cycle of the three maps taken together, and whether there
// was one. One graph for all three: a model whose context-window fallback falls
// back to it on an outage would loop when both happen.
func (d *decoder) cycles(r *Routes, lists [numCauses]map[string][]string) bool {
	byKey := [numCauses]map[string]listing{}
	for x, ls := range d.fallbacks {
		byKey[x] = make(map[string]listing, len(ls))
		for _, l := range ls {
			byKey[x][l.key] = l
		}
	}
	succ := func(name string) []edge {
		var out []edge
		for x := range numCauses {
			k, ok := r.effective(lists[x], name)
			if !ok {
				continue
			}
			l := byKey[x][k]
			for j, to := range l.names {
				out = append(out, edge{to: to, via: k != name, node: l.nodes[j], path: fmt.Sprintf("%s[%d]", l.path, j)})
			}
		}
		return out
	}
	state := make(map[string]int) // 1: on the stack, 2: done
	var stack []string
	var vias []bool
	found := false
	var visit func(name string)
	visit = func(name string) {
		state[name] = 1
		stack = append(stack, name)
		for _, e := range succ(name) {
			vias = append(vias, e.via)
			switch state[e.to] {
			case 1:
				d.failCycle(e, stack, vias)
				found = true
			case 0:
				visit(e.to)
			}
			vias = vias[:len(vias)-1]
		}
		stack = stack[:len(stack)-1]
		state[name] = 2
	}
	for _, ls := range d.fallbacks {
		for _, l := range ls {
			if state[l.key] == 0 {
				visit(l.key)
			}
		}
	}
	return found
}

// failCycle reports the cycle that e closes on the stack of names.
func (d *decoder) failCycle(e edge, stack []string, vias []bool) {
	i := len(stack) - 1
	for stack[i] != e.to {
		i--
	}
	names := append(append([]string(nil), stack[i:]...), e.to)
	note := ""
	for _, via := range vias[i:] {
		if via {
			note = " (a model without fallbacks of its own takes those of the glob that serves it)"
		}
	}
	d.fail(e.node, e.path, "fallback cycle: %s%s", strings.Join(names, " -> "), note)
}

// fallbackEdges returns, per group, the groups its models' chains lead to.
func fallbackEdges(r *Routes) map[int][]int {
	edges := make(map[int][]int)
	for key, ch := range r.Chains {
		from := r.globGroup(key)
		if !isGlob(key) {
			g, ok := r.Lookup(key)
			if !ok {
				continue
			}
			from = r.index(g)
		}
		if from < 0 {
			continue
		}
		for _, chain := range [][]Fallback{ch.Fallbacks, ch.ContextWindow, ch.ContentPolicy} {
			for _, f := range chain {
				edges[from] = append(edges[from], f.Group)
			}
		}
	}
	return edges
}
