package gateway

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"

	"github.com/llmrouter/llmrouter/internal/config"
)

// lister is what answering GET /v1/models and GET /v1/models/{id} needs of a
// client's protocol, which only the request's headers tell.
type lister interface {
	// Claims reports whether a request's headers say it is in this protocol.
	Claims(h http.Header) bool
	// Models renders the list of ids, each owned by the provider at the same
	// index of owners.
	Models(ids, owners []string) any
	// Model renders one model, owned by the provider owner.
	Model(id, owner string) any
}

// models lists the configured exact model names, then the models the upstreams
// behind each glob serve that the glob routes to it (catalog.go), each only when
// the request's key may use it, in the list format of the protocol the
// request's headers claim (Anthropic's with anthropic-version), else OpenAI's.
func (g *Gateway) models(w http.ResponseWriter, r *http.Request) {
	notAllowed := func(id string) bool { return !keyAllows(w, id) } // keys.go
	ids := slices.DeleteFunc(g.cfg.Routes.Names(), notAllowed)
	owners := make([]string, len(ids))
	for i, id := range ids {
		if grp, ok := g.cfg.Routes.Lookup(id); ok {
			owners[i] = g.owner(grp)
		}
	}
	lists := g.lists(r, g.globTargets())
	for _, gi := range g.cfg.Routes.Globs {
		grp := &g.cfg.Routes.Groups[gi]
		served := slices.DeleteFunc(g.globServed(grp, lists), notAllowed)
		ids = append(ids, served...)
		for range served {
			owners = append(owners, g.owner(grp))
		}
	}
	writeJSON(w, g.clientOf(r.Header, "").Models(ids, owners))
}

// model answers GET /v1/models/{id}: an exact name, or a name a glob routes
// whose upstreams list it, as one model; else a 404 in the client's envelope. A
// glob none of whose upstreams' lists can be read (down, or a protocol without
// a list, or a deployment that serves every name as its upstream_model) serves
// the name as far as the router knows: it routes it.
func (g *Gateway) model(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	client := g.clientOf(r.Header, "")
	grp, ok := g.cfg.Routes.Lookup(id)
	if !ok {
		writeError(w, client, unknownModel(id, nil))
		return
	}
	if !keyAllows(w, id) { // keys.go: the same 404 as an unknown model
		writeError(w, client, unknownModel(id, errNotAllowed))
		return
	}
	if grp.Glob && !g.globServes(r, grp, id) {
		writeError(w, client, &apiError{Status: http.StatusNotFound, Param: "model",
			Message: fmt.Sprintf("model %q is not served by the upstreams of %q", id, grp.Name)})
		return
	}
	writeJSON(w, client.Model(id, g.owner(grp)))
}

// owner is the provider that serves a group, as a model list shows it: its
// first deployment's.
func (g *Gateway) owner(grp *config.Group) string {
	return string(g.targets[grp.Deployments[0]].model.Provider)
}

// listed is the list of one target's upstream: ok is false when it could not
// be read.
type listed struct {
	names []string
	ok    bool
}

// globTargets are the deployments of the glob groups whose upstreams can list
// their models: not those that serve every name as one upstream_model.
func (g *Gateway) globTargets() []*target {
	var ts []*target
	for _, gi := range g.cfg.Routes.Globs {
		for _, d := range g.cfg.Routes.Groups[gi].Deployments {
			if t := &g.targets[d]; t.catalogue != nil && t.model.UpstreamModel == "" && !slices.Contains(ts, t) {
				ts = append(ts, t)
			}
		}
	}
	return ts
}

// lists reads the model lists of targets concurrently (each cached, bounded in
// time and size by the catalog).
func (g *Gateway) lists(r *http.Request, targets []*target) map[*target]listed {
	out := make(map[*target]listed, len(targets))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, t := range targets {
		wg.Go(func() {
			names, ok := g.list(r.Context(), t, r.Header)
			mu.Lock()
			out[t] = listed{names, ok}
			mu.Unlock()
		})
	}
	wg.Wait()
	return out
}

// globServed is what the upstreams of glob group grp list that grp serves (the
// first glob matching a name routes it; an exact name is listed as such),
// sorted, each once.
func (g *Gateway) globServed(grp *config.Group, lists map[*target]listed) []string {
	var out []string
	for _, d := range grp.Deployments {
		for _, name := range lists[&g.targets[d]].names {
			if got, ok := g.cfg.Routes.Lookup(name); ok && got == grp {
				out = append(out, name)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// globServes reports whether glob group grp serves id: whether an upstream of
// its lists it, or, when no list can be read, whether it routes it (it does).
func (g *Gateway) globServes(r *http.Request, grp *config.Group, id string) bool {
	var ts []*target
	for _, d := range grp.Deployments {
		t := &g.targets[d]
		if t.catalogue == nil || t.model.UpstreamModel != "" {
			return true // serves every name it routes
		}
		ts = append(ts, t)
	}
	read := false
	for t, l := range g.lists(r, ts) {
		read = read || l.ok
		if slices.ContainsFunc(l.names, func(name string) bool { return t.catalogue.SameModel(name, id) }) {
			return true
		}
	}
	return !read
}

// writeJSON answers 200 with v as JSON.
func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
