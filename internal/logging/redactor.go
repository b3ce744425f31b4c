package logging

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"

	"github.com/llmrouter/llmrouter/internal/config"
	"github.com/llmrouter/llmrouter/internal/redact"
)

// redactor rewrites slog attributes so that no credential reaches the encoder.
// It is built once per logger and is safe for concurrent use; its secrets only
// grow (Live.Learn).
type redactor struct {
	secrets atomic.Pointer[redact.Set]
	json    bool // the sink encodes JSON: render slog.Any values as JSON
}

func newRedactor(secrets []string, json bool) *redactor {
	r := &redactor{json: json}
	r.secrets.Store(redact.NewSet(secrets))
	return r
}

// text redacts free text: known secrets, then credential query values, userinfo
// passwords and bearer tokens. It reports whether anything changed; when nothing did,
// s is returned without allocating.
func (r *redactor) text(s string) (string, bool) {
	out, changed := r.scrub(s)
	out, masked := redact.Credentials(out)
	return out, changed || masked
}

// scrub replaces the known secrets in s, also where escapes spell them (see
// redact.Scrub), reporting whether any was found.
func (r *redactor) scrub(s string) (string, bool) { return r.secrets.Load().Scrub(s) }

// str is text without the report.
func (r *redactor) str(s string) string {
	out, _ := r.text(s)
	return out
}

// bytes is text for a byte slice; b itself comes back when nothing changed.
func (r *redactor) bytes(b []byte) []byte {
	if out, ch := r.text(string(b)); ch {
		return []byte(out)
	}
	return b
}

// attr returns a with its key and value redacted, LogValuers resolved, and whether
// anything changed.
func (r *redactor) attr(a slog.Attr) (slog.Attr, bool) {
	v := a.Value.Resolve()
	changed := a.Value.Kind() == slog.KindLogValuer
	if k, ch := r.scrub(a.Key); ch { // a key is a name, not a URL: secrets only
		a.Key, changed = k, true
	}
	if redact.IsCredential(a.Key) {
		return slog.String(a.Key, maskValue(v)), true
	}
	switch v.Kind() {
	case slog.KindString:
		if s, ch := r.text(v.String()); ch {
			return slog.String(a.Key, s), true
		}
	case slog.KindGroup:
		if g, ch := r.attrs(v.Group()); ch {
			return slog.Attr{Key: a.Key, Value: slog.GroupValue(g...)}, true
		}
	case slog.KindAny:
		return slog.Attr{Key: a.Key, Value: r.any(v.Any())}, true
	}
	a.Value = v
	return a, changed
}

// attrs redacts a list of attributes. The input slice is never modified: when anything
// changes, a copy is returned.
func (r *redactor) attrs(as []slog.Attr) ([]slog.Attr, bool) {
	var out []slog.Attr
	for i, a := range as {
		b, ch := r.attr(a)
		if ch && out == nil {
			out = make([]slog.Attr, len(as))
			copy(out, as[:i])
		}
		if out != nil {
			out[i] = b
		}
	}
	if out == nil {
		return as, false
	}
	return out, true
}

// any redacts an slog.Any value. Types whose encoding we know keep their shape; any
// other value is rendered the way the sink would render it, then redacted as text.
func (r *redactor) any(x any) (v slog.Value) {
	defer func() {
		if p := recover(); p != nil { // a nil-receiver Error or String method
			v = slog.StringValue(fmt.Sprintf("!PANIC: %v", p))
		}
	}()
	switch x := x.(type) {
	case nil:
		return slog.AnyValue(nil)
	case error:
		return slog.StringValue(r.str(x.Error()))
	case json.RawMessage:
		return slog.AnyValue(json.RawMessage(r.bytes(x)))
	case []byte:
		return slog.StringValue(r.str(string(x)))
	case http.Header:
		return r.group(headerValue(x))
	case map[string][]string:
		return r.group(headerValue(x))
	case *url.URL:
		return slog.StringValue(r.str(x.String()))
	case url.URL:
		return slog.StringValue(r.str(x.String()))
	}
	return r.render(x)
}

// render formats x as the sink would (JSON for the JSON handler, MarshalText or %+v for
// the text handler) and redacts the result. JSON stays JSON: masks never contain
// characters that need escaping.
func (r *redactor) render(x any) slog.Value {
	if r.json {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false) // as slog's JSON handler
		if enc.Encode(x) == nil {
			return slog.AnyValue(json.RawMessage(r.bytes(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))))
		}
	}
	if tm, ok := x.(encoding.TextMarshaler); ok {
		if b, err := tm.MarshalText(); err == nil {
			return slog.StringValue(r.str(string(b)))
		}
	}
	return slog.StringValue(r.str(fmt.Sprintf("%+v", x)))
}

func (r *redactor) group(v slog.Value) slog.Value {
	g, _ := r.attrs(v.Group())
	return slog.GroupValue(g...)
}

// maskValue masks the value of a credential attribute whole. A value that is already
// a mask is kept, so that masking twice still shows the last 4 characters.
func maskValue(v slog.Value) string {
	var s string
	switch {
	case v.Kind() == slog.KindString:
		s = v.String()
	case v.Kind() == slog.KindAny:
		if ss, ok := v.Any().([]string); ok {
			s = strings.Join(ss, ", ")
		} else {
			s = v.String()
		}
	default:
		s = v.String()
	}
	if redact.IsMask(s) {
		return s
	}
	return config.Mask(s)
}
