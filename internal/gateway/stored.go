package gateway

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/llmrouter/llmrouter/internal/config"
	"github.com/llmrouter/llmrouter/internal/wire"
)

// Calls that only an upstream of the client's own protocol answers (endpoints
// with own set): the calls on a response an upstream stored (retrieve, delete,
// cancel, list its input items) and the Responses API's token count. A stored
// response lives at the upstream that made it, and a translated route stores
// nothing (it is stateless by design); a token count is the API's own.
//
// Such a call is routed by the model it names: the body's model (the token
// count), else the X-Llmrouter-Model header. Without one, it goes to the one
// upstream that speaks the client's protocol itself, when the configuration has
// exactly one (one endpoint and key, whatever the number of models routed
// there); else it is a 400 saying what to send.

// ModelHeader names the model of a request whose body has none (a call on a
// stored response). It is never forwarded.
const ModelHeader = "X-Llmrouter-Model"

// unnamedRoute is where a request of a protocol goes when it names no model:
// the model (the name of a models entry), or err when no single upstream of
// the protocol serves it.
type unnamedRoute struct {
	model string
	err   string
}

// unnamedRoutes finds, for each protocol some own endpoint speaks, the one
// upstream of that protocol (an endpoint and a key) among the deployments.
func (g *Gateway) unnamedRoutes() map[wire.Protocol]unnamedRoute {
	routes := map[wire.Protocol]unnamedRoute{}
	for _, e := range g.endpoints {
		if _, done := routes[e.proto]; !done && e.own {
			routes[e.proto] = g.unnamedRoute(e.proto)
		}
	}
	return routes
}

func (g *Gateway) unnamedRoute(proto wire.Protocol) unnamedRoute {
	type upstreamKey struct{ endpoint, key string }
	seen := map[upstreamKey]bool{}
	var first *config.Group
	var names []string
	routes := &g.cfg.Routes
	for i := range routes.Groups {
		grp := &routes.Groups[i]
		for _, d := range grp.Deployments {
			t := &g.targets[d]
			if t.upstreams[proto].proto != proto {
				continue
			}
			if first == nil {
				first = grp
			}
			if len(names) == 0 || names[len(names)-1] != grp.Name {
				names = append(names, grp.Name)
			}
			seen[upstreamKey{strings.TrimRight(t.model.Endpoint, "/"), t.model.APIKey.Reveal()}] = true
		}
	}
	switch {
	case len(seen) == 1:
		return unnamedRoute{model: first.Name}
	case len(seen) == 0:
		return unnamedRoute{err: fmt.Sprintf("no model on this router is served by an upstream that speaks %s itself "+
			"(an openai model whose apis include it): translated routes are stateless and store no responses", proto)}
	}
	return unnamedRoute{err: fmt.Sprintf("several upstreams speak %s (models %s): name the model whose upstream "+
		"holds the response in the %s header", proto, strings.Join(names, ", "), ModelHeader)}
}

// onStored reports whether the endpoint acts on a stored response (no body to
// validate, translate or transform; the id in its path).
func (e *endpoint) onStored() bool { return e.op == wire.Stored }

// stored reads a call on a stored response: its id must be a plain token (it
// goes into the upstream's path), its model comes from the header, and it
// streams when it asks to (a retrieval with stream=true in its query, or in a
// JSON body, which is where the official SDKs put it, GET or not).
func (c *call) stored() *apiError {
	if id := c.r.PathValue("id"); !plainToken(id) {
		return &apiError{Status: http.StatusNotFound, Message: fmt.Sprintf("no response %q: an id is letters, digits, - and _", id)}
	}
	c.model = c.r.Header.Get(ModelHeader)
	c.stream = c.r.URL.Query().Get("stream") == "true" || gjson.GetBytes(c.body, "stream").Type == gjson.True
	return nil
}

// plainToken reports whether s is a non-empty run of letters, digits, - and _
// (every id the API makes: resp_…).
func plainToken(s string) bool {
	for _, b := range []byte(s) {
		if !('a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || b == '-' || b == '_') {
			return false
		}
	}
	return s != ""
}

// unnamed routes a request that names no model in its body: by the model
// header, else to the one upstream of the client's protocol.
func (c *call) unnamed() *apiError {
	if name := c.r.Header.Get(ModelHeader); name != "" {
		c.model = name
		return c.routeModel()
	}
	u := c.g.unnamed[c.ep.proto]
	if u.model == "" {
		return &apiError{Status: http.StatusBadRequest, Param: "model", Message: u.err}
	}
	c.model = u.model
	return c.routeModel()
}

// notOwn is the error of an own endpoint's call routed to a translated upstream.
func (c *call) notOwn(m *config.Model, up wire.Protocol) *apiError {
	what := fmt.Sprintf("%s %s", c.r.Method, c.ep.path)
	return &apiError{Status: http.StatusBadRequest, Param: "model", Message: fmt.Sprintf(
		"%s is answered only by %s upstreams that speak %s itself; model %q is translated to %s on a %s upstream: "+
			"such a route is stateless and stores no responses", what, c.ep.servedBy, c.ep.proto, c.model, up, m.Provider)}
}

// tail is what follows the endpoint's fixed part in the request's path (/{id}
// and any suffix), appended to the upstream path.
func (c *call) tail() string {
	if c.ep.base == "" {
		return ""
	}
	return strings.TrimPrefix(c.r.URL.EscapedPath(), c.ep.base)
}
