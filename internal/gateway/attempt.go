package gateway

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/llmrouter/llmrouter/internal/anthropic"
	"github.com/llmrouter/llmrouter/internal/config"
	"github.com/llmrouter/llmrouter/internal/logging"
	"github.com/llmrouter/llmrouter/internal/ollama"
	"github.com/llmrouter/llmrouter/internal/openai"
	"github.com/llmrouter/llmrouter/internal/upstream"
	"github.com/llmrouter/llmrouter/internal/wire"
)

// maxErrorBody bounds how much of an upstream error body is read and relayed.
const maxErrorBody = 1 << 20

// maxResponseBody bounds a non-streaming response that must be translated.
const maxResponseBody = 64 << 20

// outcome is how one attempt ended. done: the client has its answer (or is gone);
// otherwise the attempt failed before anything reached the client, and the failure
// is either an upstream HTTP error (status/header/body) or err.
type outcome struct {
	done       bool
	retryable  bool
	retryAfter time.Duration
	status     int
	header     http.Header
	body       []byte
	err        *apiError
}

// run makes the attempts. The retry policy, written out (cf. Caddy's reverse proxy):
// a failure before any response byte (connect refused or reset, connect or
// first-byte timeout) is safe to retry when on_network_error is set; an upstream
// status in on_status is retried, never 400/401/403/404/422; a stream that fails
// before its first content event (the commit point) is retried; once a byte has
// reached the client nothing is retried. Every attempt sends identical bytes.
func (g *Gateway) run(w http.ResponseWriter, r *http.Request, x *exchange, rec *record) {
	m := x.t.model
	ctx, cancel := context.WithTimeoutCause(r.Context(), m.Timeouts.Total, upstream.ErrTotalTimeout)
	defer cancel()
	start := time.Now()
	for n := 1; ; n++ {
		rec.attempts = n
		w.Header().Set("X-Llmrouter-Attempts", strconv.Itoa(n))
		o := g.attempt(ctx, w, r, x, rec, start)
		if o.done {
			return
		}
		if r.Context().Err() != nil {
			rec.errMsg = "client went away"
			return
		}
		wait, ok := g.nextWait(ctx, m.Retry, n, o)
		if !ok || !upstream.Sleep(ctx, wait) {
			if r.Context().Err() != nil {
				rec.errMsg = "client went away during backoff"
				return
			}
			g.fail(w, x, rec, o)
			return
		}
	}
}

// nextWait decides whether attempt n+1 happens and after how long. A Retry-After
// that does not fit in what is left of the total deadline sends the failure (a 429
// with its Retry-After) back to the client at once.
func (g *Gateway) nextWait(ctx context.Context, p config.Retry, n int, o outcome) (time.Duration, bool) {
	if !o.retryable || n >= p.Attempts {
		return 0, false
	}
	wait := upstream.Backoff(p, n, nil)
	if o.retryAfter > 0 && p.RespectRetryAfter {
		wait = o.retryAfter
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= wait {
		return 0, false
	}
	return wait, true
}

// attempt sends the request once and delivers the answer if it can.
func (g *Gateway) attempt(ctx context.Context, w http.ResponseWriter, r *http.Request, x *exchange, rec *record, start time.Time) outcome {
	actx, acancel := context.WithCancelCause(ctx)
	defer acancel(nil)
	req, err := http.NewRequestWithContext(actx, http.MethodPost, x.url, bytes.NewReader(x.body))
	if err != nil {
		return outcome{err: &apiError{Status: http.StatusInternalServerError, Message: "building upstream request failed", Err: err}}
	}
	req.Header = x.header
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(x.body)), nil }
	resp, err := x.t.transport.RoundTrip(req)
	if err != nil {
		return outcome{retryable: x.t.model.Retry.OnNetworkError, err: transportError(actx, err)}
	}
	defer resp.Body.Close()
	rec.status = resp.StatusCode
	idle := upstream.NewIdleReader(resp.Body, x.t.model.Timeouts.Idle, acancel)
	defer idle.Stop()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return g.upstreamError(x, resp, idle)
	}
	rec.ttfb = time.Since(start)
	if x.stream {
		return g.relayStream(actx, w, r, x, rec, resp, idle)
	}
	return g.deliver(actx, w, r, x, rec, resp, idle)
}

