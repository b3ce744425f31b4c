package gateway

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/llmrouter/llmrouter/internal/health"
	"github.com/llmrouter/llmrouter/internal/redact"
	"github.com/llmrouter/llmrouter/internal/translate"
	"github.com/llmrouter/llmrouter/internal/upstream"
	"github.com/llmrouter/llmrouter/internal/wire"
	"github.com/tidwall/gjson"
)

// Errors: what the client sees of a failure (apiError) in its own protocol's
// envelope, and how an upstream's error response becomes one.

// envelope is what reporting an error needs of the client's protocol.
type envelope interface {
	// ErrorBody renders an error body; an empty typ is the protocol's type for
	// status.
	ErrorBody(status int, typ, param, message string) []byte
	// ErrorEvent renders the in-band event that ends a stream with an error.
	ErrorEvent(status int, typ, param, message string) []byte
	// IsError reports whether an upstream's error body is already a whole, valid
	// error in this envelope, to be relayed as it is.
	IsError(body []byte) bool
	// KnowsErrorType reports whether an upstream's error type may reach the client
	// as it is; else the type is derived from the status.
	KnowsErrorType(typ string) bool
}

// detailer is an envelope with a place for an error's machine-readable cause
// (Anthropic's error.details), which clients branch on.
type detailer interface {
	// ErrorBodyWith renders an error body carrying details; a value of a type the
	// protocol does not know is left out.
	ErrorBodyWith(status int, typ, message string, details any) []byte
}

// apiError is what the client sees of a failure (Status, Type, Message, Param,
// Details), kept apart from Err, which is only logged. Message must never hold a
// secret.
type apiError struct {
	Status  int
	Type    string // protocol error type; empty: derived from Status
	Param   string
	Message string
	// Details is the error's machine-readable cause, rendered by an envelope
	// that has a place for it (detailer) and left out by the others; nil: none.
	Details any
	Err     error // cause, for the log
}

// Error is the log's view: the message, and the cause when it adds something.
func (e *apiError) Error() string {
	if e.Err == nil {
		return e.Message
	}
	cause := e.Err.Error()
	if strings.Contains(e.Message, causeMessage(e.Err)) || strings.Contains(e.Message, cause) {
		return e.Message
	}
	return e.Message + ": " + cause
}

func errorf(status int, msg string) *apiError { return &apiError{Status: status, Message: msg} }

// writeError sends e as an HTTP error response in the client's envelope.
func writeError(w http.ResponseWriter, client envelope, e *apiError) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Del("Content-Length")
	w.WriteHeader(e.Status)
	if d, ok := client.(detailer); ok && e.Details != nil {
		_, _ = w.Write(d.ErrorBodyWith(e.Status, e.Type, e.Message, e.Details))
		return
	}
	_, _ = w.Write(client.ErrorBody(e.Status, e.Type, e.Param, e.Message))
}

// causeMessage describes a transport failure without its URL: url.Error prints the
// request URL, query string included, and a query can hold a key.
func causeMessage(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return err.Error()
}

// statusOfType maps a provider's in-band error type, of any protocol, to the HTTP
// status it would have had before the stream started, so on_status decides about
// retrying it.
func statusOfType(typ string) int {
	switch typ {
	case "overloaded_error":
		return 529
	case "rate_limit_error", "rate_limit_exceeded", "requests", "tokens", "insufficient_quota":
		return 429
	case "invalid_request_error":
		return 400
	case "authentication_error":
		return 401
	case "permission_error":
		return 403
	case "not_found_error":
		return 404
	case "timeout_error":
		return 504
	}
	return 500
}

// inBandAPIError describes an upstream's own error object (an in-band stream error,
// or one answered with a 2xx) for the client: the status the provider would have
// given it before the stream started, so that on_status decides about retrying
// it, and its type when the client's protocol knows it, scrubbed of secrets.
func inBandAPIError(client envelope, se *translate.StreamError, secrets []string) *apiError {
	msg, typ := redact.Scrub(se.Message, secrets...), redact.Scrub(se.Type, secrets...)
	if !client.KnowsErrorType(typ) {
		typ = ""
	}
	return &apiError{Status: statusOfType(se.Type), Type: typ, Message: msg, Err: se}
}

// maxErrorBody bounds how much of an upstream error body is read and relayed.
const maxErrorBody = 1 << 20

