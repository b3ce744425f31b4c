package gateway

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/llmrouter/llmrouter/internal/config"
	"github.com/llmrouter/llmrouter/internal/redact"
)

// call is one client request on its way through the gateway: what was read from
// the client, once, and what every attempt shares. Its methods read and check the
// request (this file), run the attempts (retry.go), build the upstream request of
// each target on first use (bind.go), and deliver the answer or relay its stream
// (deliver.go, stream.go).
type call struct {
	g   *Gateway
	w   http.ResponseWriter
	r   *http.Request
	rec *record // the access log's record; also holds the request's credentials
	ep  *endpoint

	body   []byte        // the client's body as it sent it
	model  string        // the model it asked for
	stream bool          // whether it asked for a stream
	group  *config.Group // the deployments that serve model

	// first and more are the upstream requests built so far, one per target:
	// every attempt to a target sends its request's bytes.
	first outbound
	more  []*outbound
	// allSecrets is g.secrets and the request's credentials (rec.secrets), built
	// once by secrets; reset when a target adds credentials.
	allSecrets []string
}

// handle returns the handler of one endpoint.
func (g *Gateway) handle(e *endpoint) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c := &call{g: g, w: w, r: r, rec: recordOf(r.Context()), ep: e}
		if aerr := c.read(); aerr != nil { // the body is not all read: the deadline stays, the connection closes
			c.rec.errMsg = aerr.Error()
			refuse(w, e.client, aerr)
			return
		}
		clearBodyDeadline(w)
		if aerr := c.accept(); aerr != nil {
			c.reject(aerr)
			return
		}
		c.run()
	}
}

// read reads the client's body, once its credentials are known to the record:
// they are masked in everything logged about this request, from the first line
// on (its body may repeat a key).
func (c *call) read() *apiError {
	c.rec.secrets = redact.CredentialValues(c.r.Header, c.r.URL.RawQuery)
	var aerr *apiError
	c.body, aerr = c.g.readBody(c.r)
	return aerr
}

// accept validates the body and routes the request by its model.
func (c *call) accept() *apiError {
	c.g.logRequest(c.rec, c.r, c.body)
	var aerr *apiError
	c.model, c.stream, aerr = validate(c.body, c.ep.client, c.ep.op)
	if aerr != nil {
		return aerr
	}
	c.rec.model = c.model
	var ok bool
	if c.group, ok = c.g.cfg.Routes.Lookup(c.model); !ok {
		return &apiError{Status: http.StatusNotFound, Param: "model",
			Message: fmt.Sprintf("model %q is not configured on this router", c.model)}
	}
	return nil
}

// reject answers a request the router refuses before any attempt.
func (c *call) reject(aerr *apiError) {
	c.rec.errMsg = aerr.Error()
	writeError(c.w, c.ep.client, aerr)
}

// secrets lists every key that must never reach the client: the configured ones
// and every credential this request carries or sent upstream.
func (c *call) secrets() []string {
	if len(c.rec.secrets) == 0 {
		return c.g.secrets
	}
	if c.allSecrets == nil { // once per request: every relayed response asks
		c.allSecrets = append(slices.Clip(c.g.secrets), c.rec.secrets...)
	}
	return c.allSecrets
}

// Prepared is the upstream request a client request causes (llmrouter explain).
type Prepared struct {
	URL     string
	Header  http.Header
	Body    []byte
	Dropped []string
	Secrets []string // the credentials in Header, for masking when printed
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
	o, aerr := c.bind(c.pick(1))
	if aerr != nil {
		return nil, aerr
	}
	return &Prepared{URL: o.url, Header: o.header, Body: o.body, Dropped: c.rec.dropped, Secrets: c.rec.secrets}, nil
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
