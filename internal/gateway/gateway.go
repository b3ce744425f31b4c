// Package gateway serves the client-facing API: it authenticates, routes each request
// by model, applies the model's policy, calls the upstream with retries, and relays or
// translates the answer, streaming event by event.
//
// A request is one call (call.go): read and validated once, then attempted
// (retry.go) against a target, for which its upstream request is built on first
// use (call.go); an answer is delivered whole (deliver.go) or relayed as a stream
// (stream.go), held back until its commit point (commit.go). What the gateway
// knows of each protocol comes from the table in table.go; ARCHITECTURE.md
// follows one request through these files.
package gateway

import (
	"cmp"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/http"
	"path"
	"sync/atomic"
	"time"

	"github.com/llmrouter/llmrouter/internal/config"
	"github.com/llmrouter/llmrouter/internal/limit"
	"github.com/llmrouter/llmrouter/internal/openai"
	"github.com/llmrouter/llmrouter/internal/policy"
	"github.com/llmrouter/llmrouter/internal/redact"
	"github.com/llmrouter/llmrouter/internal/upstream"
	"github.com/llmrouter/llmrouter/internal/wire"
)

// Gateway is the compiled configuration plus the shared upstream connection pool.
// It is an http.Handler; build it once with New. A reload builds a new one on
// the same pool (WithPool) and Closes the old one once its requests are over.
type Gateway struct {
	cfg       *config.Config
	endpoints []endpoint
	targets   []target // one per entry of cfg.Models, at the same index
	groups    []group  // one per group of cfg.Routes, at the same index (route.go)
	groupOf   map[*config.Group]*group
	checks    checks // the active health checks, once started
	pool      *upstream.Pool
	taken     []*http.Transport // the references taken on pool, given back by Close
	log       *slog.Logger
	secrets   []string
	keys      []routerKey // server.api_keys, compiled (keys.go)
	limits    limits      // rate limits and budgets (limits.go)
	draining  atomic.Bool
	flight    flight // requests in flight, for Stop
	// unnamed is where a request that names no model goes, by client protocol
	// (stored.go).
	unnamed map[wire.Protocol]unnamedRoute
	mux     *http.ServeMux
	unclean http.Handler // answers a path ServeMux would redirect
	obs     observer     // metrics and traces (observe.go)
	// relax holds, per upstream protocol that has one, the memory of what its
	// servers refuse of translated requests (capability.go).
	relax map[wire.Protocol]wire.Relaxer
	// catalog caches the model lists of the upstreams behind globs (catalog.go).
	catalog catalog
}

// target is one deployment, an entry of the models list, compiled for serving.
type target struct {
	model     *config.Model
	policy    *policy.Policy
	transport http.RoundTripper
	// upstreams maps each client protocol to the protocol this target is called
	// with and its dialect (the providers table, resolved once).
	upstreams map[wire.Protocol]upstreamOf
	scopes    []*limit.Scope // the deployment's own rpm/tpm (limits.go); nil: none
	obs       targetObs      // its metrics handles and trace settings (observe.go)
	// limitField is the Chat Completions member the endpoint reads the output
	// limit from: max_tokens_field, else chosen by endpoint (openai.LimitFieldFor).
	limitField openai.LimitField
	// catalogue lists the models the upstream serves (catalog.go): the first of
	// its upstream dialects, in endpoint order, that can; nil when none can.
	catalogue catalogue
	urls      *urlCache // its upstream URLs, parsed (upstreamreq.go)
}

// Option configures New.
type Option func(*options)

type options struct {
	transport http.RoundTripper
	table     table
	obs       observeOptions // WithMetrics, WithTracer (observe.go)
	pool      *upstream.Pool
	previous  *Gateway
	lim       limitOptions // limits.go
	rand      rand.Source
}

// WithPool builds the gateway's upstream transports from pool instead of a pool
// of its own. A reload passes the running gateway's pool, so that upstream
// connections to endpoints both configs use stay open and warm.
func WithPool(pool *upstream.Pool) Option {
	return func(o *options) { o.pool = pool }
}

