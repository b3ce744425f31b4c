package gateway

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strings"
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
	// Model is the model asked for; Deployment the one the request above is
	// for, the first candidate of Route(Model).
	Model, Deployment string
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
	o, aerr := c.bind(c.plan.grp.preferred())
	if aerr != nil {
		return nil, aerr
	}
	return &Prepared{URL: o.url, Header: o.header, Body: o.body, Dropped: o.dropped, Secrets: c.rec.secrets,
		Model: c.model, Deployment: o.t.model.ID}, nil
}

// Route describes how a request for model is routed (llmrouter explain); ok is
// false when no model of that name is configured.
func (g *Gateway) Route(model string) (Route, bool) {
	grp, ok := g.lookup(model)
	if !ok {
		return Route{}, false
	}
	c := &call{g: g, model: model}
	c.startPlan(grp)
	return c.route(), true
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

// IsEndpoint reports whether path is one of the endpoints Explain takes: those
// a POST with a body reaches at a fixed path.
func IsEndpoint(path string) bool {
	for _, e := range defaultTable().endpoints {
		if e.path == path && e.method == "" && !strings.Contains(e.path, "{") {
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
			Standing: st.Standing.String()})
	}
	for i := range r.Deployments {
		d := &r.Deployments[i]
		d.Share = float64(d.Weight) / float64(levelWeight[d.Priority])
	}
	slices.SortStableFunc(r.Deployments, func(a, b RouteDeployment) int { return rank(a.Priority, a.Weight, b.Priority, b.Weight) })
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

// rank orders deployments as Route lists them: lower priority first, then
// higher weight.
func rank(pa, wa, pb, wb int) int { return cmp.Or(cmp.Compare(pa, pb), cmp.Compare(wb, wa)) }

// preferred is the deployment a request goes to when all are healthy and the
// draw favours the likeliest: the first in Route's order.
func (grp *group) preferred() *target {
	best := grp.bal.Deployment(0)
	for i := 1; i < len(grp.targets); i++ {
		if d := grp.bal.Deployment(i); rank(d.Priority, d.Weight, best.Priority, best.Weight) < 0 {
			best = d
		}
	}
	return grp.targets[best.Index]
}
