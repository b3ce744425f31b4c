package gateway

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/llmrouter/llmrouter/internal/logging"
	"github.com/llmrouter/llmrouter/internal/redact"
	"github.com/llmrouter/llmrouter/internal/translate"
)

// record collects what the access log line says about one request.
type record struct {
	id       string
	model    string
	provider string
	status   int // upstream status of the last attempt
	stream   bool
	attempts int
	tries    []tryLog  // every attempt: deployment, status or cause, duration
	firstTry [1]tryLog // tries' room for the usual one attempt, saving an allocation
	fallback string    // why the call moved to a fallback model, if it did
	dropped  []string
	ttfb     time.Duration
	usage    translate.Usage // the answer's token usage, as far as it was reported
	errMsg   string
	extra    []slog.Attr // body and header logging, when enabled
	secrets  []string    // this request's credentials, masked in its log line
	key      *routerKey  // the router key it authenticated with (keys.go); nil: none
	obs      observation // its metrics and traces (observe.go)

	// secretsArr is secrets' room for the usual few (a key with and without its
	// scheme, on either side), and idValue the X-Request-Id header's value: both
	// save allocations.
	secretsArr [4]string
	idValue    [1]string
}

// exchange is what the router keeps of one request, allocated in one piece by
// the middleware: the access log's record, the writer that watches the status,
// and the call an endpoint makes of the request (call.go).
type exchange struct {
	rec  record
	sw   statusWriter
	call call
}

// exchangeOf returns the exchange of the request w answers, or a new one for a
// request that did not come through the middleware. The handlers below the
// middleware get its statusWriter, or a writer wrapping it (observe's): the
// exchange is found through it rather than in the request's context, which
// would take a copy of the request and a context per request.
func exchangeOf(w http.ResponseWriter) *exchange {
	for {
		switch v := w.(type) {
		case *statusWriter:
			if v.x != nil {
				return v.x
			}
			return &exchange{}
		case interface{ Unwrap() http.ResponseWriter }:
			w = v.Unwrap()
		default:
			return &exchange{}
		}
	}
}

// recordOf returns the record of the request w answers (see exchangeOf).
func recordOf(w http.ResponseWriter) *record { return &exchangeOf(w).rec }

// statusWriter remembers the status and counts the bytes written to the client.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
	x      *exchange // the exchange it is part of (exchangeOf)
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach Flush and SetWriteDeadline.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// middleware assigns the request id, writes one access-log line per request and
// turns a panic into a 500 in the client's envelope (never a stack with secrets).
func (g *Gateway) middleware(p envelope, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		x := &exchange{rec: record{id: requestID(r.Header.Get("X-Request-Id"))}, sw: statusWriter{ResponseWriter: w}}
		rec, sw := &x.rec, &x.sw
		sw.x = x
		rec.idValue[0] = rec.id
		w.Header()["X-Request-Id"] = rec.idValue[:]
		g.bodyDeadline(sw, r)
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					rec.errMsg = "aborted"
					g.access(r, rec, sw, start)
					panic(v)
				}
				rec.errMsg = "internal error (panic)"
				if sw.status == 0 {
					writeError(sw, p, errorf(http.StatusInternalServerError, "internal error"))
				}
			}
			g.access(r, rec, sw, start)
		}()
		if aerr := requestBounds(r); aerr != nil {
			rec.errMsg = aerr.Error()
			refuse(sw, p, aerr)
			return
		}
		next.ServeHTTP(sw, r) // the handlers find x through sw (exchangeOf)
	})
}

// Bounds on what a client may send besides its body, checked before anything
// else. net/http bounds the header block (Server.MaxHeaderBytes); these bound
// what would be forwarded: Envoy's default header count, and a query string as
// long as nginx's default request line.
const (
	maxHeaderFields = 100
	maxQueryBytes   = 8 << 10
)

