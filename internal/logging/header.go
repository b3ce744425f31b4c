package logging

import (
	"bytes"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/llmrouter/llmrouter/internal/config"
)

// credentialNames are the headers (and attribute keys) whose values are credentials,
// lower-cased with `-`: Authorization and Proxy-Authorization (Bearer/Basic), OpenAI's
// api-key (Azure), Anthropic's x-api-key, Gemini's x-goog-api-key, and cookies.
var credentialNames = [...]string{
	"authorization", "proxy-authorization", "x-api-key", "api-key", "x-goog-api-key",
	"cookie", "set-cookie",
}

// IsCredential reports whether name is a credential header name, case-insensitively
// and with `_` matching `-` (so an attribute keyed api_key counts).
func IsCredential(name string) bool {
	for _, c := range credentialNames {
		if len(c) == len(name) && equalFoldDash(name, c) {
			return true
		}
	}
	return false
}

// secretSuffixes and secretParts mark other header names whose values are secrets:
// gateway and API-management keys (X-Portkey-Api-Key, Ocp-Apim-Subscription-Key),
// tokens (X-Auth-Token, X-Amz-Security-Token), signatures. Rate-limit headers that
// count tokens (x-ratelimit-remaining-tokens, anthropic-ratelimit-tokens-limit) do
// not end in "-token", so they stay readable. Lower case.
var (
	secretSuffixes = byteStrings("-key", "-token", "-secret", "-password", "-signature")
	secretParts    = byteStrings("auth", "apikey", "api-key", "api_key", "cookie", "credential", "secret", "passw")
)

func byteStrings(ss ...string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

// SecretHeader reports whether a header's value should be masked wherever it is
// shown (logs, explain) and scrubbed from what an upstream echoes: the credential
// headers of IsCredential, and any name that says it holds a key, token, secret,
// password or signature. It runs for every header of every request: no allocation.
func SecretHeader(name string) bool {
	if IsCredential(name) {
		return true
	}
	var buf [64]byte
	n := buf[:0]
	if len(name) > len(buf) {
		n = make([]byte, 0, len(name)) // a rare long name
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		n = append(n, c)
	}
	for _, s := range secretSuffixes {
		if bytes.HasSuffix(n, s) {
			return true
		}
	}
	for _, p := range secretParts {
		if bytes.Contains(n, p) {
			return true
		}
	}
	return false
}

// equalFoldDash compares s with lower, an ASCII lower-case name, ignoring case and
// treating `_` in s as `-`. len(s) must equal len(lower).
func equalFoldDash(s, lower string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		case c == '_':
			c = '-'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// HeaderAttr renders h as a group attribute named key: one string per header, names
// sorted, repeated values joined with ", ". Secret headers (SecretHeader: Authorization,
// x-api-key, Cookie, X-Portkey-Api-Key, X-Auth-Token, ...) are masked whole with
// config.Mask, so at most their last 4 characters show. Other values
// are left to the logger's handler, which still scrubs known secrets from them.
func HeaderAttr(key string, h http.Header) slog.Attr {
	return slog.Attr{Key: key, Value: headerValue(h)}
}

func headerValue(h http.Header) slog.Value {
	attrs := make([]slog.Attr, 0, len(h))
	for _, name := range slices.Sorted(maps.Keys(h)) {
		v := strings.Join(h[name], ", ")
		if SecretHeader(name) {
			v = config.Mask(v)
		}
		attrs = append(attrs, slog.String(name, v))
	}
	return slog.GroupValue(attrs...)
}
