package gateway

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/llmrouter/llmrouter/internal/redact"
	"github.com/llmrouter/llmrouter/internal/wire"
)

// Headers: which of a client's headers an upstream gets (the router sets the
// credential and content type itself), and which of an upstream's response
// headers reach the client.

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

// notForwarded are client headers the router never sends upstream, whatever the
// header rules say:
//   - what the router or the transport sets itself, and ModelHeader (the router's) (Accept-Encoding is left to
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
	"Host", "Content-Length", "Accept-Encoding", "X-Request-Id", ModelHeader,
	"Cookie", "Forwarded", "X-Real-Ip", "Idempotency-Key", "X-Idempotency-Key",
}

// clientHeaders returns the client's end-to-end headers, without credentials and
// without notForwarded. It copies only what is forwarded, into one map and one
// backing array of values (as http.Header.Clone does), rather than cloning every
// header and deleting some two dozen names from the copy. Like Header.Del, it
// matches the canonical form of a name: a non-canonical key in the map is one
// Del could not have removed either. With owner set (a translated request),
// the headers owner keeps for its own protocol are not copied either: those
// that may not go to an upstream of protocol upstream (see headerOwner).
func clientHeaders(in http.Header, owner headerOwner, upstream wire.Protocol) http.Header {
	conn := connectionNames(in["Connection"])
	goes := func(name string) bool {
		return forwarded(name, conn) && (owner == nil || owner.ForwardsHeader(name, upstream))
	}
	n, kept := 0, 0
	for name, vs := range in {
		if goes(name) {
			n += len(vs)
			kept++
		}
	}
	out := make(http.Header, kept+4) // room for what buildHeader and the rules add
	values := make([]string, n)
	for name, vs := range in {
		if !goes(name) {
			continue
		}
		if vs == nil {
			out[name] = nil // as Clone keeps a nil value nil
			continue
		}
		k := copy(values, vs)
		out[name] = values[:k:k]
		values = values[k:]
	}
	return out
}

// headerOwner is what forwarding a client's headers needs of its protocol: which
// are the protocol's own (its API's, its SDKs'), which only an upstream of the
// same API understands.
type headerOwner interface {
	// ForwardsHeader reports whether a header (its canonical name) may go to an
	// upstream called with protocol upstream.
	ForwardsHeader(name string, upstream wire.Protocol) bool
}

// forwarded reports whether a client header (its map key) may go upstream: not
// hop-by-hop, nor named by the client's Connection header (conn, canonical), nor
// a credential, nor in notForwarded, nor X-Forwarded-*.
func forwarded(name string, conn []string) bool {
	return !slices.Contains(hopByHop, name) && !slices.Contains(credentialHeaders, name) &&
		!slices.Contains(notForwarded, name) && !strings.HasPrefix(name, "X-Forwarded-") &&
		!slices.Contains(conn, name)
}

