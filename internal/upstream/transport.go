// Package upstream owns the connections to providers: one tuned transport per
// distinct endpoint and TLS setting, the per-phase timeouts, the retry policy
// (backoff, Retry-After) and the classification of failures.
package upstream

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/llmrouter/llmrouter/internal/config"
)

// Pool hands out one shared *http.Transport per (scheme+host, TLS settings,
// connect and first-byte timeouts), so every model behind one endpoint shares a
// keep-alive pool. Several gateways may share one Pool (a reload builds a new
// gateway on the running one's pool): endpoints both use keep their warm
// connections, and Release closes what only the old one used. It is safe for
// concurrent use.
type Pool struct {
	mu         sync.Mutex
	transports map[poolKey]*pooled
	keys       map[*http.Transport]poolKey // for Release
}

// pooled is a transport and the number of references taken on it.
type pooled struct {
	t    *http.Transport
	refs int
}

type poolKey struct {
	origin    string
	verify    bool
	caFile    string
	connect   time.Duration
	firstByte time.Duration
}

// NewPool returns an empty pool.
func NewPool() *Pool {
	return &Pool{transports: map[poolKey]*pooled{}, keys: map[*http.Transport]poolKey{}}
}

// Transport returns the transport for a model, creating it on first use. Each
// call takes a reference on it, which Release gives back.
func (p *Pool) Transport(m *config.Model) (*http.Transport, error) {
	u, err := url.Parse(m.Endpoint)
	if err != nil {
		return nil, fmt.Errorf("parsing endpoint of %s: %w", m.Name, err)
	}
	key := poolKey{u.Scheme + "://" + u.Host, m.TLS.Verify, m.TLS.CAFile, m.Timeouts.Connect, m.Timeouts.FirstByte}
	p.mu.Lock()
	defer p.mu.Unlock()
	if e, ok := p.transports[key]; ok {
		e.refs++
		return e.t, nil
	}
	t, err := newTransport(key)
	if err != nil {
		return nil, fmt.Errorf("transport for %s: %w", m.Name, err)
	}
	p.transports[key] = &pooled{t: t, refs: 1}
	p.keys[t] = key
	return t, nil
}

// Release gives back one reference taken by Transport. When the last one is
// gone, the pool forgets the transport and closes its idle connections: release
// only once no request is using it. A transport the pool does not hold is left
// alone.
func (p *Pool) Release(t *http.Transport) {
	p.mu.Lock()
	defer p.mu.Unlock()
	key, ok := p.keys[t]
	if !ok {
		return
	}
	if e := p.transports[key]; e.refs > 1 {
		e.refs--
		return
	}
	delete(p.transports, key)
	delete(p.keys, t)
	t.CloseIdleConnections()
}

// CloseIdle closes idle connections of every transport.
func (p *Pool) CloseIdle() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, e := range p.transports {
		e.t.CloseIdleConnections()
	}
}

// newTransport tunes a transport for a proxy: a large idle pool per host (the
// default of 2 churns connections under load), HTTP/2 when offered, no proxy from
// the environment (a gateway must not be re-routed by HTTP_PROXY by surprise), and
// no transparent decompression surprises: Go negotiates gzip itself only when the
// caller did not set Accept-Encoding.
func newTransport(k poolKey) (*http.Transport, error) {
	tlsConf, err := tlsConfig(k.verify, k.caFile)
	if err != nil {
		return nil, err
	}
	dialer := &net.Dialer{Timeout: k.connect, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                  nil,
		DialContext:            dialer.DialContext,
		TLSClientConfig:        tlsConf,
		TLSHandshakeTimeout:    k.connect,
		ResponseHeaderTimeout:  k.firstByte,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           0,
		MaxIdleConnsPerHost:    1024,
		IdleConnTimeout:        90 * time.Second,
		ExpectContinueTimeout:  0,
		MaxResponseHeaderBytes: 1 << 20,
		// Go's 4 KiB default buffers: 1,000 open streams must fit in tens of MB.
		WriteBufferSize: 4 << 10,
		ReadBufferSize:  4 << 10,
	}, nil
}

func tlsConfig(verify bool, caFile string) (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: !verify} //nolint:gosec // an explicit, logged opt-out
	if caFile == "" {
		return c, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("reading ca_file: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("ca_file %s holds no PEM certificate", caFile)
	}
	c.RootCAs = pool
	return c, nil
}
