package gateway

import (
	"net/http"
	"slices"

	"github.com/llmrouter/llmrouter/internal/wire"
	"github.com/tidwall/gjson"
)

// What an upstream cannot do as the client asks: a model that refuses part of a
// translated request (relaxed, below), an operation an endpoint serves only
// with another of its APIs, and answers the router estimates where no upstream
// can give one (the end of this file).

// Relaxing what a model cannot do (issue 9 item 1). A client that always asks
// for thinking (Claude Code) gets it translated into a request some models
// refuse (Ollama: 400 `"tiny" does not support thinking`). The upstream
// protocol's wire.Relaxer learns which models refuse what from the refusals
// themselves; a translated request is relaxed before it is sent when the
// memory knows its model, and sent again at once, relaxed, when the server
// refuses it. Only translated requests are relaxed: a client speaking the
// upstream's own protocol gets the upstream's answer as it is.

// relaxing is an upstream protocol whose servers refuse, in a way a relaxed
// request avoids, some of what translated requests ask for.
type relaxing interface {
	// NewRelaxer returns the memory one router keeps.
	NewRelaxer() wire.Relaxer
}

// maxRelaxed bounds the relaxed resends of one request. A relaxer relaxes
// strictly (Ollama's think: a level, then true, then none), so this is only a
// guard against a relaxer that does not.
const maxRelaxed = 2

// relaxers makes the memory of every upstream protocol of the table that has one.
func (t table) relaxers() map[wire.Protocol]wire.Relaxer {
	out := map[wire.Protocol]wire.Relaxer{}
	for p, d := range t.dialects {
		if r, ok := d.upstream.(relaxing); ok {
			out[p] = r.NewRelaxer()
		}
	}
	return out
}

// relaxer returns the memory for o's requests: nil unless o is translated and
// its protocol has one. A strict_translation model is never relaxed: its client
// gets the upstream's refusal rather than an answer without what it asked for.
func (c *call) relaxer(o *outbound) wire.Relaxer {
	if o.tr == nil || o.t.model.StrictTranslation {
		return nil
	}
	return c.g.relax[o.proto]
}

// fit relaxes o's body as far as the memory knows its model needs.
func (c *call) fit(o *outbound) {
	r := c.relaxer(o)
	if r == nil {
		return
	}
	if body, lost := r.Fit(o.t.model.Endpoint, o.body); lost != wire.RelaxedNothing {
		c.relaxed(o, body, lost)
	}
}

// relax reads a failed attempt to out: when the upstream refused something its
// relaxer can relax, out's body becomes the relaxed one and relax reports true:
// the caller sends it at once, to the same target, as part of the same attempt.
func (c *call) relax(out *outbound, o outcome) bool {
	r := c.relaxer(out)
	if r == nil || c.relaxations >= maxRelaxed || o.err != nil || o.cut != "" {
		return false
	}
	body, lost := r.Refused(out.t.model.Endpoint, out.body, o.status, o.body)
	if lost == wire.RelaxedNothing {
		return false
	}
	c.relaxations++
	c.relaxed(out, body, lost)
	return true
}

// thinkAsker is a client protocol whose requests may ask for thinking.
type thinkAsker interface {
	// ThinkFields names the request's members that ask for thinking and set
	// its level (the same member for some protocols); "" for none.
	ThinkFields() (thinking, level string)
}

// relaxed sets o's body and lists, as dropped, the client's member whose
// request the relaxation gave up: the one asking for reasoning, or its level.
func (c *call) relaxed(o *outbound, body []byte, lost wire.Relaxed) {
	thinking, level := c.ep.client.ThinkFields()
	field := level
	if lost == wire.RelaxedReasoning {
		field = thinking
	}
	o.body = body
	if field == "" || !gjson.GetBytes(c.body, field).Exists() || slices.Contains(o.dropped, field) {
		return
	}
	o.dropped = append(slices.Clip(o.dropped), field)
}

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

// answerLocally answers, when no deployment of the model serves the operation,
// with the client protocol's estimate, marked X-Llmrouter-Estimate: true; it
// reports whether it answered.
func (c *call) answerLocally() bool {
	e, ok := c.ep.client.(estimator)
	if !ok || c.group == nil || slices.ContainsFunc(c.group.Deployments, func(d int) bool { return c.serves(&c.g.targets[d]) }) {
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