// WithPrevious names the gateway this one replaces (a reload), so that what it
// learnt and counted carries over: an in-process limit store is taken over, so
// windows and budgets survive the reload, and every deployment whose id,
// endpoint, provider and upstream model are unchanged keeps its ejection,
// failure count, in-flight count and latency average (balance.Group.Adopt), so
// a reload neither readmits a failing upstream nor forgets a slow one; what
// models refused of translated requests stays known (capability.go). New only
// reads prev; it keeps no reference to it: Close prev once its requests are
// over. nil is no previous gateway.
func WithPrevious(prev *Gateway) Option {
	return func(o *options) { o.previous = prev }
}

// WithTransport sends every upstream request through rt instead of the pooled,
// per-model transports (which carry each model's TLS and connect settings, none
// of which then apply). For tests and benchmarks: rt sees the upstream requests,
// credentials included.
func WithTransport(rt http.RoundTripper) Option {
	return func(o *options) { o.transport = rt }
}

// withTable replaces the protocol table (tests of the table's checks).
func withTable(t table) Option {
	return func(o *options) { o.table = t }
}

// New compiles cfg. log receives the access log; the configured keys are scrubbed
// from anything relayed to clients. A protocol table with a row missing for a
// protocol in use is an error (see table.compile).
func New(cfg *config.Config, log *slog.Logger, opts ...Option) (*Gateway, error) {
	o := options{table: defaultTable()}
	for _, opt := range opts {
		opt(&o)
	}
	eps, err := o.table.compile()
	if err != nil {
		return nil, err
	}
	if o.pool == nil {
		o.pool = upstream.NewPool()
	}
	g := &Gateway{cfg: cfg, endpoints: eps, pool: o.pool, log: log, relax: o.table.relaxers(),
		catalog: catalog{now: time.Now}}
	if o.previous != nil { // what the models refused is still refused (capability.go)
		maps.Copy(g.relax, o.previous.relax)
	}
	if g.obs, err = newObserver(cfg, o.obs); err != nil {
		return nil, err
	}
	g.secrets = Secrets(cfg)
	g.keys = compileKeys(cfg)
	for i := range cfg.Models {
		t, err := g.compile(&cfg.Models[i], o)
		if err != nil {
			g.Close() // what it took from a shared pool goes back
			return nil, err
		}
		g.targets = append(g.targets, t)
	}
	g.unnamed = g.unnamedRoutes()
	if err := g.compileGroups(o); err != nil { // route.go
		g.Close()
		return nil, err
	}
	o.lim.previous = o.previous
	if err := g.openLimits(o.lim); err != nil { // limits.go
		g.Close()
		return nil, err
	}
	g.mux = g.routesMux()
	return g, nil
}

// Close stops g's active health checks, releases its limit store and gives back
// the upstream transports g took from its pool: those no other gateway on the
// pool uses have their idle connections closed. Call it once no request is in
// flight on g (a replaced gateway, after its last request ended); g must not
// serve afterwards. Close is idempotent.
func (g *Gateway) Close() {
	for _, t := range g.taken {
		g.pool.Release(t)
	}
	g.taken = nil
	g.limits.close()
	g.stopChecks() // route.go
}

func (g *Gateway) compile(m *config.Model, o options) (target, error) {
	p, err := policy.Compile(m.Headers, m.Transforms)
	if err != nil {
		return target{}, fmt.Errorf("model %s: %w", m.Name, err)
	}
	t := target{model: m, policy: p, upstreams: map[wire.Protocol]upstreamOf{}, urls: new(urlCache),
		limitField: cmp.Or(openai.LimitField(m.MaxTokensField), openai.LimitFieldFor(m.Endpoint))}
	for _, e := range g.endpoints {
		if t.upstreams[e.proto], err = o.table.upstream(m.Provider, e.proto, m); err != nil {
			return target{}, fmt.Errorf("model %s: %w", m.Name, err)
		}
		if c, ok := t.upstreams[e.proto].dialect.(catalogue); ok && t.catalogue == nil {
			t.catalogue = c
		}
	}
	tr, err := g.pool.Transport(m)
	if err != nil {
		return target{}, err
	}
	g.taken = append(g.taken, tr)
	t.transport = tr
	if o.transport != nil {
		t.transport = o.transport
	}
	t.obs = g.obs.target(m, p) // metrics handles, traceparent
	if !m.TLS.Verify {
		g.log.Warn("TLS certificate verification is off", "model", m.Name, "endpoint", m.Endpoint)
	}
	return t, nil
}

