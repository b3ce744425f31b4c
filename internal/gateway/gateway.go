// Package gateway serves the client-facing API: it authenticates, routes each request
// by model, applies the model's policy, calls the upstream with retries, and relays or
// translates the answer, streaming event by event.
package gateway

import (
	"fmt"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"sync/atomic"

	"github.com/llmrouter/llmrouter/internal/config"
	"github.com/llmrouter/llmrouter/internal/policy"
	"github.com/llmrouter/llmrouter/internal/redact"
	"github.com/llmrouter/llmrouter/internal/route"
	"github.com/llmrouter/llmrouter/internal/upstream"
	"github.com/llmrouter/llmrouter/internal/wire"
)

// Gateway is the compiled configuration plus the shared upstream connection pool.
// It is an http.Handler; build it once with New.
type Gateway struct {
	cfg      *config.Config
	routes   *route.Table
	targets  []target
	pool     *upstream.Pool
	log      *slog.Logger
	secrets  []string
	draining atomic.Bool
	flight   flight // requests in flight, for Stop
	mux      *http.ServeMux
	unclean  http.Handler // answers a path ServeMux would redirect
}

// target is one configured model compiled for serving.
type target struct {
	model     *config.Model
	policy    *policy.Policy
	transport http.RoundTripper
}

// New compiles cfg. log receives the access log; secrets are the configured keys,
// scrubbed from anything relayed to clients.
func New(cfg *config.Config, log *slog.Logger) (*Gateway, error) {
	g := &Gateway{cfg: cfg, routes: route.New(cfg.Models), pool: upstream.NewPool(), log: log}
	g.secrets = Secrets(cfg)
	for i := range cfg.Models {
		m := &cfg.Models[i]
		t, err := g.compile(m)
		if err != nil {
			return nil, err
		}
		g.targets = append(g.targets, t)
	}
	g.mux = g.routesMux()
	return g, nil
}

func (g *Gateway) compile(m *config.Model) (target, error) {
	p, err := policy.Compile(m.Headers, m.Transforms)
	if err != nil {
		return target{}, fmt.Errorf("model %s: %w", m.Name, err)
	}
	tr, err := g.pool.Transport(m)
	if err != nil {
		return target{}, err
	}
	if !m.TLS.Verify {
		g.log.Warn("TLS certificate verification is off", "model", m.Name, "endpoint", m.Endpoint)
	}
	return target{model: m, policy: p, transport: tr}, nil
}

// Secrets returns every key in cfg, for scrubbing: router keys, model keys, and the
// values header rules set in secret-named headers (defaults are merged into models).
func Secrets(cfg *config.Config) []string {
	var s []string
	for _, k := range cfg.Server.APIKeys {
		s = append(s, k.Reveal())
	}
	for _, m := range cfg.Models {
		if k := m.APIKey.Reveal(); k != "" {
			s = append(s, k)
		}
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

// SetTransport replaces the upstream transport of every model (tests, benchmarks).
func (g *Gateway) SetTransport(rt http.RoundTripper) {
	for i := range g.targets {
		g.targets[i].transport = rt
	}
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

func (g *Gateway) routesMux() *http.ServeMux {
	mux := http.NewServeMux()
	api := func(p wire.Protocol, h http.HandlerFunc) http.Handler {
		return g.middleware(p, g.authenticate(p, h))
	}
	mux.Handle("POST /v1/chat/completions", api(wire.OpenAIChat, g.proxy(wire.OpenAIChat, kindGenerate)))
	mux.Handle("POST /v1/completions", api(wire.OpenAICompletions, g.proxy(wire.OpenAICompletions, kindGenerate)))
	mux.Handle("POST /v1/messages", api(wire.AnthropicMessages, g.proxy(wire.AnthropicMessages, kindGenerate)))
	mux.Handle("POST /v1/messages/count_tokens", api(wire.AnthropicMessages, g.proxy(wire.AnthropicMessages, kindCountTokens)))
	mux.Handle("GET /v1/models", api(wire.OpenAIChat, g.models))
	mux.Handle("GET /healthz", g.middleware(wire.OpenAIChat, http.HandlerFunc(healthz)))
	mux.Handle("GET /readyz", g.middleware(wire.OpenAIChat, http.HandlerFunc(g.readyz)))
	mux.Handle("/", g.middleware(wire.OpenAIChat, http.HandlerFunc(notFound)))
	g.unclean = g.middleware(wire.OpenAIChat, http.HandlerFunc(notClean))
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

func notFound(w http.ResponseWriter, r *http.Request) {
	writeError(w, clientProtocol(r, r.URL.Path), errorf(http.StatusNotFound, fmt.Sprintf("no route for %s %s", r.Method, r.URL.Path)))
}

func notClean(w http.ResponseWriter, r *http.Request) {
	clean := cleanPath(r.URL.EscapedPath())
	refuse(w, clientProtocol(r, clean), errorf(http.StatusNotFound, fmt.Sprintf(
		"no route for %s %s: the path is not in canonical form (%s)", r.Method, r.URL.EscapedPath(), clean)))
}

// clientProtocol guesses the envelope of a request no endpoint took: Anthropic's
// for its paths or an anthropic-version header, else OpenAI's.
func clientProtocol(r *http.Request, path string) wire.Protocol {
	if r.Header.Get("Anthropic-Version") != "" || path == "/v1/messages" || strings.HasPrefix(path, "/v1/messages/") {
		return wire.AnthropicMessages
	}
	return wire.OpenAIChat
}
