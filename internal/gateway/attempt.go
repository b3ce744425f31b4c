package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/llmrouter/llmrouter/internal/config"
	"github.com/llmrouter/llmrouter/internal/redact"
	"github.com/llmrouter/llmrouter/internal/upstream"
)

// maxErrorBody bounds how much of an upstream error body is read and relayed.
const maxErrorBody = 1 << 20

// maxAnswerBody bounds a non-streaming answer that must be translated, the one
// body the router holds whole. Answers are kilobytes: 128k output tokens of text
// are under 1 MiB of JSON, an Ollama generate context of 128k tokens about as
// much. 8 MiB leaves room for both and caps what a misbehaving upstream makes the
// router hold per request; a larger answer is a 502 in the client's envelope, and
// its buffer is garbage once the attempt returns (it is never pooled).
const maxAnswerBody = 8 << 20

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
	cut        string // why body is not the whole error body; "" when it is
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
	// One context for all the attempts, cancelled with its cause: the total
	// timeout (a timer, not a second context), Stop (shutdown_grace expired).
	ctx, cancel := context.WithCancelCause(r.Context())
	defer cancel(nil)
	start := time.Now()
	deadline := start.Add(m.Timeouts.Total)
	total := time.AfterFunc(m.Timeouts.Total, func() { cancel(upstream.ErrTotalTimeout) })
	defer total.Stop()
	defer g.flight.leave(g.flight.join(cancel))
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
		wait, ok := g.nextWait(deadline, m.Retry, n, o)
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
func (g *Gateway) nextWait(deadline time.Time, p config.Retry, n int, o outcome) (time.Duration, bool) {
	if !o.retryable || n >= p.Attempts {
		return 0, false
	}
	wait := upstream.Backoff(p, n, nil)
	if o.retryAfter > 0 && p.RespectRetryAfter {
		wait = o.retryAfter
	}
	if time.Until(deadline) <= wait {
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
	if e := stoppedError(ctx, err); e != nil {
		return e
	}
	err = causeOf(ctx, err)
	if upstream.IsTimeout(err) {
		return &apiError{Status: http.StatusGatewayTimeout, Message: "upstream timed out: " + causeMessage(err), Err: err}
	}
	return &apiError{Status: http.StatusBadGateway, Message: "upstream unreachable: " + causeMessage(err), Err: err}
}

// causeOf returns why ctx was cancelled (idle or total timeout) when it was, for
// an error that only says the request was cancelled; else err.
func causeOf(ctx context.Context, err error) error {
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return cause
	}
	return err
}

// readError classifies a failure while reading an answer's body before any of
// it reached the client: 504 for the idle or total timeout, else 502.
func readError(ctx context.Context, err error) *apiError {
	if e := stoppedError(ctx, err); e != nil {
		return e
	}
	err = causeOf(ctx, err)
	if upstream.IsTimeout(err) {
		return &apiError{Status: http.StatusGatewayTimeout, Message: "upstream timed out before its answer was complete: " + causeMessage(err), Err: err}
	}
	return &apiError{Status: http.StatusBadGateway, Message: "upstream connection failed before its answer was complete: " + causeMessage(err), Err: err}
}

// upstreamError reads an upstream's error response (a status outside 2xx). The
// body is read up to maxErrorBody; a longer one is cut, and the cut loses the
// last bytes a secret could span, so that no key prefix is left for the
// scrubber to miss. A redirect is never followed nor relayed (the client would
// re-send its request, key included, where the upstream points), and an
// informational or unknown status is no answer either: both are a 502.
func (g *Gateway) upstreamError(x *exchange, resp *http.Response, body io.Reader) outcome {
	status := resp.StatusCode
	retry := upstream.RetryStatus(x.t.model.Retry, status)
	if status < 400 || status > 599 {
		return outcome{retryable: retry, err: &apiError{Status: http.StatusBadGateway,
			Message: fmt.Sprintf("upstream answered %d %s, which is not an answer (the router does not follow redirects)", status, http.StatusText(status))}}
	}
	// Scrubbed before it is cut: a key that crosses the cut is dropped whole.
	cr := &countReader{r: body}
	b, err := redact.ReadScrubbed(cr, maxErrorBody, x.secrets(g)...)
	o := outcome{status: status, header: resp.Header, retryable: retry, body: b}
	switch {
	case cr.n > maxErrorBody:
		o.cut = fmt.Sprintf("was larger than %d bytes", maxErrorBody)
	case err != nil:
		o.cut = "was cut while it was read: " + causeMessage(err)
	}
	if d, ok := upstream.RetryAfter(resp.Header, time.Now()); ok {
		o.retryAfter = d
	}
	return o
}

// fail sends the last attempt's failure to the client. An upstream HTTP error
// keeps its status; its body is relayed as it is (scrubbed of keys) only when it
// is a whole error in the client's own envelope, else its message is
// re-enveloped: an HTML page, plain text, another JSON shape, a cut body, or a
// different protocol's error. Retry hints and rate-limit headers go along,
// scrubbed like every relayed header.
func (g *Gateway) fail(w http.ResponseWriter, x *exchange, rec *record, o outcome) {
	secrets := x.secrets(g)
	if o.err != nil {
		// Err may quote the upstream (an in-band error echoing a key): scrubbed
		// for the log as the message is for the client.
		rec.errMsg = redact.Scrub(o.err.Error(), secrets...)
		writeError(w, x.client, o.err)
		return
	}
	body := redact.ScrubBytes(o.body, secrets...)
	g.logResponse(rec, body)
	copyErrorHeaders(w.Header(), o.header, secrets)
	rec.errMsg = fmt.Sprintf("upstream status %d", o.status)
	if o.cut != "" {
		rec.errMsg += ": error body " + o.cut
	}
	if x.client == x.up && o.cut == "" && clientEnvelope(x.client, body) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Del("Content-Length")
		w.WriteHeader(o.status)
		_, _ = w.Write(body)
		return
	}
	msg := upstreamMessage(x.up, o.status, o.header, body, o.cut, secrets)
	writeError(w, x.client, &apiError{Status: o.status, Message: msg})
}

// countReader counts the bytes read through it.
type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
