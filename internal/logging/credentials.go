package logging

import (
	"encoding/json"
	"fmt"
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
// escapes (`\/` for '/', `\u002B` for '+', as PHP's and .NET's encoders write them).
// ScrubBytes recognises those spellings (and others) and masks them in place, so the
// document stays valid JSON and the same value apart from the masks.
func ScrubJSON(b []byte, secrets ...string) []byte { return ScrubBytes(b, secrets...) }

// ScrubAttrs returns attrs with every secret masked in their values, groups included:
// strings, and slog.Any values such as a stream's transcript (json.RawMessage, kept
// as JSON), byte slices and errors; attrs itself when there is nothing to look for.
// The sink already masks the configured keys; this is for the credentials of one
// request.
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
	case slog.KindAny:
		return slog.Attr{Key: a.Key, Value: scrubAny(a.Value.Any(), secrets)}
	}
	return a
}

// scrubAny masks secrets in an slog.Any value. Raw JSON stays raw JSON; any other
// value in which a secret shows is replaced by its text, scrubbed.
func scrubAny(v any, secrets []string) slog.Value {
	var text string
	switch x := v.(type) {
	case json.RawMessage:
		return slog.AnyValue(json.RawMessage(ScrubBytes(x, secrets...)))
	case []byte:
		text = string(x)
	case error:
		text = x.Error()
	case fmt.Stringer:
		text = x.String()
	default:
		text = fmt.Sprintf("%+v", v)
	}
	if s := Scrub(text, secrets...); s != text {
		return slog.StringValue(s)
	}
	return slog.AnyValue(v)
}
