package gateway

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/llmrouter/llmrouter/internal/config"
)

// llmrouter explain: the upstream request a client request causes, built as the
// first attempt would build it, never sent.

// Prepared is the upstream request a client request causes (llmrouter explain),
// and how the request is routed.
type Prepared struct {
	URL     string
	Header  http.Header
	Body    []byte
	Dropped []string
	Secrets []string // the credentials in Header, for masking when printed
	Route   Route    // the candidates; the request above is for Route.Deployments[0]
}

// Explain builds the upstream request for a client request to one of the
// endpoints, without sending it: the request its first attempt would send.
func (g *Gateway) Explain(r *http.Request) (*Prepared, error) {
	e := g.endpoint(r.URL.Path)
	if e == nil {
		return nil, fmt.Errorf("no endpoint %s", r.URL.Path)
	}
	x := &struct { // one allocation for both
		call
		rec record
	}{call: call{g: g, r: r, ep: e}}
	c := &x.call
	c.rec = &x.rec
	if aerr := c.read(); aerr != nil {
		return nil, aerr
	}
	if aerr := c.accept(); aerr != nil {
		return nil, aerr
	}
	route := c.route()
	o, aerr := c.bind(c.plan.grp.targets[route.Deployments[0].index])
	if aerr != nil {
		return nil, aerr
	}
	return &Prepared{URL: o.url, Header: o.header, Body: o.body, Dropped: o.dropped, Secrets: c.rec.secrets, Route: route}, nil
}

// endpoint returns the endpoint at path, or nil.
func (g *Gateway) endpoint(path string) *endpoint {
	for i := range g.endpoints {
		if g.endpoints[i].path == path {
			return &g.endpoints[i]
		}
	}
	return nil
}

// IsEndpoint reports whether path is one of the endpoints Explain takes.
func IsEndpoint(path string) bool {
	for _, e := range endpoints {
		if e.path == path {
			return true
		}
	}
	return false
}

// Route is how a request for a model is routed: its deployments in the order
// they are considered and why, its fallback chains, and its budget.
type Route struct {
	Model    string // the model asked for
	Entry    string // the models entry that serves it: the name, or a glob
	Strategy string // how deployments of one priority are balanced
	// Deployments in the order they are considered: by priority (lower first),
	// then by weight (higher first); see each one's Share and Standing.
	Deployments []RouteDeployment
	// The fallback models by cause, in order, as resolved from the routing
	// section (a fallback's own fallbacks follow it).
	Fallbacks, ContextWindow, ContentPolicy []string
	Attempts                                int           // attempts the model gets (retry.attempts, at least one per deployment)
	Budget                                  int           // attempts for the whole request, fallbacks included
	Total                                   time.Duration // the one deadline of the whole request
}

// RouteDeployment is one deployment of a Route.
type RouteDeployment struct {
	ID, Provider, Endpoint, UpstreamModel string
	Priority, Weight                      int
	// Share is the deployment's part of its priority's traffic under the
	// weighted strategy (its weight over the level's); the other strategies
	// decide per request (in flight, latency).
	Share    float64
	Standing string // usable, cooling, probeable or probing, in this process
	index    int
}

// route describes how the call's model is routed.
func (c *call) route() Route {
	grp := c.plan.grp
	first := grp.first
	r := Route{Model: c.model, Entry: grp.cfg.Name, Strategy: grp.bal.Strategy().String(),
		Attempts: grp.share(), Total: first.Timeouts.Total}
	levelWeight := map[int]int{}
	for _, st := range grp.bal.Snapshot(nil) {
		m := grp.targets[st.Index].model
		d := grp.bal.Deployment(st.Index)
		levelWeight[d.Priority] += d.Weight
		r.Deployments = append(r.Deployments, RouteDeployment{ID: m.ID, Provider: string(m.Provider), Endpoint: m.Endpoint,
			UpstreamModel: cmp.Or(m.UpstreamModel, c.model), Priority: d.Priority, Weight: d.Weight,
			Standing: st.Standing.String(), index: st.Index})
	}
	for i := range r.Deployments {
		d := &r.Deployments[i]
		d.Share = float64(d.Weight) / float64(levelWeight[d.Priority])
	}
	slices.SortStableFunc(r.Deployments, func(a, b RouteDeployment) int {
		return cmp.Or(cmp.Compare(a.Priority, b.Priority), cmp.Compare(b.Weight, a.Weight))
	})
	ch := c.g.cfg.Routes.Fallbacks(c.model)
	r.Fallbacks, r.ContextWindow, r.ContentPolicy = names(ch.Fallbacks), names(ch.ContextWindow), names(ch.ContentPolicy)
	r.Budget = min(r.Attempts+c.chainModels(), maxAttemptBudget)
	return r
}

func names(fs []config.Fallback) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Model)
	}
	return out
}
