package gateway

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/llmrouter/llmrouter/internal/health"
	"github.com/llmrouter/llmrouter/internal/redact"
	"github.com/llmrouter/llmrouter/internal/translate"
	"github.com/llmrouter/llmrouter/internal/upstream"
	"github.com/llmrouter/llmrouter/internal/wire"
	"github.com/tidwall/gjson"
)

// Non-streaming answers: relayed as they arrive when the protocols match, read
// whole (bounded) and translated when they differ.

// answerReader is what judging an upstream's non-streaming answer and error bodies
// needs of its protocol.
type answerReader interface {
	// ParseError reads an error body of the protocol; ok is false when it is not one.
	ParseError(body []byte) (typ, message string, ok bool)
	// Answer names what marks an answer of op: the member holding its kind (empty:
	// none to check), the kind wanted (empty: any), and the member a whole answer
	// has (a path gjson reads).
	Answer(op wire.Operation) (marker, want, member string)
	// ErrorClass reads an error body, or an in-band error's data, for where else
	// the request could succeed: a context-window overflow, a content-policy
	// refusal (from the provider's error code or type), else by status. status is
	// the HTTP status, or for an in-band error the status its type stands for.
	ErrorClass(status int, body []byte) wire.ErrorClass
}

// maxAnswerBody bounds a non-streaming answer that must be translated, the one
// body the router holds whole. Answers are kilobytes: 128k output tokens of text
// are under 1 MiB of JSON, an Ollama generate context of 128k tokens about as
// much. 8 MiB leaves room for both and caps what a misbehaving upstream makes the
// router hold per request; a larger answer is a 502 in the client's envelope, and
// its buffer is garbage once the attempt returns (it is never pooled).
const maxAnswerBody = 8 << 20