// transportError classifies a failure before any response: 504 for timeouts, 502
// for refused, reset or TLS failures. The message omits the URL.
func transportError(ctx context.Context, err error) *apiError {
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		err = cause
	}
	if upstream.IsTimeout(err) {
		return &apiError{Status: http.StatusGatewayTimeout, Message: "upstream timed out: " + causeMessage(err), Err: err}
	}
	return &apiError{Status: http.StatusBadGateway, Message: "upstream unreachable: " + causeMessage(err), Err: err}
}

func (g *Gateway) upstreamError(x *exchange, resp *http.Response, body io.Reader) outcome {
	b, _ := io.ReadAll(io.LimitReader(body, maxErrorBody))
	o := outcome{status: resp.StatusCode, header: resp.Header, body: b,
		retryable: upstream.RetryStatus(x.t.model.Retry, resp.StatusCode)}
	if d, ok := upstream.RetryAfter(resp.Header, time.Now()); ok {
		o.retryAfter = d
	}
	return o
}

// fail sends the last attempt's failure to the client: an upstream HTTP error keeps
// its status and message (re-enveloped when protocols differ, scrubbed of keys).
func (g *Gateway) fail(w http.ResponseWriter, x *exchange, rec *record, o outcome) {
	if o.err != nil {
		// Err may quote the upstream (an in-band error echoing a key): scrubbed
		// for the log as the message is for the client.
		rec.errMsg = logging.Scrub(o.err.Error(), x.secrets(g)...)
		writeError(w, x.client, o.err)
		return
	}
	body := logging.ScrubJSON(o.body, x.secrets(g)...)
	g.logResponse(rec, body)
	for _, name := range []string{"Retry-After", "Retry-After-Ms", "X-Should-Retry"} {
		if v := o.header.Get(name); v != "" {
			w.Header().Set(name, v)
		}
	}
	rec.errMsg = fmt.Sprintf("upstream status %d", o.status)
	if x.client == x.up {
		// An error without a Content-Type must not go out with an empty one.
		w.Header().Set("Content-Type", cmp.Or(o.header.Get("Content-Type"), "application/json"))
		w.WriteHeader(o.status)
		_, _ = w.Write(body)
		return
	}
	writeError(w, x.client, &apiError{Status: o.status, Message: upstreamMessage(x.up, o.status, body)})
}

// upstreamMessage extracts the human message of an upstream error body.
func upstreamMessage(up wire.Protocol, status int, body []byte) string {
	var msg string
	var ok bool
	switch up {
	case wire.AnthropicMessages:
		_, msg, ok = anthropic.ParseError(body)
	case wire.OllamaChat, wire.OllamaGenerate:
		msg, ok = ollama.ParseError(body)
	default:
		_, msg, ok = openai.ParseError(body)
	}
	if !ok || msg == "" {
		msg = strings.TrimSpace(string(body))
		if msg == "" {
			msg = http.StatusText(status)
		}
	}
	return msg
}

// deliver answers a non-streaming request: bytes relayed as they come when the
// protocols match, else the whole body read, translated and written.
func (g *Gateway) deliver(ctx context.Context, w http.ResponseWriter, r *http.Request, x *exchange, rec *record, resp *http.Response, body io.Reader) outcome {
	if x.tr == nil {
		return g.relayBody(w, r, rec, resp, body, x)
	}
	b, err := io.ReadAll(io.LimitReader(body, maxResponseBody))
	if err != nil {
		return outcome{retryable: x.t.model.Retry.OnNetworkError, err: transportError(ctx, err)}
	}
	out, err := x.tr.Response(b)
	if err != nil {
		// A 200 that is not an answer (another shape, an error object) is the
		// upstream's failure, retried like a 502 from it; nothing was sent yet.
		return outcome{retryable: upstream.RetryStatus(x.t.model.Retry, http.StatusBadGateway),
			err: &apiError{Status: http.StatusBadGateway, Message: "upstream response could not be translated", Err: err}}
	}
	copyResponseHeaders(w.Header(), resp, true, x.secrets(g))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = clientWriter(w, x.t.model.Timeouts.Idle).Write(out)
	g.logResponse(rec, out)
	return outcome{done: true}
}

