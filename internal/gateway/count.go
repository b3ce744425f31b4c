package gateway

import (
	"net/http"
	"slices"

	"github.com/llmrouter/llmrouter/internal/wire"
)

// Operations an upstream serves only with one of its APIs, and answers the router
// estimates where no upstream can give one (issue 9 item 12: count_tokens on an
// openai endpoint needs its Responses API; Ollama counts nothing).

// apiNeeder is an upstream protocol that serves some operations only at
// endpoints serving another of its provider's APIs (a model's apis).
type apiNeeder interface {
	// RequiredAPI names the API an endpoint must serve for op; "" for none.
	RequiredAPI(op wire.Operation) string
}

// estimator is a client protocol that can estimate the answer of an operation
// no upstream serves (a token count, from the request's texts).
type estimator interface {
	// Estimate returns the answer for op, or ok false when it has none.
	Estimate(op wire.Operation, body []byte) (answer []byte, ok bool)
}

// serves reports whether target t's upstream serves the call's operation: its
// protocol has a path for it, and its endpoint serves the API it needs.
func (c *call) serves(t *target) bool {
	up := t.upstreams[c.ep.proto].dialect
	if _, ok := up.Path(c.ep.op, "", c.stream); !ok {
		return false
	}
	n, ok := up.(apiNeeder)
	if !ok {
		return true
	}
	api := n.RequiredAPI(c.ep.op)
	return api == "" || slices.Contains(t.model.APIs, api)
}

// estimate answers, when no deployment of the model serves the operation, with
// the client protocol's estimate, marked X-Llmrouter-Estimate: true; it reports
// whether it answered.
func (c *call) estimate() bool {
	e, ok := c.ep.client.(estimator)
	if !ok || slices.ContainsFunc(c.group.Deployments, func(d int) bool { return c.serves(&c.g.targets[d]) }) {
		return false
	}
	answer, ok := e.Estimate(c.ep.op, c.body)
	if !ok {
		return false
	}
	c.rec.provider = string(c.g.targets[c.group.Deployments[0]].model.Provider)
	c.rec.status = http.StatusOK
	h := c.w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Llmrouter-Estimate", "true")
	c.w.WriteHeader(http.StatusOK)
	_, _ = c.w.Write(answer)
	return true
}
