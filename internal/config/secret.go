package config

import (
	"log/slog"
	"strings"
)

// Secret is a credential. Every way of formatting it masks all but its last 4
// characters, so a forgotten log call cannot leak it; Reveal is the one way out.
type Secret string

// Reveal returns the secret itself, for the one place that sends it upstream.
func (s Secret) Reveal() string { return string(s) }

// String masks the secret.
func (s Secret) String() string { return Mask(string(s)) }

// GoString masks the secret in %#v.
func (s Secret) GoString() string { return Mask(string(s)) }

// LogValue masks the secret in slog output.
func (s Secret) LogValue() slog.Value { return slog.StringValue(Mask(string(s))) }

// MarshalText masks the secret in JSON, YAML and text encodings.
func (s Secret) MarshalText() ([]byte, error) { return []byte(Mask(string(s))), nil }

// Mask shows at most the last 4 characters of a secret, and none of a short one.
func Mask(s string) string {
	switch {
	case s == "":
		return ""
	case len(s) < 12:
		return "****"
	default:
		return "****" + s[len(s)-4:]
	}
}

// keyPrefixes start the API keys of well-known providers (OpenAI sk- and sk-proj-,
// Anthropic sk-ant-, Google AIza, AWS AKIA, GitHub ghp_, Groq gsk_, xAI xai-).
var keyPrefixes = []string{"sk-", "sk_", "AIza", "AKIA", "ghp_", "gsk_", "xai-"}

// looksLikeKey reports whether s has the shape of an API key: a well-known key prefix
// followed by at least 8 more characters, or a token of 32 or more letters, digits,
// '-' and '_' that mixes upper case, lower case and digits, or holds a run of 24 or
// more letters and digits mixed (a lower-case hex key, as Azure's): model names,
// durations, host names and URLs do not. Used to decide what a config error may echo.
func looksLikeKey(s string) bool {
	if !isToken(s) {
		return false
	}
	for _, p := range keyPrefixes {
		if strings.HasPrefix(s, p) && len(s) >= len(p)+8 {
			return true
		}
	}
	if len(s) < 32 {
		return false
	}
	var upper, lower, digit bool
	for _, c := range s {
		upper = upper || 'A' <= c && c <= 'Z'
		lower = lower || 'a' <= c && c <= 'z'
		digit = digit || '0' <= c && c <= '9'
	}
	return upper && lower && digit || randomRun(s, 24)
}

// randomRun reports whether s holds n or more letters and digits in a row, both
// kinds among them.
func randomRun(s string, n int) bool {
	run, letters, digits := 0, 0, 0
	for _, c := range s {
		switch {
		case '0' <= c && c <= '9':
			run, digits = run+1, digits+1
		case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
			run, letters = run+1, letters+1
		default:
			run, letters, digits = 0, 0, 0
		}
		if run >= n && letters > 0 && digits > 0 {
			return true
		}
	}
	return false
}

func isToken(s string) bool {
	for _, c := range s {
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return s != ""
}
