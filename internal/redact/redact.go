// Package redact finds credentials and masks them: in what clients receive (relayed
// error bodies, headers and streams), in text cut to a size (a key is never split by
// a cut), and in log lines. It knows which headers and query parameters carry
// credentials, and finds a secret however an upstream spelled it (JSON, percent and
// HTML escapes). The log handler of package logging is built on it.
package redact

import (
	"bytes"
	"cmp"
	"slices"
	"strings"

	"github.com/llmrouter/llmrouter/internal/config"
)

// minSecret is the shortest secret Scrub looks for. A shorter "secret" (a test value,
// a placeholder like "none") would match ordinary text and mangle messages, and is
// masked only where its position says it is a credential (a header, a query value).
const minSecret = 8

// Scrub returns s with every occurrence of each secret of at least 8 bytes replaced by
// config.Mask(secret); shorter secrets are ignored. An occurrence may spell the secret
// with escapes (JSON `\u002d` and `\/`, percent-encoding `%2D`, HTML `&#45;`: see
// unescape), and its whole spelling is masked. When two occurrences overlap, the
// longer secret is masked whole. s itself is returned when nothing matched.
func Scrub(s string, secrets ...string) string {
	if !mayHold(s, secrets) {
		return s
	}
	ms := find(s, usable(secrets))
	if len(ms) == 0 {
		return s
	}
	return masked(s, ms)
}

// ScrubBytes is Scrub for byte slices. It returns b itself (same backing array) when
// nothing matched, so the common case costs no copy.
func ScrubBytes(b []byte, secrets ...string) []byte {
	if !mayHoldBytes(b, secrets) {
		return b
	}
	s := string(b)
	ms := find(s, usable(secrets))
	if len(ms) == 0 {
		return b
	}
	return []byte(masked(s, ms))
}

// Set is a list of secrets prepared once for scrubbing many texts, as the log
// handler does: deduplicated, at least 8 bytes, longest first. Safe for concurrent use.
type Set struct{ secrets []string }

// NewSet prepares secrets for Set.Scrub.
func NewSet(secrets []string) *Set { return &Set{secrets: usable(secrets)} }

// Union returns a set with the secrets of set and more: set itself when more
// adds none.
func (set *Set) Union(more []string) *Set {
	known := make(map[string]bool, len(set.secrets))
	for _, s := range set.secrets {
		known[s] = true
	}
	for _, s := range more {
		if len(s) >= minSecret && !known[s] {
			return NewSet(append(slices.Clip(set.secrets), more...))
		}
	}
	return set
}

// Scrub is Scrub with the set's secrets. It reports whether anything was masked;
// when nothing was, s itself comes back without allocating.
func (set *Set) Scrub(s string) (string, bool) {
	if len(set.secrets) == 0 || len(s) < minSecret || !mayHold(s, set.secrets) {
		return s, false
	}
	ms := find(s, set.secrets)
	if len(ms) == 0 {
		return s, false
	}
	return masked(s, ms), true
}

// mayHold is the cheap test before find: a secret is spelled literally in s, or s
// holds an escape that may spell one.
func mayHold(s string, secrets []string) bool {
	return mayHoldIn(s, secrets, strings.Contains, strings.IndexByte)
}

// mayHoldBytes is mayHold for a byte slice, without copying it.
func mayHoldBytes(b []byte, secrets []string) bool {
	return mayHoldIn(b, secrets, func(b []byte, s string) bool { return bytes.Contains(b, []byte(s)) }, bytes.IndexByte)
}

func mayHoldIn[T string | []byte](s T, secrets []string, contains func(T, string) bool, indexByte func(T, byte) int) bool {
	any := false
	for _, sec := range secrets {
		if len(sec) < minSecret {
			continue
		}
		if contains(s, sec) {
			return true
		}
		any = true
	}
	return any && hasEscapeIn(s, indexByte)
}

