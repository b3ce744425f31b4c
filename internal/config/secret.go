package config

import "log/slog"

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