// deliver answers a non-streaming request: bytes relayed as they come when the
// protocols match, else the whole body read, translated and written.
func (a *attempt) deliver() outcome {
	if a.tr == nil {
		return a.relayBody()
	}
	m := a.out.t.model
	b, over, err := readAnswer(a.idle, maxAnswerBody)
	if err != nil {
		return outcome{retryable: m.Retry.OnNetworkError, err: readError(a.ctx, err), cause: a.c.errCause(a.ctx, err)}
	}
	if over {
		return outcome{cause: health.BadResponse, err: &apiError{Status: http.StatusBadGateway,
			Message: fmt.Sprintf("upstream answer is larger than the router accepts (%d bytes)", maxAnswerBody)}}
	}
	a.c.rec.obs.event(a.out.up, b) // the answer's model and finish reasons, for traces (observe.go)
	out, err := a.tr.Response(b)
	if err != nil {
		// A 200 that is not an answer (another shape, an error object) is the
		// upstream's failure, retried like a 502 from it; nothing was sent yet.
		o := outcome{retryable: upstream.RetryStatus(m.Retry, http.StatusBadGateway), cause: health.BadResponse,
			err: &apiError{Status: http.StatusBadGateway, Message: "upstream response could not be translated", Err: err}}
		var se *translate.StreamError
		if errors.As(err, &se) { // the provider's error object, answered with a 2xx
			o.class = inBandClass(a.out.up, se, b)
			o.cause = inBandCause(o.class)
		}
		return o
	}
	c := a.c
	c.committed()
	c.rec.usage = a.tr.Usage()
	copyResponseHeaders(c.w.Header(), a.resp, true, c.secrets())
	c.w.Header().Set("Content-Type", "application/json")
	c.w.WriteHeader(http.StatusOK)
	_, _ = c.clientWriter(m.Timeouts.Idle).Write(out)
	c.g.logResponse(c.rec, out)
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

// relayBody copies a same-protocol response as it arrives, without holding it,
// watching only for the members that carry its usage (usageTap). Nothing is sent
// to the client before the body's first bytes have come and look like an answer
// (see answerStart): until then a stall, a reset or an odd body is a failed
// attempt that ends in a proper error, not a committed 200 that can only be cut.
func (a *attempt) relayBody() outcome {
	c := a.c
	buf := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(buf)
	n, rerr := readStart(a.idle, *buf)
	if o, ok := a.answerStart((*buf)[:n], rerr); !ok {
		return o
	}
	c.committed()
	copyResponseHeaders(c.w.Header(), a.resp, false, c.secrets())
	if a.resp.ContentLength >= 0 && !a.resp.Uncompressed {
		c.w.Header().Set("Content-Length", strconv.FormatInt(a.resp.ContentLength, 10))
	}
	c.w.WriteHeader(a.resp.StatusCode)
	dst := c.clientWriter(a.out.t.model.Timeouts.Idle)
	var logged *capBuffer
	if lc := c.g.cfg.Logging; lc.ResponseBody {
		logged = &capBuffer{max: lc.MaxBodyBytes}
		dst = io.MultiWriter(dst, logged)
	}
	dst = c.rec.obs.tee(dst) // the answer's head, for traces (observe.go)
	tap := taps.Get().(*usageTap)
	defer taps.Put(tap)
	tap.start(a.out.up.UsageMembers())
	err := copyWatched(dst, a.idle, (*buf)[:n], rerr, *buf, tap)
	if err != nil {
		if c.r.Context().Err() != nil {
			c.rec.errMsg = "client went away"
			return outcome{done: true}
		}
		// A cut response must not look complete, whatever cut it: a reset, or the
		// idle or total timeout, which cancel the attempt's context (so that
		// context's state says nothing about the client).
		c.rec.obs.broke(a.ctx, err) // an error after the answer began (observe.go)
		c.broke(c.errCause(a.ctx, err))
		panic(http.ErrAbortHandler)
	}
	c.rec.usage = tap.usage(a.out.up)
	if logged != nil {
		c.g.logRelayed(c.rec, logged)
	}
	return outcome{done: true}
}

// copyWatched writes first (already read; rerr is the error of that read) and
// then the rest of body to dst, through buf, showing every byte to tap.
func copyWatched(dst io.Writer, body io.Reader, first []byte, rerr error, buf []byte, tap *usageTap) error {
	tap.scan(first)
	if _, err := dst.Write(first); err != nil || rerr != nil {
		return err
	}
	for {
		n, err := body.Read(buf)
		if n > 0 {
			tap.scan(buf[:n])
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
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
func (a *attempt) answerStart(first []byte, rerr error) (outcome, bool) {
	retry := a.out.t.model.Retry
	if rerr != nil && !errors.Is(rerr, io.EOF) {
		return outcome{retryable: retry.OnNetworkError, err: readError(a.ctx, rerr), cause: a.c.errCause(a.ctx, rerr)}, false
	}
	if len(bytes.TrimLeft(first, " \t\r\n")) == 0 {
		msg := fmt.Sprintf("upstream answered %d %s with an empty body", a.resp.StatusCode, http.StatusText(a.resp.StatusCode))
		return outcome{retryable: retry.OnNetworkError, cause: health.NetworkError, err: &apiError{Status: http.StatusBadGateway, Message: msg}}, false
	}
	whole := rerr != nil || (a.resp.ContentLength == int64(len(first)) && !a.resp.Uncompressed)
	err := checkAnswerStart(a.out.up, a.c.ep.op, first, whole)
	if err == nil {
		return outcome{}, true
	}
	secrets := a.c.secrets()
	var se *translate.StreamError
	if errors.As(err, &se) {
		aerr := inBandAPIError(a.c.ep.client, se, secrets)
		class := inBandClass(a.out.up, se, first)
		return outcome{retryable: upstream.RetryStatus(retry, aerr.Status), err: aerr, class: class, cause: inBandCause(class)}, false
	}
	msg := redact.Scrub(err.Error(), secrets...)
	return outcome{cause: health.BadResponse, err: &apiError{Status: http.StatusBadGateway, Message: msg, Err: err}}, false
}

// errNotAnswer is a 2xx body that is not an answer of the kind asked for.
type errNotAnswer struct{ what string }

func (e *errNotAnswer) Error() string { return "upstream answer is not a response: " + e.what }

// checkAnswerStart judges a same-protocol non-streaming 2xx body from its first
// bytes (what one read returned; whole tells whether that is all of it), without
// holding or parsing the whole body: it must be a JSON object; one that is the
// provider's error ({"error":…}, Anthropic's "type":"error") is returned as a
// *translate.StreamError, to be handled as an in-band error before the commit
// point; an object whose kind marker (OpenAI "object", Anthropic "type") is in
// these bytes must be the kind asked for; a body that arrived whole must carry the
// answer's main member. A nil error lets the body through.
func checkAnswerStart(up upstreamDialect, op wire.Operation, first []byte, whole bool) error {
	b := bytes.TrimLeft(first, " \t\r\n")
	if len(b) == 0 || b[0] != '{' {
		return &errNotAnswer{what: "not a JSON object"}
	}
	if err := inBandError(up, "", b); err != nil {
		return err
	}
	// The member is asked for by its length (".#"), so that gjson copies a number,
	// not the whole answer.
	marker, want, member := up.Answer(op)
	if marker == "" {
		return nil // a kind this check does not know
	}
	// The results are only compared, never kept: read without copies (view).
	if kind := gjson.Get(view(b), marker); want != "" && kind.Exists() && kind.String() != want {
		return &errNotAnswer{what: fmt.Sprintf("%s %q, want %q", marker, truncated(kind.String()), want)}
	}
	// An answer has no nesting bound: validNested without one is gjson.ValidBytes.
	if whole && (!gjson.Get(view(b), member).Exists() || !validNested(b, math.MaxInt)) {
		return &errNotAnswer{what: "no " + strings.TrimSuffix(member, ".#") + " member"}
	}
	return nil
}

// truncated cuts a value quoted from an upstream body for a message.
func truncated(s string) string {
	if len(s) > 64 {
		return s[:utf8Start(s, 64)] + "…"
	}
	return s
}

// copyBufs recycles the buffers of relayed bodies: one per request otherwise.
// They are small and of one size; nothing an upstream sends makes them grow.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 16<<10); return &b }}

// clientWriter gives every write to the client the idle timeout as its deadline,
// as the stream relay does: a client that stops reading a non-streaming answer
// cannot hold the handler (and, through it, the upstream connection) forever,
// since the server has no WriteTimeout (it would cut long streams). The writer
// is the call's own (one per attempt, in turn): none is allocated per answer.
func (c *call) clientWriter(idle time.Duration) io.Writer {
	if idle <= 0 {
		return c.w
	}
	c.dw = deadlineWriter{rc: *http.NewResponseController(c.w), w: c.w, d: idle}
	return &c.dw
}

type deadlineWriter struct {
	rc http.ResponseController
	w  io.Writer
	d  time.Duration
}

func (d *deadlineWriter) Write(p []byte) (int, error) {
	_ = d.rc.SetWriteDeadline(time.Now().Add(d.d))
	return d.w.Write(p)
}
