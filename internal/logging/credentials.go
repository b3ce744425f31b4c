package logging

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
)

// CredentialValues returns the credentials a request carries: every value of a
// SecretHeader header, whole and (when it has an auth scheme, "Basic …", "Bearer …")
// without the scheme, and the values of credential query parameters (?key=,
// ?api_key=, ...) in rawQuery. These are what an upstream may echo back, so the
// router scrubs them from everything it shows: responses, error text and log lines.
func CredentialValues(h http.Header, rawQuery string) []string {
	var out []string
	for name, vs := range h {
		if !SecretHeader(name) {
			continue
		}
		for _, v := range vs {
			out = appendCredential(out, v)
		}
	}
	if rawQuery == "" {
		return out
	}
	q, _ := url.ParseQuery(rawQuery) // a malformed pair is skipped, the rest kept
	for name, vs := range q {
		if !IsCredentialQuery(name) {
			continue
		}
		for _, v := range vs {
			out = appendCredential(out, v)
		}
	}
	return out
}

func appendCredential(out []string, v string) []string {
	v = strings.TrimSpace(v)
	if v == "" {
		return out
	}
	out = append(out, v)
	if _, token, ok := strings.Cut(v, " "); ok {
		if token = strings.TrimSpace(token); token != "" {
			out = append(out, token)
		}
	}
	return out
}

// IsCredentialQuery reports whether a URL query parameter holds a credential (the
// names RedactURL masks), case-insensitively.
func IsCredentialQuery(name string) bool {
	for _, k := range queryKeys {
		if strings.EqualFold(name, k) {
			return true
		}
	}
	return false
}

// ScrubJSON is ScrubBytes for a JSON document whose strings may spell a secret with
// escapes: `\/` for '/', `\u002B` for '+', as PHP's and .NET's encoders write them.
// When the escaped spelling hides a secret, the document is returned with printable
// ASCII escapes decoded (the same JSON value) and the secret masked; otherwise the
// bytes are returned as ScrubBytes leaves them.
func ScrubJSON(b []byte, secrets ...string) []byte {
	b = ScrubBytes(b, secrets...)
	if bytes.IndexByte(b, '\\') < 0 {
		return b
	}
	plain := unescapeASCII(b)
	if !containsAny(plain, secrets) {
		return b
	}
	return ScrubBytes(plain, secrets...)
}

func containsAny(b []byte, secrets []string) bool {
	for _, s := range secrets {
		if len(s) >= minSecret && bytes.Contains(b, []byte(s)) {
			return true
		}
	}
	return false
}

// unescapeASCII decodes, in JSON text, the escapes `\/` and `\u00XX` of printable
// ASCII other than '"' and '\' into the character itself; every other escape (and
// an escaped backslash, so `\\u0041` stays as written) is copied unchanged.
func unescapeASCII(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' || i+1 >= len(b) {
			out = append(out, b[i])
			continue
		}
		switch next := b[i+1]; {
		case next == '/':
			out = append(out, '/')
			i++
		case next == 'u' && i+5 < len(b):
			if c, ok := asciiEscape(b[i+2 : i+6]); ok {
				out = append(out, c)
				i += 5
				continue
			}
			out = append(out, b[i], next)
			i++
		default:
			out = append(out, b[i], next)
			i++
		}
	}
	return out
}

// asciiEscape decodes the 4 hex digits of a \u escape when they name a printable
// ASCII character that JSON lets a string hold unescaped.
func asciiEscape(hex []byte) (byte, bool) {
	var v int
	for _, c := range hex {
		var d int
		switch {
		case '0' <= c && c <= '9':
			d = int(c - '0')
		case 'a' <= c && c <= 'f':
			d = int(c-'a') + 10
		case 'A' <= c && c <= 'F':
			d = int(c-'A') + 10
		default:
			return 0, false
		}
		v = v<<4 | d
	}
	if v < 0x20 || v > 0x7e || v == '"' || v == '\\' {
		return 0, false
	}
	return byte(v), true
}

// ScrubAttrs returns attrs with every secret masked in their string values, groups
// included; attrs itself when there is nothing to look for. The sink already masks
// the configured keys; this is for the credentials of one request.
func ScrubAttrs(attrs []slog.Attr, secrets ...string) []slog.Attr {
	if len(secrets) == 0 || len(attrs) == 0 {
		return attrs
	}
	out := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		out[i] = scrubAttr(a, secrets)
	}
	return out
}

func scrubAttr(a slog.Attr, secrets []string) slog.Attr {
	switch a.Value.Kind() {
	case slog.KindString:
		return slog.String(a.Key, Scrub(a.Value.String(), secrets...))
	case slog.KindGroup:
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(ScrubAttrs(a.Value.Group(), secrets...)...)}
	}
	return a
}