// requestBounds returns a 431 or 414 for a request with too many header fields
// or too long a query string.
func requestBounds(r *http.Request) *apiError {
	if len(r.URL.RawQuery) > maxQueryBytes {
		return errorf(http.StatusRequestURITooLong, fmt.Sprintf("query string exceeds %d bytes", maxQueryBytes))
	}
	n := 0
	for _, v := range r.Header {
		n += len(v)
	}
	if n > maxHeaderFields {
		return errorf(http.StatusRequestHeaderFieldsTooLarge, fmt.Sprintf("request has %d header fields; at most %d are accepted", n, maxHeaderFields))
	}
	return nil
}

// bodyDeadline gives a request's body server.body_timeout to arrive, from the
// start of the handler, before authentication: net/http reads the unread body of
// a small request before it answers (a 401 included), so a stalled body would
// otherwise hold the connection forever. The deadline is lifted once the body is
// read (clearBodyDeadline). It is per request rather than http.Server.ReadTimeout,
// a server-wide deadline on the connection, so that only a request with a body
// gets one and the response never depends on net/http lifting it. On a
// connection from Listener it is put on the connection only if the body is read
// from it (see bodyWait).
func (g *Gateway) bodyDeadline(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength == 0 || g.cfg.Server.BodyTimeout <= 0 {
		return // no body (http.NoBody): nothing to wait for
	}
	due := time.Now().Add(g.cfg.Server.BodyTimeout)
	if c := connOf(r); c != nil {
		c.awaitBody(due)
		return
	}
	_ = http.NewResponseController(w).SetReadDeadline(due)
}

// refuse answers an error before the body is read, closing the connection:
// reading a refused request's body only to keep the connection is not worth it.
func refuse(w http.ResponseWriter, p envelope, e *apiError) {
	w.Header().Set("Connection", "close")
	writeError(w, p, e)
}

func (g *Gateway) access(r *http.Request, rec *record, sw *statusWriter, start time.Time) {
	g.observed(r, rec, sw) // metrics and the server span end with the access log
	if !g.log.Enabled(r.Context(), slog.LevelInfo) {
		return
	}
	status := sw.status
	if status == 0 && r.Context().Err() != nil {
		status = 499 // client closed the request before any answer
	}
	attrs := []slog.Attr{
		slog.String("request_id", rec.id),
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.Int("status", status),
		slog.String("model", rec.model),
		slog.String("provider", rec.provider),
		slog.Int("upstream_status", rec.status),
		slog.Bool("stream", rec.stream),
		slog.Int("attempts", rec.attempts),
		slog.Float64("duration_ms", ms(time.Since(start))),
		slog.Float64("ttfb_ms", ms(rec.ttfb)),
		slog.Int64("bytes_out", sw.bytes),
	}
	attrs = keyAttr(attrs, rec.key) // keys.go: the key's name, never the key
	attrs = routeAttrs(attrs, rec)
	attrs = usageAttrs(attrs, rec.usage)
	if len(rec.dropped) > 0 {
		attrs = append(attrs, slog.String("dropped", strings.Join(rec.dropped, ",")))
	}
	if rec.errMsg != "" {
		attrs = append(attrs, slog.String("error", redact.Scrub(rec.errMsg, rec.secrets...)))
	}
	attrs = append(attrs, logging.ScrubAttrs(rec.extra, rec.secrets...)...)
	g.log.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
}

// usageAttrs adds a request's token usage to its access-log line, when the answer
// reported any: input_tokens and output_tokens, and the cache and reasoning counts
// they include when not zero.
func usageAttrs(attrs []slog.Attr, u translate.Usage) []slog.Attr {
	if u == (translate.Usage{}) {
		return attrs
	}
	attrs = append(attrs, slog.Int64("input_tokens", u.Input), slog.Int64("output_tokens", u.Output))
	for _, c := range []struct {
		key string
		n   int64
	}{{"cache_read_tokens", u.CacheRead}, {"cache_write_tokens", u.CacheWrite}, {"reasoning_tokens", u.Reasoning}} {
		if c.n != 0 {
			attrs = append(attrs, slog.Int64(c.key, c.n))
		}
	}
	return attrs
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// requestID keeps a client's id when it is short and printable, else makes one.
func requestID(client string) string {
	if client != "" && len(client) <= 128 && printable(client) {
		return client
	}
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "req_" + hex.EncodeToString(b[:])
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
