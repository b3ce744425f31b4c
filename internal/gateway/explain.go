package gateway

import (
	"fmt"
	"net/http"
	"strings"
)

// llmrouter explain: the upstream request a client request causes, built as the
// first attempt would build it, never sent.

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

// IsEndpoint reports whether path is one of the endpoints Explain takes: those
// a POST with a body reaches at a fixed path.
func IsEndpoint(path string) bool {
	for _, e := range endpoints {
		if e.path == path && e.method == "" && !strings.Contains(e.path, "{") {
			return true
		}
	}
	return false
}
