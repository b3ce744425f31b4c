// Package logging sets up the process logger, with credentials redacted at the sink,
// and assembles stream transcripts for response-body logs.
package logging

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/llmrouter/llmrouter/internal/config"
	"github.com/llmrouter/llmrouter/internal/redact"
)

// New returns the process logger: JSON (the default) or text per cfg.Format, at level
// cfg.Level, writing to w.
//
// Redaction happens in the handler, not at call sites, so a forgotten call site cannot
// leak a key. Before a record reaches the encoder, at any group depth and in
// attributes added by With:
//   - every occurrence of each secret (at least 8 bytes; see redact.Scrub) in the message, in
//     attribute keys and group names, in string values and in the text of errors, byte
//     slices, json.RawMessage and other slog.Any values is replaced by config.Mask(secret);
//   - in the message and in those values, the values of URL query or fragment parameters
//     key, api_key, api-key, apikey, token and access_token, URL userinfo passwords, and
//     "Bearer <token>" tokens are masked, so that credentials that are not configured
//     secrets (a client's passthrough key) are masked too;
//   - an attribute whose key is a credential header name (see HeaderAttr) is masked
//     whole, whatever its length, so short secrets are masked there as well;
//   - an http.Header value becomes a group with credential headers masked.
//
// Secrets are also found where escapes spell them (JSON, percent-encoding, HTML
// references; see redact.Scrub). Masks show at most a key's last 4 characters. Limits: a
// secret hidden by another encoding (base64 of a []byte struct field) is not recognised.
func New(cfg config.Logging, w io.Writer, secrets []string) *slog.Logger {
	l, _ := NewLive(cfg, w, secrets)
	return l
}

// NewLive is New for a logger that follows config reloads through the Live it
// also returns: its level can change and the secrets it masks can grow.
func NewLive(cfg config.Logging, w io.Writer, secrets []string) (*slog.Logger, *Live) {
	live := &Live{level: new(slog.LevelVar)}
	live.level.Set(cfg.Level)
	opts := &slog.HandlerOptions{Level: live.level}
	var next slog.Handler
	json := cfg.Format != "text"
	if json {
		next = slog.NewJSONHandler(w, opts)
	} else {
		next = slog.NewTextHandler(w, opts)
	}
	live.r = newRedactor(secrets, json)
	return slog.New(&handler{next: next, r: live.r}), live
}

// Live changes a running logger from NewLive, and every logger derived from it
// (With, WithGroup). Its format is fixed: a new one needs a new logger.
type Live struct {
	level *slog.LevelVar
	r     *redactor
	mu    sync.Mutex // serialises Learn
}

// Learn adds secrets to those the logger masks. Secrets are never removed: a key
// a reload takes out of the config stays masked, for the lines of requests still
// using it and for good. Once Learn returns, every line logged is masked of them.
func (l *Live) Learn(secrets []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.r.secrets.Store(l.r.secrets.Load().Union(secrets))
}

// SetLevel changes the lowest level logged.
func (l *Live) SetLevel(level slog.Level) { l.level.Set(level) }

// handler is a slog.Handler that redacts every record and attribute before passing it
// to the wrapped JSON or text handler.
type handler struct {
	next slog.Handler
	r    *redactor
}

// Enabled reports whether the wrapped handler handles level.
func (h *handler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

// Handle redacts the record's message and attributes. A record with nothing to redact
// is passed on as it is, without a copy.
func (h *handler) Handle(ctx context.Context, rec slog.Record) error {
	msg, changed := h.r.text(rec.Message)
	var buf [16]slog.Attr
	attrs := buf[:0]
	rec.Attrs(func(a slog.Attr) bool {
		a, ch := h.r.attr(a)
		changed = changed || ch
		attrs = append(attrs, a)
		return true
	})
	if !changed {
		return h.next.Handle(ctx, rec)
	}
	out := slog.NewRecord(rec.Time, rec.Level, msg, rec.PC)
	out.AddAttrs(attrs...)
	return h.next.Handle(ctx, out)
}

// WithAttrs redacts attrs once, when they are attached.
func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	attrs, _ = h.r.attrs(attrs)
	return &handler{next: h.next.WithAttrs(attrs), r: h.r}
}

// WithGroup opens a group on the wrapped handler.
func (h *handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	name, _ = h.r.scrub(name)
	return &handler{next: h.next.WithGroup(name), r: h.r}
}

// HeaderAttr renders h as a group attribute named key: one string per header, names
// sorted, repeated values joined with ", ". Secret headers (redact.SecretHeader: Authorization,
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
		if redact.SecretHeader(name) {
			v = config.Mask(v)
		}
		attrs = append(attrs, slog.String(name, v))
	}
	return slog.GroupValue(attrs...)
}

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
		return slog.String(a.Key, redact.Scrub(a.Value.String(), secrets...))
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
		return slog.AnyValue(json.RawMessage(redact.ScrubBytes(x, secrets...)))
	case []byte:
		text = string(x)
	case error:
		text = x.Error()
	case fmt.Stringer:
		text = x.String()
	default:
		text = fmt.Sprintf("%+v", v)
	}
	if s := redact.Scrub(text, secrets...); s != text {
		return slog.StringValue(s)
	}
	return slog.AnyValue(v)
}
