package gateway

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"

	"github.com/llmrouter/llmrouter/internal/wire"
)

// The upstream request of an attempt, made without http.NewRequestWithContext:
// that parses the URL again for every request and allocates seven times. The
// request made here is the one it makes (method, URL, Host, protocol version,
// body, its length and GetBody), from a URL parsed once per target and
// operation while it stays the same.

// parsedURL is an upstream URL as url.Parse read it, and the Host
// NewRequestWithContext gives a request to it. Never written into once made:
// requests in flight share it (a RoundTripper does not modify its request).
type parsedURL struct {
	raw  string
	u    *url.URL
	host string
}

// urlCache holds a target's last parsed URL of each operation. A URL with a
// query string or a stored response's id is not kept (see outbound.keepURL):
// what is kept comes only from the configuration and the operation.
type urlCache struct {
	last [lastOperation + 1]atomic.Pointer[parsedURL]
}

// lastOperation is the highest wire.Operation: urlCache has a slot for each.
const lastOperation = wire.Embed

// parse returns raw parsed, as url.Parse parses it; kept for the next request
// of op when keep is set.
func (uc *urlCache) parse(op wire.Operation, raw string, keep bool) (*parsedURL, error) {
	slot := &uc.last[0] // an operation out of range shares slot 0
	if op > 0 && op <= lastOperation {
		slot = &uc.last[op]
	}
	if p := slot.Load(); p != nil && p.raw == raw {
		return p, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	p := &parsedURL{raw: raw, u: u, host: removeEmptyPort(u.Host)}
	if keep {
		slot.Store(p)
	}
	return p, nil
}

// removeEmptyPort strips an empty port ("host:") as net/http does for a
// request's Host.
func removeEmptyPort(host string) string {
	if strings.LastIndex(host, ":") > strings.LastIndex(host, "]") {
		return strings.TrimSuffix(host, ":")
	}
	return host
}

// newUpstreamRequest makes the request of an attempt to send out with ctx:
// the request http.NewRequestWithContext(ctx, method, out.url, bytes.NewReader(out.body))
// makes, with out's headers. method is the client request's, never empty (an
// empty one would mean GET to the transport, as NewRequest makes it).
func newUpstreamRequest(ctx context.Context, method string, p *parsedURL, out *outbound) *http.Request {
	r := http.Request{Method: method, URL: p.u, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: out.header, Host: p.host, ContentLength: int64(len(out.body))}
	if len(out.body) == 0 {
		r.Body = http.NoBody
		r.GetBody = func() (io.ReadCloser, error) { return http.NoBody, nil }
	} else {
		// A *bytes.Reader behind io.NopCloser is a body net/http knows to be in
		// memory: it writes the request's head and such a body in one write
		// (any other reader type makes it flush the head first, a second write
		// and a second segment per request).
		b := out.body
		r.Body = io.NopCloser(bytes.NewReader(b))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	}
	return r.WithContext(ctx) // the one allocation of the request: r stays on the stack
}
