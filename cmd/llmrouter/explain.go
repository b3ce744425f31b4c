package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strings"

	"github.com/llmrouter/llmrouter/internal/config"
	"github.com/llmrouter/llmrouter/internal/gateway"
	"github.com/llmrouter/llmrouter/internal/logging"
	"github.com/llmrouter/llmrouter/internal/redact"
)

// llmrouter explain: the upstream request a client request causes, printed with
// every credential masked.

// headerFlags collects repeated -H 'Name: value' flags.
type headerFlags []string

func (h *headerFlags) String() string { return strings.Join(*h, ", ") }

func (h *headerFlags) Set(v string) error { *h = append(*h, v); return nil }

// check rejects a -H that is not 'Name: value'. The error never repeats the
// argument (the flag package would): a mistyped -H 'Authorization Bearer sk-…'
// holds a key.
func (h *headerFlags) check() error {
	for i, v := range *h {
		name, _, ok := strings.Cut(v, ":")
		if name = strings.TrimSpace(name); !ok || !validHeaderName(name) {
			return fmt.Errorf("-H number %d is not 'Name: value' with a header name of letters, digits and -", i+1)
		}
	}
	return nil
}

// validHeaderName reports whether name is an HTTP field name (RFC 9110 §5.1 token).
func validHeaderName(name string) bool {
	for _, c := range []byte(name) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return name != ""
}

func explain(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flagSet("explain", stderr)
	path := fs.String("config", "", "config file")
	endpoint := fs.String("endpoint", "/v1/chat/completions", "client endpoint: /v1/chat/completions, /v1/completions, /v1/messages, /v1/messages/count_tokens, /v1/responses, /v1/responses/input_tokens, /v1/embeddings")
	var headers headerFlags
	fs.Var(&headers, "H", "client request header 'Name: value' (repeatable)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if err := headers.check(); err != nil {
		fmt.Fprintf(stderr, "llmrouter: explain: %v\n", err)
		return 2
	}
	if !gateway.IsEndpoint(strings.SplitN(*endpoint, "?", 2)[0]) {
		fmt.Fprintf(stderr, "llmrouter: unknown endpoint %q\n", *endpoint)
		return 2
	}
	body, err := readInput(fs.Arg(0), stdin)
	if err != nil {
		fmt.Fprintf(stderr, "llmrouter: %v\n", err)
		return 1
	}
	cfg, err := loadConfig(*path)
	if err != nil {
		fmt.Fprintf(stderr, "llmrouter: config: %v\n", err)
		return 1
	}
	return printExplain(cfg, *endpoint, headers, body, stdout, stderr)
}

func printExplain(cfg *config.Config, endpoint string, headers []string, body []byte, stdout, stderr io.Writer) int {
	g, err := gateway.New(cfg, logging.New(cfg.Logging, io.Discard, nil))
	if err != nil {
		fmt.Fprintf(stderr, "llmrouter: %v\n", err)
		return 1
	}
	r := httptest.NewRequest(http.MethodPost, endpoint, bytes.NewReader(body))
	for _, h := range headers {
		name, value, _ := strings.Cut(h, ":")
		r.Header.Add(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	p, err := g.Explain(r)
	if err != nil {
		fmt.Fprintf(stderr, "llmrouter: %s\n", redact.Scrub(err.Error(), gateway.Secrets(cfg)...))
		return 1
	}
	secrets := append(gateway.Secrets(cfg), p.Secrets...)
	if route, ok := g.Route(p.Model); ok {
		printRoute(stderr, route, p.Deployment)
	}
	fmt.Fprintf(stdout, "POST %s\n", redact.URL(p.URL))
	names := make([]string, 0, len(p.Header))
	for name := range p.Header {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		for _, v := range p.Header[name] {
			fmt.Fprintf(stdout, "%s: %s\n", name, maskHeader(name, v, secrets))
		}
	}
	if len(p.Dropped) > 0 {
		fmt.Fprintf(stderr, "dropped by translation: %s\n", strings.Join(p.Dropped, ","))
	}
	fmt.Fprintf(stdout, "\n%s\n", redact.Scrub(string(p.Body), secrets...))
	return 0
}

// maskHeader masks credential headers whole (at most the last 4 characters show)
// and any known secret inside other values.
func maskHeader(name, v string, secrets []string) string {
	if !redact.SecretHeader(name) {
		return redact.Scrub(v, secrets...)
	}
	if k, ok := strings.CutPrefix(v, "Bearer "); ok {
		return "Bearer " + config.Mask(k)
	}
	return config.Mask(v)
}

func readInput(path string, stdin io.Reader) ([]byte, error) {
	if path == "" || path == "-" {
		return io.ReadAll(stdin)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading request: %w", err)
	}
	return b, nil
}

// printRoute writes how the request is routed: the candidates in order and why
// (priority, weight and share), the fallback chains, the budget. (Health is
// the serving process's own: a fresh explain has every deployment usable.)
func printRoute(w io.Writer, r gateway.Route, shown string) {
	entry := ""
	if r.Entry != r.Model {
		entry = fmt.Sprintf(" (models entry %q)", r.Entry)
	}
	fmt.Fprintf(w, "route: %s%s, strategy %s; lower priority first, equal priorities balanced\n", r.Model, entry, r.Strategy)
	for i, d := range r.Deployments {
		share := ""
		if r.Strategy == "weighted" {
			share = fmt.Sprintf(", %.0f%% of priority %d", 100*d.Share, d.Priority)
		}
		fmt.Fprintf(w, "  %d. %s: %s %s, model %s; priority %d, weight %d%s\n", i+1, d.ID, d.Provider,
			redact.URL(d.Endpoint), d.UpstreamModel, d.Priority, d.Weight, share)
	}
	for _, c := range []struct {
		name string
		list []string
	}{{"fallbacks (retryable failures)", r.Fallbacks}, {"context_window_fallbacks", r.ContextWindow}, {"content_policy_fallbacks", r.ContentPolicy}} {
		list := "none"
		if len(c.list) > 0 {
			list = strings.Join(c.list, " -> ")
		}
		fmt.Fprintf(w, "%s: %s\n", c.name, list)
	}
	fmt.Fprintf(w, "attempts: up to %d on %s, %d for the whole request, within %v\n", r.Attempts, r.Model, r.Budget, r.Total)
	fmt.Fprintf(w, "the request printed is the one sent to %s\n", shown)
}
