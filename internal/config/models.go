package config

import (
	"fmt"

	"go.yaml.in/yaml/v3"
)

// models decodes the models list, each entry on top of a copy of the merged defaults.
// A missing or empty list is a problem reported at at.
func (d *decoder) models(n, at *yaml.Node, defaults Model) []Model {
	items, ok := d.sequence(n, "models")
	if !ok {
		return nil
	}
	if len(items) == 0 {
		d.fail(at, "models", "at least one model is required")
		return nil
	}
	out := make([]Model, 0, len(items))
	first := make(map[string]int) // name -> line of its first entry
	// Every model starts as a copy of the defaults: a long defaults section times
	// many models is an expansion as much as an alias is.
	h := defaults.Headers
	copied := len(defaults.Transforms) + len(h.Add) + len(h.Force) + len(h.KeepOnly) + len(h.Drop) + len(defaults.Retry.OnStatus)
	for i, item := range items {
		path := fmt.Sprintf("models[%d]", i)
		if !d.spend(item, path, copied) {
			break
		}
		m := defaults.clone()
		m.Line = resolve(item).Line
		present := d.mapping(item, path, modelFields(&m))
		if present == nil {
			if isNull(resolve(item)) {
				d.fail(item, path, "empty model entry")
			}
			continue
		}
		d.checkModel(&m, item, present, path, first)
		out = append(out, m)
	}
	return out
}

// checkModel checks what only a whole, merged model can tell.
func (d *decoder) checkModel(m *Model, n *yaml.Node, present map[string]*yaml.Node, path string, first map[string]int) {
	for _, k := range []string{"name", "provider", "endpoint"} {
		if present[k] == nil || isNull(resolve(present[k])) {
			d.fail(n, join(path, k), "required")
		}
	}
	if m.Name != "" {
		if line, dup := first[m.Name]; dup {
			d.fail(present["name"], join(path, "name"), "model %q is already defined at line %d", m.Name, line)
		} else {
			first[m.Name] = lineOf(present["name"])
		}
	}
	if r := m.Retry; r.InitialBackoff > r.MaxBackoff {
		at := n
		if retry := present["retry"]; retry != nil {
			at = retry
		}
		d.fail(at, join(path, "retry"), "initial_backoff %v is longer than max_backoff %v", r.InitialBackoff, r.MaxBackoff)
	}
}
