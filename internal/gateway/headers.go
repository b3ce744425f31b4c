package gateway

import (
	"net/http"
	"strings"

	"github.com/llmrouter/llmrouter/internal/anthropic"
	"github.com/llmrouter/llmrouter/internal/config"
	"github.com/llmrouter/llmrouter/internal/openai"
)

// hopByHop headers describe one connection, not the message (RFC 9110 §7.6.1);
// a proxy never forwards them.
var hopByHop = []string{
	"Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
}

// credentialHeaders carry a client's key; they are re-created for every upstream.
// x-goog-api-key (Gemini's) is never meant for the model's upstream: a client's is
// only forwarded with the others, to an upstream of its own protocol.
var credentialHeaders = []string{"Authorization", "X-Api-Key", "Api-Key", "X-Goog-Api-Key"}

// removeHopByHop deletes the hop-by-hop headers and every header Connection names.
func removeHopByHop(h http.Header) {
	for _, v := range h.Values("Connection") {
		for _, name := range strings.Split(v, ",") {
			if name = strings.TrimSpace(name); name != "" {
				h.Del(name)
			}
		}
	}
	for _, name := range hopByHop {
		h.Del(name)
	}
}

// notForwarded are client headers the router never sends upstream, whatever the
// header rules say:
//   - what the router or the transport sets itself (Accept-Encoding is left to
//     the transport, which then decompresses transparently: the relay must read SSE);
//   - Cookie: credentials for the router's own origin, never for a provider's;
//   - Forwarded, X-Forwarded-*, X-Real-Ip: the client's address and the path to
//     the router, which a provider has no use for (the router calls it in its own
//     name) and which a client can spoof;
//   - Idempotency-Key, X-Idempotency-Key: the key names the client's request to
//     the router, not each upstream attempt the retry policy makes; and Go's
//     transport takes a POST carrying one as replayable and re-sends it on its
//     own when a reused connection fails, unseen by the retry accounting.
var notForwarded = []string{
	"Host", "Content-Length", "Accept-Encoding", "X-Request-Id",
	"Cookie", "Forwarded", "X-Real-Ip", "Idempotency-Key", "X-Idempotency-Key",
}

// clientHeaders returns the client's end-to-end headers, without credentials and
// without notForwarded.
func clientHeaders(in http.Header) http.Header {
	out := in.Clone()
	removeHopByHop(out)
	for _, name := range credentialHeaders {
		out.Del(name)
	}
	for _, name := range notForwarded {
		out.Del(name)
	}
	for name := range out {
		if strings.HasPrefix(name, "X-Forwarded-") {
			delete(out, name)
		}
	}
	return out
}

// clientCredential returns the key a client sent, and whether it came as a Bearer
// token (Authorization) rather than x-api-key / api-key.
func clientCredential(h http.Header) (key string, bearer bool) {
	if v := h.Get("Authorization"); v != "" {
		// The auth scheme is case-insensitive (RFC 9110 §11.1): "bearer K" is K,
		// and only K is known to the scrubber, which must find it in echoes.
		if scheme, k, ok := strings.Cut(v, " "); ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(k), true
		}
		return v, true
	}
	for _, name := range []string{"X-Api-Key", "Api-Key", "X-Goog-Api-Key"} {
		if v := h.Get(name); v != "" {
			return v, false
		}
	}
	return "", false
}

// setCredential puts key in the upstream provider's own auth header:
// x-api-key (+ anthropic-version) for anthropic, Authorization: Bearer otherwise.
func setCredential(h http.Header, provider config.Provider, key string) {
	if provider == config.ProviderAnthropic {
		anthropic.SetAuth(h, key)
		return
	}
	openai.SetAuth(h, key)
}

// copyCredentials forwards the client's credential headers unchanged, for a client
// whose protocol is the upstream's own (Claude Code's OAuth Bearer token must reach
// Anthropic as Authorization, not x-api-key).
func copyCredentials(dst, src http.Header) {
	for _, name := range credentialHeaders {
		if v := src.Values(name); len(v) > 0 {
			dst[name] = v
		}
	}
}
