package gateway

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"

	"github.com/llmrouter/llmrouter/internal/logging"
	"github.com/llmrouter/llmrouter/internal/redact"
	"github.com/llmrouter/llmrouter/internal/sse"
)

// logRequest adds the request headers and body to the access-log record when
// logging.request_headers / request_body are on. The log sink masks credentials.
func (g *Gateway) logRequest(rec *record, r *http.Request, body []byte) {
	lc := g.cfg.Logging
	if lc.RequestHeaders {
		rec.extra = append(rec.extra, logging.HeaderAttr("request_headers", r.Header))
	}
	if lc.RequestBody {
		rec.extra = append(rec.extra, slog.String("request_body", redact.Truncate(body, lc.MaxBodyBytes, g.logSecrets(rec)...)))
	}
}

// logSecrets are the secrets a logged body is scrubbed of before it is cut to
// max_body_bytes: the sink and ScrubAttrs scrub the log line again, but only a
// whole secret can be found, and a cut may have split one (redact.Truncate).
func (g *Gateway) logSecrets(rec *record) []string {
	return append(slices.Clip(g.secrets), rec.secrets...)
}

// logUpstreamHeaders records the headers sent upstream (credentials masked).
func (g *Gateway) logUpstreamHeaders(rec *record, h http.Header) {
	if g.cfg.Logging.RequestHeaders {
		rec.extra = append(rec.extra, logging.HeaderAttr("upstream_request_headers", h))
	}
}

// logResponse records a non-streaming response body, truncated.
func (g *Gateway) logResponse(rec *record, body []byte) {
	if lc := g.cfg.Logging; lc.ResponseBody {
		rec.extra = append(rec.extra, slog.String("response_body", redact.Truncate(body, lc.MaxBodyBytes, g.logSecrets(rec)...)))
	}
}

// logRelayed records a relayed response body kept by a capBuffer.
func (g *Gateway) logRelayed(rec *record, c *capBuffer) {
	rec.extra = append(rec.extra, slog.String("response_body", c.text(g.logSecrets(rec))))
}

// capBuffer keeps the start of what is written to it and counts the rest, so a
// logged passthrough body costs bounded memory and its log still says how much
// was cut, as redact.Truncate does for bodies held whole. It keeps
// redact.MaxLookahead bytes beyond max, so that a secret crossing the cut is
// still seen whole and masked.
type capBuffer struct {
	buf   bytes.Buffer
	max   int64
	total int64
}

func (c *capBuffer) Write(p []byte) (int, error) {
	c.total += int64(len(p))
	if room := c.max + redact.MaxLookahead - int64(c.buf.Len()); room > 0 {
		c.buf.Write(p[:min(int64(len(p)), room)])
	}
	return len(p), nil
}

// text is the kept body with secrets masked, cut to max bytes as redact.Truncate
// cuts, and followed by "…(truncated N bytes)" when anything was cut, N counting
// every byte not shown.
func (c *capBuffer) text(secrets []string) string {
	return redact.TruncateStart(c.buf.Bytes(), c.total, c.max, secrets...)
}

// streamLog assembles what a stream told the client (text, tool calls, finish,
// usage) for the log, rather than logging raw events.
type streamLog struct {
	t *logging.Transcript
}

func (g *Gateway) newStreamLog(p logging.Dialect) *streamLog {
	if lc := g.cfg.Logging; lc.ResponseBody {
		return &streamLog{t: logging.NewTranscript(p, lc.MaxBodyBytes)}
	}
	return nil
}

// add feeds client-bound bytes (whole SSE events) to the transcript.
func (s *streamLog) add(b []byte) {
	if s == nil || len(b) == 0 {
		return
	}
	rd := sse.NewReader(bytes.NewReader(b), len(b)+1)
	for {
		ev, err := rd.Next()
		if err != nil {
			return
		}
		s.t.Add(ev)
	}
}

func (s *streamLog) attr() (slog.Attr, bool) {
	if s == nil {
		return slog.Attr{}, false
	}
	return slog.Any("response_body", json.RawMessage(s.t.JSON())), true
}
