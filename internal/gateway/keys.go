package gateway

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/llmrouter/llmrouter/internal/config"
	"github.com/llmrouter/llmrouter/internal/limit"
)

// Router keys (server.api_keys): which key a request carries, which models it
// may use, and the name it is known by in the log, metrics and limits. A plain
// key has no name, may use every model and has no limits; a key object has a
// name, an optional models allow-list and optional limits (limits.go).

// routerKey is one configured router key, compiled for serving.
type routerKey struct {
	cfg    *config.Key
	secret []byte
	// scopes is the key's limit scope alone ("key:<name>"), as limit.Request
	// takes it; nil when the key limits and counts nothing (limits.go).
	scopes []*limit.Scope
}

// name is the key's configured name, "" for a plain key. Never the key.
func (k *routerKey) name() string {
	if k == nil {
		return ""
	}
	return k.cfg.Name
}

// compileKeys makes one routerKey per configured key, in file order.
func compileKeys(cfg *config.Config) []routerKey {
	keys := make([]routerKey, len(cfg.Server.Keys))
	for i := range cfg.Server.Keys {
		k := &cfg.Server.Keys[i]
		keys[i] = routerKey{cfg: k, secret: []byte(k.Key.Reveal())}
	}
	return keys
}

// keyOf returns the configured key a client presented, or nil. The presented
// value is compared with every configured key in constant time, whichever
// matches, so the time taken says nothing about which key (or how much of one)
// matched.
func (g *Gateway) keyOf(presented string) *routerKey {
	if presented == "" {
		return nil
	}
	p := []byte(presented)
	var found *routerKey
	for i := range g.keys {
		k := &g.keys[i]
		if subtle.ConstantTimeCompare(p, k.secret) == 1 && found == nil {
			found = k
		}
	}
	return found
}

// authenticate enforces server.api_keys: a request must carry one of them as
// Authorization: Bearer K or x-api-key: K; the key found goes in the request's
// record, which the handlers, the log and the limits read.
func (g *Gateway) authenticate(p envelope, next http.HandlerFunc) http.Handler {
	if len(g.keys) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		presented, _ := clientCredential(r.Header)
		if k := g.keyOf(presented); k != nil {
			recordOf(w).key = k
			next(w, r)
			return
		}
		msg := "missing router API key: send Authorization: Bearer <key> or x-api-key: <key>"
		if presented != "" {
			msg = "invalid router API key"
		}
		refuse(w, p, errorf(http.StatusUnauthorized, msg))
	})
}

// keyAllows reports whether the request's key may use model: always without
// router keys or with a plain key, else when the key's models allow-list
// (names and globs) matches it. The model listing filters by it.
func keyAllows(w http.ResponseWriter, model string) bool {
	k := recordOf(w).key
	return k == nil || k.cfg.Allows(model)
}

// errNotAllowed is why a known model answered as unknown: the request's key may
// not use it (for the log; the client sees the unknown model's 404).
var errNotAllowed = errors.New("the request's router key may not use this model (its models list)")

// unknownModel is the answer to a model the router does not serve, and to one
// the request's key may not use: the same 404, so that a key learns nothing of
// the models it is not given (as a provider answers a model an account cannot
// use). The log tells the two apart (Err).
func unknownModel(model string, cause error) *apiError {
	return &apiError{Status: http.StatusNotFound, Param: "model", Err: cause,
		Message: fmt.Sprintf("model %q is not configured on this router", model)}
}

// allowed refuses a request for a model its key may not use, once the model has
// been routed (a fallback of an allowed model is allowed: the key's reach, as
// config.checkKeys computes it for cost budgets).
func (c *call) allowed() *apiError {
	if k := c.rec.key; k != nil && !k.cfg.Allows(c.model) {
		return unknownModel(c.model, errNotAllowed)
	}
	return nil
}

// keyAttr adds the request's key name to its access-log line: never the key,
// and nothing for a plain key or a router without keys.
func keyAttr(attrs []slog.Attr, k *routerKey) []slog.Attr {
	if n := k.name(); n != "" {
		return append(attrs, slog.String("key", n))
	}
	return attrs
}