// relayBody copies a same-protocol response as it arrives, without holding it.
func (g *Gateway) relayBody(w http.ResponseWriter, r *http.Request, rec *record, resp *http.Response, body io.Reader, x *exchange) outcome {
	copyResponseHeaders(w.Header(), resp, false, x.secrets(g))
	if resp.ContentLength >= 0 && !resp.Uncompressed {
		w.Header().Set("Content-Length", strconv.FormatInt(resp.ContentLength, 10))
	}
	w.WriteHeader(resp.StatusCode)
	dst := clientWriter(w, x.t.model.Timeouts.Idle)
	var logged *capBuffer
	if lc := g.cfg.Logging; lc.ResponseBody {
		logged = &capBuffer{max: lc.MaxBodyBytes}
		dst = io.MultiWriter(dst, logged)
	}
	buf := copyBufs.Get().(*[]byte)
	_, err := io.CopyBuffer(dst, body, *buf)
	copyBufs.Put(buf)
	if err != nil {
		if r.Context().Err() != nil {
			rec.errMsg = "client went away"
			return outcome{done: true}
		}
		// A cut response must not look complete, whatever cut it: a reset, or the
		// idle or total timeout, which cancel the attempt's context (so that
		// context's state says nothing about the client).
		panic(http.ErrAbortHandler)
	}
	if logged != nil {
		g.logRelayed(rec, logged)
	}
	return outcome{done: true}
}

// copyBufs recycles the buffers of relayed bodies: one per request otherwise.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 16<<10); return &b }}

// clientWriter gives every write to the client the idle timeout as its deadline,
// as the stream relay does: a client that stops reading a non-streaming answer
// cannot hold the handler (and, through it, the upstream connection) forever,
// since the server has no WriteTimeout (it would cut long streams).
func clientWriter(w http.ResponseWriter, idle time.Duration) io.Writer {
	if idle <= 0 {
		return w
	}
	return deadlineWriter{w: w, rc: http.NewResponseController(w), d: idle}
}

type deadlineWriter struct {
	w  io.Writer
	rc *http.ResponseController
	d  time.Duration
}

func (d deadlineWriter) Write(p []byte) (int, error) {
	_ = d.rc.SetWriteDeadline(time.Now().Add(d.d))
	return d.w.Write(p)
}

// copyResponseHeaders relays the upstream's end-to-end response headers, with any
// of secrets an upstream echoes masked. A translated response keeps only rate-limit
// and retry hints: the rest describe a body the client does not get.
func copyResponseHeaders(dst http.Header, resp *http.Response, translated bool, secrets []string) {
	for name, v := range resp.Header {
		if (translated && !keptWhenTranslated(name)) || name == "X-Request-Id" {
			continue // ours identifies the request to the client
		}
		dst[name] = scrubValues(v, secrets)
	}
	removeHopByHop(dst)
	dst.Del("Content-Length")
	if resp.Uncompressed {
		dst.Del("Content-Encoding")
	}
}

// scrubValues returns vs, or a copy with every secret masked when one appears.
func scrubValues(vs []string, secrets []string) []string {
	for i, v := range vs {
		if s := logging.Scrub(v, secrets...); s != v {
			out := slices.Clone(vs)
			out[i] = s
			for j := i + 1; j < len(out); j++ {
				out[j] = logging.Scrub(out[j], secrets...)
			}
			return out
		}
	}
	return vs
}

func keptWhenTranslated(name string) bool {
	n := strings.ToLower(name)
	return strings.HasPrefix(n, "x-ratelimit-") || strings.HasPrefix(n, "anthropic-ratelimit-") ||
		n == "retry-after" || n == "retry-after-ms"
}
