// Package route maps a requested model name to its configured model: exact names
// first, then `*` globs in file order.
package route

import (
	"strings"

	"github.com/llmrouter/llmrouter/internal/config"
)

// Table is an immutable lookup table built once from the configuration.
type Table struct {
	exact map[string]int
	globs []glob
	names []string // exact names in file order, for /v1/models
}

type glob struct {
	parts []string // the pattern split at `*`, split once at build time
	index int
}

// New builds a table over models; Lookup returns indexes into models.
func New(models []config.Model) *Table {
	t := &Table{exact: make(map[string]int, len(models))}
	for i, m := range models {
		if IsGlob(m.Name) {
			t.globs = append(t.globs, glob{strings.Split(m.Name, "*"), i})
			continue
		}
		if _, dup := t.exact[m.Name]; !dup {
			t.exact[m.Name] = i
			t.names = append(t.names, m.Name)
		}
	}
	return t
}

// Lookup returns the index of the model serving name: an exact match wins over
// globs, and among globs the first in file order wins.
func (t *Table) Lookup(name string) (int, bool) {
	if i, ok := t.exact[name]; ok {
		return i, true
	}
	for _, g := range t.globs {
		if matchParts(g.parts, name) {
			return g.index, true
		}
	}
	return 0, false
}

// Names returns the exact (non-glob) model names in file order.
func (t *Table) Names() []string { return t.names }

// IsGlob reports whether a model name is a pattern.
func IsGlob(name string) bool { return strings.Contains(name, "*") }

// Match reports whether name matches pattern, where `*` matches any run of
// characters, `/` and `:` included (Ollama names such as "library/llama3:8b").
func Match(pattern, name string) bool { return matchParts(strings.Split(pattern, "*"), name) }

func matchParts(parts []string, name string) bool {
	if len(parts) == 1 {
		return parts[0] == name
	}
	if !strings.HasPrefix(name, parts[0]) {
		return false
	}
	name = name[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(name, p)
		if i < 0 {
			return false
		}
		name = name[i+len(p):]
	}
	return len(name) >= len(last) && strings.HasSuffix(name, last)
}
