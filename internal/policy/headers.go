package policy

import (
	"fmt"
	"net/http"
	"net/textproto"
	"slices"
	"strings"

	"github.com/llmrouter/llmrouter/internal/config"
)

// headerRules are a model's compiled header rules.
type headerRules struct {
	keepOnly names // empty: keep every header
	drop     names
	add      []header // sorted by name
	force    []header // sorted by name
}

// header is one header to add or force, its name in canonical form.
type header struct{ name, value string }

// names is a list of header names and `*` globs, matched case-insensitively.
type names struct {
	exact map[string]bool // lower-cased
	globs [][]string      // lower-cased patterns split at '*'
}

func compileHeaders(h config.Headers) (headerRules, error) {
	var r headerRules
	var err error
	if r.keepOnly, err = compileNames(h.KeepOnly); err != nil {
		return r, fmt.Errorf("keep_only: %w", err)
	}
	if r.drop, err = compileNames(h.Drop); err != nil {
		return r, fmt.Errorf("drop: %w", err)
	}
	if r.add, err = compileValues(h.Add); err != nil {
		return r, fmt.Errorf("add: %w", err)
	}
	if r.force, err = compileValues(h.Force); err != nil {
		return r, fmt.Errorf("force: %w", err)
	}
	return r, nil
}

func compileNames(list []string) (names, error) {
	n := names{exact: make(map[string]bool)}
	for _, name := range list {
		if bare := strings.ReplaceAll(name, "*", ""); name == "" || (bare != "" && !validName(bare)) {
			return n, fmt.Errorf("invalid header name %q", name)
		}
		lower := strings.ToLower(name)
		if strings.Contains(lower, "*") {
			n.globs = append(n.globs, strings.Split(lower, "*"))
		} else {
			n.exact[lower] = true
		}
	}
	return n, nil
}

func compileValues(m map[string]string) ([]header, error) {
	out := make([]header, 0, len(m))
	for name, value := range m {
		if !validName(name) {
			return nil, fmt.Errorf("invalid header name %q", name)
		}
		if strings.ContainsAny(value, "\r\n\x00") {
			return nil, fmt.Errorf("header %s: value holds a line break or NUL", name)
		}
		out = append(out, header{textproto.CanonicalMIMEHeaderKey(name), value})
	}
	// Map order is random; sorting makes names that differ only in case resolve
	// the same way on every start.
	slices.SortFunc(out, func(a, b header) int { return strings.Compare(a.name, b.name) })
	return out, nil
}

// validName reports whether s is an RFC 9110 token, the syntax of a field name.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

func (n names) empty() bool { return len(n.exact) == 0 && len(n.globs) == 0 }

// match reports whether the lower-cased name lower is listed.
func (n names) match(lower string) bool {
	if n.exact[lower] {
		return true
	}
	for _, g := range n.globs {
		if globMatch(g, lower) {
			return true
		}
	}
	return false
}

// globMatch matches s against a pattern split at its `*`s (at least two parts).
// Taking the leftmost occurrence of each middle part is optimal for `*`-only globs.
func globMatch(parts []string, s string) bool {
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return strings.HasSuffix(s, parts[len(parts)-1])
}

// apply runs the rules on h in order: keep_only, drop, add, force.
func (r *headerRules) apply(h http.Header) {
	if !r.keepOnly.empty() || !r.drop.empty() {
		for k := range h {
			lower := strings.ToLower(k)
			if (!r.keepOnly.empty() && !r.keepOnly.match(lower)) || r.drop.match(lower) {
				delete(h, k)
			}
		}
	}
	for _, a := range r.add {
		if !has(h, a.name) {
			h[a.name] = []string{a.value}
		}
	}
	for _, f := range r.force {
		del(h, f.name)
		h[f.name] = []string{f.value}
	}
}

// has reports whether h holds name in any letter case: a header set without
// canonicalisation still counts as present.
func has(h http.Header, name string) bool {
	if _, ok := h[name]; ok {
		return true
	}
	for k := range h {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

// del removes name from h in every letter case.
func del(h http.Header, name string) {
	for k := range h {
		if strings.EqualFold(k, name) {
			delete(h, k)
		}
	}
}