// Secrets returns every secret in cfg, for scrubbing: router keys, model keys, the
// metrics key, the limit store's URL and password (config.Secrets), and the values
// header rules set in secret-named headers (defaults are merged into models).
func Secrets(cfg *config.Config) []string {
	s := cfg.Secrets()
	for _, m := range cfg.Models {
		s = headerSecrets(s, m.Headers)
	}
	return s
}

// headerSecrets appends the values that header rules set in secret-named headers
// (X-Portkey-Api-Key: ${PORTKEY_KEY}, Cf-Aig-Authorization: Bearer ${TOKEN}), with
// and without an auth scheme, so they are scrubbed like keys everywhere.
func headerSecrets(s []string, h config.Headers) []string {
	for _, m := range []map[string]string{h.Add, h.Force} {
		for name, v := range m {
			s = append(s, redact.CredentialValues(http.Header{name: {v}}, "")...)
		}
	}
	return s
}

// Drain makes /readyz answer 503 so that load balancers stop sending traffic.
func (g *Gateway) Drain() { g.draining.Store(true) }

// CloseIdle closes idle upstream connections.
func (g *Gateway) CloseIdle() { g.pool.CloseIdle() }

// ServeHTTP serves the whole API.
//
// A path that is not in canonical form (`//v1/chat/completions`, `/v1/../v1/messages`)
// is a 404 in the client's envelope: ServeMux would answer it with a redirect to
// the cleaned path, which clients follow by re-sending the POST.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	handling(r.Context())
	if p := r.URL.EscapedPath(); p != cleanPath(p) {
		g.unclean.ServeHTTP(w, r)
		return
	}
	g.mux.ServeHTTP(w, r)
}

// cleanPath is the path ServeMux redirects p to (net/http's cleanPath): rooted,
// without `.`, `..` or empty segments, a trailing slash kept.
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	if p[0] != '/' {
		p = "/" + p
	}
	np := path.Clean(p)
	if p[len(p)-1] == '/' && np != "/" {
		np += "/"
	}
	return np
}

// routesMux registers the endpoints of the table, and the router's own.
func (g *Gateway) routesMux() *http.ServeMux {
	mux := http.NewServeMux()
	for i := range g.endpoints {
		e := &g.endpoints[i]
		mux.Handle(cmp.Or(e.method, http.MethodPost)+" "+e.path, g.middleware(e.client, g.observe(e, g.authenticate(e.client, g.handle(e)))))
	}
	g.obs.mount(mux)               // GET /metrics, unless it has its own listener
	first := g.endpoints[0].client // the envelope of requests no protocol claims
	mux.Handle("GET /v1/models", g.middleware(first, g.authenticate(first, g.models)))
	mux.Handle("GET /v1/models/{id...}", g.middleware(first, g.authenticate(first, g.model)))
	mux.Handle("GET /v1/llmrouter/usage", g.middleware(first, g.authenticate(first, g.budgets))) // budgets.go
	mux.Handle("GET /healthz", g.middleware(first, http.HandlerFunc(healthz)))
	mux.Handle("GET /readyz", g.middleware(first, http.HandlerFunc(g.readyz)))
	mux.Handle("/", g.middleware(first, http.HandlerFunc(g.notFound)))
	g.unclean = g.middleware(first, http.HandlerFunc(g.notClean))
	return mux
}

func healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"status":"ok"}`))
}

func (g *Gateway) readyz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if g.draining.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"status":"draining"}`))
		return
	}
	_, _ = w.Write([]byte(`{"status":"ready"}`))
}

func (g *Gateway) notFound(w http.ResponseWriter, r *http.Request) {
	writeError(w, g.clientOf(r.Header, r.URL.Path), errorf(http.StatusNotFound, fmt.Sprintf("no route for %s %s", r.Method, r.URL.Path)))
}

func (g *Gateway) notClean(w http.ResponseWriter, r *http.Request) {
	clean := cleanPath(r.URL.EscapedPath())
	refuse(w, g.clientOf(r.Header, clean), errorf(http.StatusNotFound, fmt.Sprintf(
		"no route for %s %s: the path is not in canonical form (%s)", r.Method, r.URL.EscapedPath(), clean)))
}
