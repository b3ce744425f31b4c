package config

import (
	"fmt"
	"net/url"
	"slices"

	"go.yaml.in/yaml/v3"
)

// models decodes the models list, each entry on top of a copy of the merged defaults,
// and groups the entries into deployments of one name. A missing or empty list is a
// problem reported at at.
func (d *decoder) models(n, at *yaml.Node, defaults Model) ([]Model, Routes) {
	items, ok := d.sequence(n, "models")
	if !ok {
		return nil, Routes{}
	}
	if len(items) == 0 {
		d.fail(at, "models", "at least one model is required")
		return nil, Routes{}
	}
	out := make([]Model, 0, len(items))
	g := newGrouping()
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
		d.checkModel(&m, item, present, path)
		g.add(d, &m, len(out), present, path)
		out = append(out, m)
	}
	return out, g.routes
}

// checkModel checks what only a whole, merged model can tell.
func (d *decoder) checkModel(m *Model, n *yaml.Node, present map[string]*yaml.Node, path string) {
	for _, k := range []string{"name", "provider", "endpoint"} {
		if present[k] == nil || isNull(resolve(present[k])) {
			d.fail(n, join(path, k), "required")
		}
	}
	if r := m.Retry; r.InitialBackoff > r.MaxBackoff {
		d.fail(or(present["retry"], n), join(path, "retry"), "initial_backoff %v is longer than max_backoff %v", r.InitialBackoff, r.MaxBackoff)
	}
	d.checkAPIs(m, present["apis"], path)
	if f := present["max_tokens_field"]; f != nil && m.Provider != ProviderOpenAI && m.Provider != "" {
		d.fail(f, join(path, "max_tokens_field"), "only for provider openai (the Chat Completions member its endpoint reads the output limit from)")
	}
	if hc := &m.HealthCheck; hc.Path != "" {
		if hc.Timeout > hc.Interval {
			d.fail(or(present["health_check"], n), join(path, "health_check"), "timeout %v is longer than interval %v", hc.Timeout, hc.Interval)
		}
		if u, err := url.Parse(m.Endpoint); err == nil && m.Endpoint != "" {
			hc.URL = u.Scheme + "://" + u.Host + hc.Path
		}
	}
}

// checkAPIs checks an openai model's apis and fills the default: all three.
func (d *decoder) checkAPIs(m *Model, apis *yaml.Node, path string) {
	p := join(path, "apis")
	switch {
	case apis == nil || isNull(resolve(apis)):
		m.APIs = nil
		if m.Provider == ProviderOpenAI {
			m.APIs = []string{APIChat, APICompletions, APIResponses}
		}
		return
	case m.Provider != ProviderOpenAI && m.Provider != "":
		d.fail(apis, p, "only for provider openai (which OpenAI APIs its endpoint serves); %s has one API", m.Provider)
		return
	case len(m.APIs) == 0 && len(resolve(apis).Content) == 0:
		d.fail(apis, p, "empty: list the OpenAI APIs the endpoint serves, the preferred first (chat, completions, responses)")
		return
	}
	for i, a := range m.APIs {
		if slices.Index(m.APIs, a) < i {
			d.fail(apis, fmt.Sprintf("%s[%d]", p, i), "%s is listed twice", a)
		}
	}
}

// or returns n, or else if n is nil.
func or(n, otherwise *yaml.Node) *yaml.Node {
	if n != nil {
		return n
	}
	return otherwise
}

// grouping builds Routes from the entries as they are decoded, and gives each
// its deployment id.
type grouping struct {
	routes Routes
	byName map[string]int // name or pattern -> index in routes.Groups
	ids    map[string]int // deployment id -> line of its entry
}

func newGrouping() *grouping {
	return &grouping{routes: Routes{Exact: make(map[string]int)}, byName: make(map[string]int), ids: make(map[string]int)}
}

// add puts entry m, at index in Config.Models, in the group of its name.
func (g *grouping) add(d *decoder, m *Model, index int, present map[string]*yaml.Node, path string) {
	if m.Name == "" {
		return // reported
	}
	gi, ok := g.byName[m.Name]
	if !ok {
		gi = len(g.routes.Groups)
		g.byName[m.Name] = gi
		g.routes.Groups = append(g.routes.Groups, Group{Name: m.Name, Glob: isGlob(m.Name), Line: m.Line})
		if isGlob(m.Name) {
			g.routes.Globs = append(g.routes.Globs, gi)
		} else {
			g.routes.Exact[m.Name] = gi
		}
	}
	grp := &g.routes.Groups[gi]
	if len(grp.Deployments) == maxDeployments {
		d.fail(present["name"], join(path, "name"), "model %q has more than %d deployments", m.Name, maxDeployments)
		return
	}
	grp.Deployments = append(grp.Deployments, index)
	defaulted := m.ID == ""
	if defaulted {
		m.ID = fmt.Sprintf("%s#%d", m.Name, len(grp.Deployments))
	}
	line, dup := g.ids[m.ID]
	switch {
	case defaulted && len(m.ID) > maxName && (m.RPM > 0 || m.TPM > 0):
		// The id names the deployment's limit in the store, which bounds names.
		d.fail(present["name"], join(path, "id"), "the default id of a model with rpm or tpm is longer than %d bytes: set id", maxName)
	case !dup:
		g.ids[m.ID] = m.Line
	case defaulted:
		d.fail(present["name"], join(path, "id"), "deployment id %q (the default for entry %d of %q) is already used at line %d: set id explicitly",
			m.ID, len(grp.Deployments), m.Name, line)
	default:
		d.fail(present["id"], join(path, "id"), "deployment id %q is already used at line %d", m.ID, line)
	}
}
