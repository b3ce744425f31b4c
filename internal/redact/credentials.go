package redact

import (
	"bytes"
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
	return AppendCredentialValues(nil, h, rawQuery)
}

// AppendCredentialValues appends what CredentialValues returns to out.
func AppendCredentialValues(out []string, h http.Header, rawQuery string) []string {
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
		if !isCredentialQuery(name) {
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

// isCredentialQuery reports whether a URL query parameter holds a credential (the
// names URL masks), case-insensitively.
func isCredentialQuery(name string) bool {
	for _, k := range queryKeys {
		if strings.EqualFold(name, k) {
			return true
		}
	}
	return false
}

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
	return !commonHeader(name) && secretName(name)
}

// commonHeader reports whether name is one of the headers nearly every request
// or answer carries, written canonically, none of which secretName takes for a
// secret (TestCommonHeaders): they are answered without lower-casing and
// searching the name.
func commonHeader(name string) bool {
	switch name {
	case "Accept", "Accept-Encoding", "Anthropic-Version", "Cache-Control", "Connection",
		"Content-Encoding", "Content-Length", "Content-Type", "Date", "Host", "Openai-Organization",
		"Openai-Processing-Ms", "Openai-Version", "Server", "Transfer-Encoding", "User-Agent", "Vary",
		"X-Request-Id":
		return true
	}
	return false
}

// secretName is SecretHeader for any name.
func secretName(name string) bool {
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