// connectionNames returns the canonical names a Connection header lists (RFC 9110
// §7.6.1: those headers describe the connection and are not forwarded either).
func connectionNames(values []string) []string {
	var names []string
	for _, v := range values {
		for token := range strings.SplitSeq(v, ",") {
			if token = strings.TrimSpace(token); token != "" {
				names = append(names, http.CanonicalHeaderKey(token))
			}
		}
	}
	return names
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

// neverRelayed are upstream response headers the client never gets, whatever the
// route. X-Request-Id is the router's. The others would make the client apply the
// upstream's origin policy to the router's origin: cookies (Set-Cookie), HSTS and
// key pins (the router may serve plain HTTP on loopback), alternative services,
// CORS (a browser page could read answers paid with the router's key), a redirect
// or refresh target, Clear-Site-Data. Content-Length is the router's to set.
var neverRelayed = []string{
	"X-Request-Id", "Set-Cookie", "Set-Cookie2", "Strict-Transport-Security",
	"Public-Key-Pins", "Public-Key-Pins-Report-Only", "Alt-Svc", "Location", "Refresh",
	"Content-Location", "Clear-Site-Data", "Content-Length",
}

// Router-owned and CORS header families, by canonical prefix.
const (
	routerPrefix = "X-Llmrouter-"
	corsPrefix   = "Access-Control-"
)

// copyResponseHeaders relays the upstream's end-to-end response headers, with any
// of secrets an upstream echoes masked. The router's own headers, already set on
// dst, always win: an upstream header of the same name, or one its Connection
// header names, never replaces or removes them. A translated response keeps only
// rate-limit and retry hints: the rest describe a body the client does not get.
func copyResponseHeaders(dst http.Header, resp *http.Response, translated bool, secrets []string) {
	conn := resp.Header["Connection"]
	for name, v := range resp.Header {
		name = http.CanonicalHeaderKey(name)
		if !relayed(name, conn) || (translated && !keptWhenTranslated(name)) {
			continue
		}
		if redact.Scrub(name, secrets...) != name {
			continue // a name cannot be masked and stay meaningful
		}
		dst[name] = scrubValues(v, secrets)
	}
	if resp.Uncompressed {
		dst.Del("Content-Encoding")
	}
}

// relayed reports whether an upstream response header may reach the client: not
// hop-by-hop (RFC 9110 §7.6.1: the fixed list and what the upstream's Connection
// header names), not router-owned, not in neverRelayed. name is canonical.
func relayed(name string, connection []string) bool {
	if strings.HasPrefix(name, routerPrefix) || strings.HasPrefix(name, corsPrefix) ||
		slices.Contains(hopByHop, name) || slices.Contains(neverRelayed, name) {
		return false
	}
	for _, v := range connection {
		for token := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(token), name) {
				return false
			}
		}
	}
	return true
}

// scrubValues returns vs, or a copy with every secret masked when one appears.
func scrubValues(vs []string, secrets []string) []string {
	for i, v := range vs {
		if s := redact.Scrub(v, secrets...); s != v {
			out := slices.Clone(vs)
			out[i] = s
			for j := i + 1; j < len(out); j++ {
				out[j] = redact.Scrub(out[j], secrets...)
			}
			return out
		}
	}
	return vs
}

func keptWhenTranslated(name string) bool {
	n := strings.ToLower(name)
	return strings.HasPrefix(n, "x-ratelimit-") || strings.HasPrefix(n, "anthropic-ratelimit-") ||
		n == "retry-after" || n == "retry-after-ms"
}

// copyErrorHeaders relays, with a failure sent to the client, the upstream's retry
// hints and rate-limit headers: the hints only when they are well-formed (a
// Retry-After holds seconds or a date, X-Should-Retry a boolean), everything
// scrubbed of secrets, as on every other path.
func copyErrorHeaders(dst http.Header, resp http.Header, secrets []string) {
	for name, vs := range resp {
		name = http.CanonicalHeaderKey(name)
		if len(vs) == 0 || (!keptWhenTranslated(name) && name != "X-Should-Retry") {
			continue
		}
		if !wellFormedHint(name, vs[0]) || redact.Scrub(name, secrets...) != name {
			continue
		}
		dst[name] = scrubValues(vs, secrets)
	}
}

// wellFormedHint checks the value grammar of the retry hints (RFC 9110 §10.2.3 for
// Retry-After; the OpenAI SDKs' retry-after-ms and x-should-retry). Other headers
// have no grammar to check and are only scrubbed.
func wellFormedHint(name, v string) bool {
	switch name {
	case "Retry-After":
		if _, err := strconv.ParseUint(v, 10, 63); err == nil {
			return true
		}
		_, err := http.ParseTime(v)
		return err == nil
	case "Retry-After-Ms":
		f, err := strconv.ParseFloat(v, 64)
		return err == nil && f >= 0
	case "X-Should-Retry":
		return v == "true" || v == "false"
	}
	return true
}
