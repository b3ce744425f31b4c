package config

import "strings"

// Routes is the routing table compiled from the models list and the routing
// section, once per configuration, so a request pays a map lookup (or a scan of
// the globs) and nothing else.
//
// Entries of the models list with one name are the deployments of one Group: an
// exact name is one group, and so is a glob pattern (two entries with the pattern
// "claude-*" are two deployments of one group). A glob entry and exact entries
// never share a group, even when the pattern matches the exact name.
type Routes struct {
	// Groups in the file order of each name's first entry.
	Groups []Group
	// Exact maps an exact model name to its index in Groups.
	Exact map[string]int
	// Globs are the indexes in Groups of the glob groups, in file order: the first
	// that matches a name serves it.
	Globs []int
	// Chains are the fallbacks resolved, keyed as written in the routing section: by
	// a model name or a glob pattern of the models list. Read them with Fallbacks.
	Chains map[string]Chains
}

// Group is the deployments of one model name or glob pattern.
type Group struct {
	Name string // the exact name or the glob pattern, as written
	Glob bool   // Name holds a `*`
	// Deployments are indexes into Config.Models, in file order (package balance
	// sorts them by priority; its Deployment.Index is the position in this list).
	Deployments []int
	Line        int // YAML line of the first entry; 0 for the embedded default
}

// Chains are the models a request falls back to, by cause, each resolved: a
// fallback's own fallbacks for that cause follow it, depth first, with no model
// twice and never the requested model itself.
type Chains struct {
	Fallbacks     []Fallback // every deployment failed for a retryable cause
	ContextWindow []Fallback // the prompt is too long for the model
	ContentPolicy []Fallback // the model refused on content policy
}

// Fallback is one model of a chain.
type Fallback struct {
	Model string // the model name to request, routed like a client's
	Group int    // the index in Routes.Groups that serves Model
}

// Lookup returns the group that serves a requested model name: the exact name's
// group, else the first glob group in file order that matches it.
func (r *Routes) Lookup(name string) (*Group, bool) {
	if i, ok := r.Exact[name]; ok {
		return &r.Groups[i], true
	}
	for _, i := range r.Globs {
		if match(r.Groups[i].Name, name) {
			return &r.Groups[i], true
		}
	}
	return nil, false
}

// Fallbacks returns the chains of a requested model name: those configured for the
// name itself, else those of the glob pattern that serves it. Per cause, a name's
// own entry wins and the pattern's applies where the name has none.
func (r *Routes) Fallbacks(name string) Chains {
	if c, ok := r.Chains[name]; ok {
		return c
	}
	if g, ok := r.Lookup(name); ok && g.Glob {
		return r.Chains[g.Name]
	}
	return Chains{}
}

// Names returns the exact model names in file order (for GET /v1/models).
func (r *Routes) Names() []string {
	var names []string
	for _, g := range r.Groups {
		if !g.Glob {
			names = append(names, g.Name)
		}
	}
	return names
}

// isGlob reports whether a model name is a pattern.
func isGlob(name string) bool { return strings.Contains(name, "*") }

// match reports whether name matches pattern, where `*` matches any run of
// characters, `/` and `:` included (Ollama names such as "library/llama3:8b"). It
// allocates nothing: a request whose model only a glob serves pays a scan.
func match(pattern, name string) bool {
	prefix, rest, glob := strings.Cut(pattern, "*")
	if !glob {
		return pattern == name
	}
	if !strings.HasPrefix(name, prefix) {
		return false
	}
	name = name[len(prefix):]
	for {
		part, more, ok := strings.Cut(rest, "*")
		if !ok { // the last part: a suffix, after what the middle parts took
			return len(name) >= len(part) && strings.HasSuffix(name, part)
		}
		i := strings.Index(name, part)
		if i < 0 {
			return false
		}
		name, rest = name[i+len(part):], more
	}
}

// maxOverlapWork bounds the pairs of positions overlap compares; beyond it two
// patterns are taken to overlap, which only makes reach include more.
const maxOverlapWork = 1 << 20

// overlap reports whether some name matches both patterns.
func overlap(a, b string) bool {
	if (len(a)+1)*(len(b)+1) > maxOverlapWork {
		return true
	}
	// seen[i][j]: the suffixes a[i:] and b[j:] were already found to share no name.
	seen := make(map[[2]int]bool)
	var common func(i, j int) bool
	common = func(i, j int) bool {
		switch {
		case i == len(a):
			return strings.Trim(b[j:], "*") == ""
		case j == len(b):
			return strings.Trim(a[i:], "*") == ""
		case seen[[2]int{i, j}]:
			return false
		}
		var ok bool
		switch {
		case a[i] == '*':
			// The star matches nothing, or one more character of b's name.
			ok = common(i+1, j) || common(i, j+1)
		case b[j] == '*':
			ok = common(i, j+1) || common(i+1, j)
		default:
			ok = a[i] == b[j] && common(i+1, j+1)
		}
		if !ok {
			seen[[2]int{i, j}] = true
		}
		return ok
	}
	return common(0, 0)
}

// covers reports whether every name that matches pattern inner also matches outer:
// outer matches inner's text when inner's stars are read as characters.
func covers(outer, inner string) bool { return match(outer, inner) }

// reach returns the indexes of the groups a client may be routed to by naming a
// model that matches pattern (a name or a glob): an exact name reaches its group;
// a glob reaches every exact group it matches, and every glob group it overlaps
// unless an earlier glob already serves all of its names. An exact name shadowing
// part of a glob is not subtracted, so reach may include a group no name reaches.
func (r *Routes) reach(pattern string) []int {
	if !isGlob(pattern) {
		if g, ok := r.Lookup(pattern); ok {
			return []int{r.index(g)}
		}
		return nil
	}
	var out []int
	for i, g := range r.Groups {
		if !g.Glob && match(pattern, g.Name) {
			out = append(out, i)
		}
	}
	for k, i := range r.Globs {
		if !overlap(pattern, r.Groups[i].Name) {
			continue
		}
		shadowed := false
		for _, earlier := range r.Globs[:k] {
			shadowed = shadowed || covers(r.Groups[earlier].Name, pattern)
		}
		if !shadowed {
			out = append(out, i)
		}
	}
	return out
}

// index returns the position of g in r.Groups.
func (r *Routes) index(g *Group) int {
	if g.Glob {
		for _, i := range r.Globs {
			if &r.Groups[i] == g {
				return i
			}
		}
	}
	return r.Exact[g.Name]
}
