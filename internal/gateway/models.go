package gateway

import (
	"encoding/json"
	"net/http"
	"slices"
)

// lister is what answering GET /v1/models needs of a client's protocol, which
// only the request's headers tell.
type lister interface {
	// Claims reports whether a request's headers say it is in this protocol.
	Claims(h http.Header) bool
	// Models renders the list of ids, each owned by the provider at the same
	// index of owners.
	Models(ids, owners []string) any
}

// models lists the configured exact model names that the request's key may use
// (globs are not listed), in the
// list format of the protocol the request's headers claim (Anthropic's with
// anthropic-version), else OpenAI's.
func (g *Gateway) models(w http.ResponseWriter, r *http.Request) {
	ids := slices.DeleteFunc(g.cfg.Routes.Names(), func(id string) bool {
		return !keyAllows(r.Context(), id) // keys.go: only what the request's key may use
	})
	owners := make([]string, len(ids))
	for i, id := range ids {
		if grp, ok := g.cfg.Routes.Lookup(id); ok {
			owners[i] = string(g.targets[grp.Deployments[0]].model.Provider)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(g.clientOf(r.Header, "").Models(ids, owners))
}