// upstreamError reads an upstream's error response (a status outside 2xx). The
// body is read up to maxErrorBody; a longer one is cut, and the cut loses the
// last bytes a secret could span, so that no key prefix is left for the
// scrubber to miss. A redirect is never followed nor relayed (the client would
// re-send its request, key included, where the upstream points), and an
// informational or unknown status is no answer either: both are a 502.
func (a *attempt) upstreamError() outcome {
	status := a.resp.StatusCode
	retry := upstream.RetryStatus(a.out.t.model.Retry, status)
	if status < 400 || status > 599 {
		return outcome{retryable: retry, cause: health.BadResponse, err: &apiError{Status: http.StatusBadGateway,
			Message: fmt.Sprintf("upstream answered %d %s, which is not an answer (the router does not follow redirects)", status, http.StatusText(status))}}
	}
	// Scrubbed before it is cut: a key that crosses the cut is dropped whole.
	cr := &countReader{r: a.idle}
	b, err := redact.ReadScrubbed(cr, maxErrorBody, a.c.secrets()...)
	o := outcome{status: status, header: a.resp.Header, retryable: retry, body: b}
	switch {
	case cr.n > maxErrorBody:
		o.cut = fmt.Sprintf("was larger than %d bytes", maxErrorBody)
	case err != nil:
		o.cut = "was cut while it was read: " + causeMessage(err)
	}
	if d, ok := upstream.RetryAfter(a.resp.Header, time.Now()); ok {
		o.retryAfter = d
	}
	if o.cut == "" {
		o.class = a.out.up.ErrorClass(status, b)
	} else {
		o.class = wire.StatusClass(status)
	}
	o.cause = statusCause(status, o.class)
	return o
}

// fail sends the last attempt's failure to the client. An upstream HTTP error
// keeps its status; its body is relayed as it is (scrubbed of keys) only when it
// is a whole error in the client's own envelope, else its message is
// re-enveloped: an HTML page, plain text, another JSON shape, a cut body, or a
// different protocol's error. Retry hints and rate-limit headers go along,
// scrubbed like every relayed header.
func (c *call) fail(out *outbound, o outcome) {
	secrets := c.secrets()
	if o.err != nil {
		// Err may quote the upstream (an in-band error echoing a key): scrubbed
		// for the log as the message is for the client.
		c.rec.errMsg = redact.Scrub(o.err.Error(), secrets...)
		writeError(c.w, c.ep.client, o.err)
		return
	}
	body := redact.ScrubBytes(o.body, secrets...)
	c.g.logResponse(c.rec, body)
	copyErrorHeaders(c.w.Header(), o.header, secrets)
	c.rec.errMsg = fmt.Sprintf("upstream status %d", o.status)
	if o.cut != "" {
		c.rec.errMsg += ": error body " + o.cut
	}
	if c.ep.proto == out.proto && o.cut == "" && c.ep.client.IsError(body) {
		c.w.Header().Set("Content-Type", "application/json")
		c.w.Header().Del("Content-Length")
		c.w.WriteHeader(o.status)
		_, _ = c.w.Write(body)
		return
	}
	msg := upstreamMessage(out.up, o.status, o.header, body, o.cut, secrets)
	writeError(c.w, c.ep.client, &apiError{Status: o.status, Message: msg})
}

// maxMessage bounds the error message the router writes from a body that is not an
// error envelope (plain text, an unknown JSON shape).
const maxMessage = 1 << 10

// upstreamMessage extracts the human message of an upstream error body: the
// protocol's error message, a plain-text body, a generic JSON message field, or
// a description of what came (an HTML page, a cut body). The result is scrubbed
// of secrets before it is cut, so a cut cannot split a key.
func upstreamMessage(up answerReader, status int, header http.Header, body []byte, cut string, secrets []string) string {
	_, msg, _ := up.ParseError(body)
	switch {
	case cut != "":
		// A cut body is not quoted: its end is gone, and its start says little.
		return fmt.Sprintf("upstream answered %d %s with an error body that %s", status, http.StatusText(status), cut)
	case msg != "":
	case isHTML(header, body):
		msg = fmt.Sprintf("upstream answered %d %s with an HTML page", status, http.StatusText(status))
		if title := htmlTitle(body); title != "" {
			msg += ": " + title
		}
	case gjson.ValidBytes(body):
		r := gjson.GetManyBytes(body, "error", "message", "detail")
		for _, v := range r {
			if v.Type == gjson.String && v.Str != "" {
				msg = v.Str
				break
			}
		}
	default:
		msg = strings.TrimSpace(string(body))
	}
	if msg == "" {
		msg = fmt.Sprintf("upstream answered %d %s", status, http.StatusText(status))
	}
	msg = redact.Scrub(msg, secrets...)
	if len(msg) > maxMessage {
		msg = msg[:utf8Start(msg, maxMessage)] + "…"
	}
	return msg
}

func isHTML(header http.Header, body []byte) bool {
	if strings.HasPrefix(strings.ToLower(header.Get("Content-Type")), "text/html") {
		return true
	}
	b := bytes.TrimLeft(body, " \t\r\n")
	return len(b) > 0 && b[0] == '<'
}

// htmlTitle returns the text of an HTML page's <title> (nginx and CDN error pages
// say what failed there), or "".
func htmlTitle(body []byte) string {
	head := body[:min(len(body), 4<<10)]
	i := bytes.Index(bytes.ToLower(head), []byte("<title>"))
	if i < 0 {
		return ""
	}
	rest := head[i+len("<title>"):]
	j := bytes.IndexByte(rest, '<')
	if j < 0 {
		return ""
	}
	return strings.Join(strings.Fields(string(rest[:j])), " ")
}

// utf8Start returns the largest index <= n that starts a UTF-8 sequence in s.
func utf8Start(s string, n int) int {
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return n
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