// usable returns the secrets Scrub looks for: deduplicated, at least minSecret bytes,
// longest first.
func usable(secrets []string) []string {
	out := make([]string, 0, len(secrets))
	for _, s := range secrets {
		if len(s) >= minSecret && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	slices.SortStableFunc(out, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	return out
}

// Credentials the router was not told about still have recognisable places in
// text: a URL's credential query parameters and userinfo password, and the token
// after "Bearer ". The log handler masks them in every line.

// URL masks, in a URL or in text holding URLs, the values of the query (and
// fragment) parameters key, api_key, api-key, apikey, token and access_token (names
// case-insensitive) and any userinfo password. u itself is returned when nothing
// matched.
func URL(u string) string {
	u, _ = maskQuery(u)
	u, _ = maskUserinfo(u)
	return u
}

// Credentials masks in free text what has the shape of a credential: credential
// query values and userinfo passwords (as URL does) and "Bearer <token>" tokens. It
// reports whether anything changed; when nothing did, s comes back without a copy.
func Credentials(s string) (string, bool) {
	s, q := maskQuery(s)
	s, u := maskUserinfo(s)
	s, b := maskBearer(s)
	return s, q || u || b
}

// IsMask reports whether s has the shape config.Mask produces, so that masking
// twice still shows a key's last 4 characters rather than those of its mask, or
// is the "xxxxx" of url.URL.Redacted (a URL shown with its password masked, as
// the limit store's is, stays as `check` and the README print it).
func IsMask(s string) bool {
	return s == "****" || s == "xxxxx" || (len(s) == 8 && strings.HasPrefix(s, "****"))
}

// queryKeys are the URL parameters whose values are credentials. Google's APIs take
// ?key=, many proxies ?api_key= or ?token=, OAuth fragments #access_token=.
var queryKeys = [...]string{"key", "api_key", "api-key", "apikey", "token", "access_token"}

// maskQuery masks credential parameter values: a `?`, `&` or `#`, a name from
// queryKeys, `=`, then the value up to the first byte that cannot be part of it.
func maskQuery(s string) (string, bool) {
	if strings.IndexByte(s, '=') < 0 {
		return s, false
	}
	var m masker
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != '?' && c != '&' && c != '#' {
			continue
		}
		start := credentialValue(s, i+1)
		if start < 0 {
			continue
		}
		end := tokenEnd(s, start)
		if end == start || IsMask(s[start:end]) {
			continue
		}
		m.mask(s, start, end)
		i = end - 1
	}
	return m.result(s)
}

// masker builds a copy of a string with some spans masked, in order; it allocates
// only once a span is masked.
type masker struct {
	b    []byte
	last int // end of the last masked span
}

// mask replaces s[start:end] with config.Mask of it.
func (m *masker) mask(s string, start, end int) {
	m.b = append(m.b, s[m.last:start]...)
	m.b = append(m.b, config.Mask(s[start:end])...)
	m.last = end
}

// result returns the masked copy and true, or s and false when nothing was masked.
func (m *masker) result(s string) (string, bool) {
	if m.b == nil {
		return s, false
	}
	return string(append(m.b, s[m.last:]...)), true
}

// credentialValue returns where the value starts when s[i:] begins with a credential
// parameter name and `=`, else -1.
func credentialValue(s string, i int) int {
	eq := strings.IndexByte(s[i:], '=')
	if eq <= 0 || eq > len("access_token") {
		return -1
	}
	for _, k := range queryKeys {
		if strings.EqualFold(s[i:i+eq], k) {
			return i + eq + 1
		}
	}
	return -1
}

// tokenEnd returns the end of the credential-like token starting at i: letters,
// digits, and the bytes of URL-safe and standard base64 and percent-encoding.
func tokenEnd(s string, i int) int {
	for i < len(s) && isTokenByte(s[i]) {
		i++
	}
	return i
}

func isTokenByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		strings.IndexByte("-._~%+/=*", c) >= 0
}

// maskUserinfo masks the password of `scheme://user:password@host`.
func maskUserinfo(s string) (string, bool) {
	if strings.IndexByte(s, '@') < 0 || !strings.Contains(s, "://") {
		return s, false
	}
	var m masker
	for i := 0; ; {
		j := strings.Index(s[i:], "://")
		if j < 0 {
			break
		}
		host := i + j + 3
		end := host
		for end < len(s) && !isAuthorityEnd(s[end]) {
			end++
		}
		i = end
		at := strings.LastIndexByte(s[host:end], '@')
		colon := strings.IndexByte(s[host:end], ':')
		if at < 0 || colon < 0 || colon > at || IsMask(s[host+colon+1:host+at]) {
			continue
		}
		m.mask(s, host+colon+1, host+at)
	}
	return m.result(s)
}

func isAuthorityEnd(c byte) bool {
	return c <= ' ' || strings.IndexByte("/?#\"'\\<>`", c) >= 0
}

// maskBearer masks the token after "Bearer " (any case) when it is at least 8 bytes,
// so that a dumped Authorization header holding a key we were not told about (a
// client's passthrough credential) is masked too; shorter words ("bearer token") are
// left alone.
func maskBearer(s string) (string, bool) {
	const word = "bearer "
	if !strings.Contains(s, "earer ") && !strings.Contains(s, "EARER ") {
		return s, false
	}
	var m masker
	for i := 0; i+len(word) < len(s); i++ {
		if (i > 0 && isLetter(s[i-1])) || !strings.EqualFold(s[i:i+len(word)], word) {
			continue
		}
		start := i + len(word)
		end := tokenEnd(s, start)
		if end-start < minSecret || IsMask(s[start:end]) {
			continue
		}
		m.mask(s, start, end)
		i = end - 1
	}
	return m.result(s)
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
