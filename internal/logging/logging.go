// Package logging sets up the process logger, with credentials redacted at the sink,
// and assembles stream transcripts for response-body logs.
package logging

import (
	"context"
	"io"
	"log/slog"

	"github.com/llmrouter/llmrouter/internal/config"
)

// New returns the process logger: JSON (the default) or text per cfg.Format, at level
// cfg.Level, writing to w.
//
// Redaction happens in the handler, not at call sites, so a forgotten call site cannot
// leak a key. Before a record reaches the encoder, at any group depth and in
// attributes added by With:
//   - every occurrence of each secret (at least 8 bytes; see Scrub) in the message, in
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
// references; see Scrub). Masks show at most a key's last 4 characters. Limits: a
// secret hidden by another encoding (base64 of a []byte struct field) is not recognised.
func New(cfg config.Logging, w io.Writer, secrets []string) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.Level}
	var next slog.Handler
	json := cfg.Format != "text"
	if json {
		next = slog.NewJSONHandler(w, opts)
	} else {
		next = slog.NewTextHandler(w, opts)
	}
	return slog.New(&handler{next: next, r: newRedactor(secrets, json)})
}

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
