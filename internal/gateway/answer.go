package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/llmrouter/llmrouter/internal/anthropic"
	"github.com/llmrouter/llmrouter/internal/redact"
	"github.com/llmrouter/llmrouter/internal/translate"
	"github.com/llmrouter/llmrouter/internal/upstream"
)

// Non-streaming answers: relayed as they arrive when the protocols match, read
// whole (bounded) and translated when they differ.

// deliver answers a non-streaming request: bytes relayed as they come when the
// protocols match, else the whole body read, translated and written.
func (g *Gateway) deliver(ctx context.Context, w http.ResponseWriter, r *http.Request, x *exchange, rec *record, resp *http.Response, body io.Reader) outcome {
	if x.tr == nil {
		return g.relayBody(ctx, w, r, rec, resp, body, x)
	}
	b, over, err := readAnswer(body, maxAnswerBody)
	if err != nil {
		return outcome{retryable: x.t.model.Retry.OnNetworkError, err: readError(ctx, err)}
	}
	if over {
		return outcome{err: &apiError{Status: http.StatusBadGateway,
			Message: fmt.Sprintf("upstream answer is larger than the router accepts (%d bytes)", maxAnswerBody)}}
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

// readAnswer reads a whole body of at most limit bytes; over reports a larger one,
// of which limit+1 bytes were read. The body is read in pieces that grow from
// 16 KiB to 1 MiB and are joined once at the end: an oversized body costs limit
// bytes, not the several times limit that a growing buffer's copies cost, and an
// answer of a few kilobytes one small piece.
func readAnswer(r io.Reader, limit int) (b []byte, over bool, err error) {
	var pieces [][]byte
	total := 0
	for size := 16 << 10; ; size = min(2*size, 1<<20) {
		p := make([]byte, min(size, limit+1-total))
		n, err := io.ReadFull(r, p)
		total += n
		pieces = append(pieces, p[:n])
		switch {
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			if len(pieces) == 1 {
				return pieces[0], false, nil
			}
			return bytes.Join(pieces, nil), false, nil
		case err != nil:
			return nil, false, err
		case total > limit:
			return nil, true, nil
		}
	}
}

// relayBody copies a same-protocol response as it arrives, without holding it.
// Nothing is sent to the client before the body's first bytes have come and look
// like an answer (see answerStart): until then a stall, a reset or an odd body is
// a failed attempt that ends in a proper error, not a committed 200 that can only
// be cut.
func (g *Gateway) relayBody(ctx context.Context, w http.ResponseWriter, r *http.Request, rec *record, resp *http.Response, body io.Reader, x *exchange) outcome {
	buf := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(buf)
	n, rerr := readStart(body, *buf)
	if o, ok := g.answerStart(ctx, x, resp, (*buf)[:n], rerr); !ok {
		return o
	}
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
	_, err := dst.Write((*buf)[:n])
	if err == nil && rerr == nil {
		_, err = io.CopyBuffer(dst, body, *buf)
	}
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

// readStart reads the start of a body into buf: until it holds a byte other than
// JSON whitespace, the body ends or fails, or buf is full. The error is the
// read's (io.EOF when the body ended).
func readStart(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
		if len(bytes.TrimLeft(buf[:n], " \t\r\n")) > 0 {
			return n, nil
		}
	}
	return n, nil
}

// answerStart decides, from the first bytes of a same-protocol 2xx body, whether
// to relay it (ok) or to end the attempt with the outcome returned: a read that
// failed (stall: 504; reset: 502) or an empty body, retried like a stream that
// failed before its commit point; the provider's error object answered with a
// 2xx, handled as an in-band error before the commit point; a body that is no
// answer of the kind asked for (an HTML page, SSE to a non-streaming request, a
// wrong object): a 502, not retried.
func (g *Gateway) answerStart(ctx context.Context, x *exchange, resp *http.Response, first []byte, rerr error) (outcome, bool) {
	if rerr != nil && !errors.Is(rerr, io.EOF) {
		return outcome{retryable: x.t.model.Retry.OnNetworkError, err: readError(ctx, rerr)}, false
	}
	if len(bytes.TrimLeft(first, " \t\r\n")) == 0 {
		msg := fmt.Sprintf("upstream answered %d %s with an empty body", resp.StatusCode, http.StatusText(resp.StatusCode))
		return outcome{retryable: x.t.model.Retry.OnNetworkError, err: &apiError{Status: http.StatusBadGateway, Message: msg}}, false
	}
	countTokens := resp.Request != nil && strings.HasSuffix(resp.Request.URL.Path, anthropic.CountTokensPath)
	whole := rerr != nil || (resp.ContentLength == int64(len(first)) && !resp.Uncompressed)
	err := checkAnswerStart(x.up, countTokens, first, whole)
	if err == nil {
		return outcome{}, true
	}
	secrets := x.secrets(g)
	var se *translate.StreamError
	if errors.As(err, &se) {
		aerr := inBandAPIError(x.client, se, secrets)
		return outcome{retryable: upstream.RetryStatus(x.t.model.Retry, aerr.Status), err: aerr}, false
	}
	msg := redact.Scrub(err.Error(), secrets...)
	return outcome{err: &apiError{Status: http.StatusBadGateway, Message: msg, Err: err}}, false
}

// copyBufs recycles the buffers of relayed bodies: one per request otherwise.
// They are small and of one size; nothing an upstream sends makes them grow.
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
