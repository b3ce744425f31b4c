package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Limits of the HTTP server itself, before any handler runs.
const (
	// maxHeaderBytes bounds the request line and header block (net/http answers
	// 431 beyond it, rewritten into JSON by conn). Envoy's default is 60 KiB;
	// net/http's own, 1 MiB, let 10,000 headers through.
	maxHeaderBytes = 64 << 10
	// readHeaderTimeout bounds the wait for a request's header block.
	readHeaderTimeout = 10 * time.Second
	// idleTimeout is how long a keep-alive connection may wait for its next
	// request: longer than common clients keep an idle connection (Go's 90 s,
	// Python's and Node's a few seconds), so none reuses one the router is
	// closing; short enough that idle connections do not hold max_connections.
	idleTimeout = 120 * time.Second
)

// Server returns the http.Server that serves g on a listener from Listener.
// It has no ReadTimeout and no WriteTimeout, which would cut every stream
// longer than them: a request's body has server.body_timeout (set per request
// by the middleware), and upstream timeouts bound each write to the client.
// errorLog receives net/http's own messages.
func (g *Gateway) Server(errorLog *log.Logger) *http.Server {
	return &http.Server{
		Handler:           g,
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          errorLog,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			if cc, ok := c.(*conn); ok {
				return context.WithValue(ctx, connKey{}, cc)
			}
			return ctx
		},
		ConnState: func(c net.Conn, s http.ConnState) {
			if cc, ok := c.(*conn); ok && s == http.StateIdle {
				cc.handling.Store(false) // the last response is written out
			}
		},
	}
}

// Listener wraps ln for Server: it holds at most max client connections at once
// (0: no cap), so that connections a client keeps open cannot take the file
// descriptors in-flight requests need for their upstream connections (Accept
// waits for a slot; the kernel queues new connections meanwhile), and it gives
// net/http's own error responses a JSON envelope (see conn).
func Listener(ln net.Listener, max int) net.Listener {
	l := &listener{Listener: ln, done: make(chan struct{})}
	if max > 0 {
		l.slots = make(chan struct{}, max)
	}
	return l
}

type listener struct {
	net.Listener
	slots     chan struct{} // nil: no cap
	done      chan struct{}
	closeOnce sync.Once
}

func (l *listener) Accept() (net.Conn, error) {
	if l.slots != nil {
		select {
		case l.slots <- struct{}{}:
		case <-l.done:
			return nil, net.ErrClosed
		}
	}
	c, err := l.Listener.Accept()
	if err != nil {
		l.release()
		return nil, err
	}
	return &conn{Conn: c, release: l.release}, nil
}

func (l *listener) release() {
	if l.slots != nil {
		<-l.slots
	}
}

func (l *listener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}

type connKey struct{}

// handling marks the request's connection as running a handler, so that conn
// leaves what it writes alone until the response is complete.
func handling(ctx context.Context) {
	if c, ok := ctx.Value(connKey{}).(*conn); ok {
		c.handling.Store(true)
	}
}

// connOf returns the HTTP/1 connection r came on, when it came through
// Listener; else nil (HTTP/2, TLS, a server of the tests).
func connOf(r *http.Request) *conn {
	if r.ProtoMajor != 1 {
		return nil
	}
	c, _ := r.Context().Value(connKey{}).(*conn)
	return c
}

// conn is a client connection. Before any handler runs, net/http answers a
// request it cannot parse itself, in plain text: a bad request line or header
// 400, 431 (header block over MaxHeaderBytes), 501 (unknown transfer coding),
// 505 (HTTP version), 417 (an Expect other than 100-continue). conn recognises
// those responses, written while no handler is running (handling is false from
// the end of one response until the next handler starts), and rewrites them into
// a JSON error that both clients' SDKs read: the OpenAI and Anthropic envelopes
// joined, {"type":"error","error":{"type","message","param","code"}}. The
// request could not be parsed, so its protocol is unknown.
type conn struct {
	net.Conn
	handling    atomic.Bool
	release     func()
	releaseOnce sync.Once
	body        bodyWait
}

// bodyWait is the read deadline of a request's body (server.body_timeout),
// put on the connection only when the body is read from it: a small body most
// often came in the same read as the request's header, and is read from
// net/http's buffer without a read on the connection, so it costs no setting
// and lifting of a deadline. Every read on the connection while the deadline is
// pending (the handler's, or net/http's own of an unread body once the handler
// has returned) first puts it on the connection, so a stalled body meets it as
// before. It ends when the body is read (bodyRead), or when net/http sets a read
// deadline of its own (the next request's header, its background read).
type bodyWait struct {
	// mu makes each change of state one with the connection's deadline that goes
	// with it: a Read (net/http's background read) may race bodyRead or net/http's
	// own deadline, which a body's deadline put on after it must never replace.
	mu    sync.Mutex
	state atomic.Uint32 // bodyNone, bodyPending or bodyOn; Read looks without mu
	due   time.Time
}

// The states of a bodyWait.
const (
	bodyNone    = iota // the connection's read deadline is net/http's
	bodyPending        // due is to be put on the connection at its next read
	bodyOn             // due is the connection's read deadline
)

// awaitBody gives the request's body until due to arrive.
func (c *conn) awaitBody(due time.Time) {
	c.body.mu.Lock()
	defer c.body.mu.Unlock()
	c.body.due = due
	if c.body.state.Load() == bodyOn { // an earlier body's deadline is on still: due replaces it
		_ = c.Conn.SetReadDeadline(due)
		return
	}
	c.body.state.Store(bodyPending)
}

// bodyRead lifts the body's deadline, once the whole body is read.
func (c *conn) bodyRead() {
	c.body.mu.Lock()
	defer c.body.mu.Unlock()
	if c.body.state.Swap(bodyNone) == bodyOn {
		_ = c.Conn.SetReadDeadline(time.Time{})
	}
}

func (c *conn) Read(p []byte) (int, error) {
	if c.body.state.Load() == bodyPending {
		c.putBodyDeadline()
	}
	return c.Conn.Read(p)
}

// putBodyDeadline puts the pending body deadline on the connection, unless it
// was lifted or replaced since Read saw it pending.
func (c *conn) putBodyDeadline() {
	c.body.mu.Lock()
	defer c.body.mu.Unlock()
	if c.body.state.Load() == bodyPending {
		c.body.state.Store(bodyOn)
		_ = c.Conn.SetReadDeadline(c.body.due)
	}
}

// SetReadDeadline is net/http's (or http.ResponseController's): it replaces the
// body's deadline.
func (c *conn) SetReadDeadline(t time.Time) error { return c.replaceBodyDeadline(t, false) }

// SetDeadline sets both deadlines: it replaces the body's too.
func (c *conn) SetDeadline(t time.Time) error { return c.replaceBodyDeadline(t, true) }

// replaceBodyDeadline sets the connection's read deadline (and its write
// deadline with write) to t in place of the body's.
func (c *conn) replaceBodyDeadline(t time.Time, write bool) error {
	c.body.mu.Lock()
	defer c.body.mu.Unlock()
	c.body.state.Store(bodyNone)
	if write {
		return c.Conn.SetDeadline(t)
	}
	return c.Conn.SetReadDeadline(t)
}

func (c *conn) Close() error {
	c.releaseOnce.Do(c.release)
	return c.Conn.Close()
}

// CloseWrite half-closes a TCP connection: net/http does so after refusing a
// request, so that the client reads the whole answer before the connection
// resets. Without this method the wrapper would hide the TCP connection's.
func (c *conn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

func (c *conn) Write(p []byte) (int, error) {
	if c.handling.Load() || !bytes.HasPrefix(p, []byte("HTTP/1.")) {
		return c.Conn.Write(p)
	}
	status, msg, ok := plainError(p)
	if !ok {
		return c.Conn.Write(p)
	}
	if _, err := c.Conn.Write(jsonError(status, msg)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// net/http writes its pre-handler errors in one Write straight to the
// connection: "HTTP/1.1 <code> <text>" + plainHeaders + body.
const plainHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

// plainError parses one of net/http's own error responses: a pre-handler error
// (with plainHeaders and a body), or its 417 for an unsupported Expect (written
// through a response writer, so with a Date and Content-Length: 0).
func plainError(p []byte) (status int, msg string, ok bool) {
	line, rest, found := bytes.Cut(p, []byte("\r\n"))
	if !found || len(line) < len("HTTP/1.1 000") || line[len("HTTP/1.1")] != ' ' {
		return 0, "", false
	}
	status, err := strconv.Atoi(string(line[len("HTTP/1.1 ") : len("HTTP/1.1 ")+3]))
	if err != nil || status < 400 {
		return 0, "", false
	}
	if status == http.StatusExpectationFailed && bytes.HasSuffix(rest, []byte("\r\n\r\n")) &&
		bytes.Contains(p, []byte("\r\nContent-Length: 0\r\n")) {
		return status, "Expectation Failed: only Expect: 100-continue is supported", true
	}
	_, body, found := bytes.Cut(p, []byte(plainHeaders))
	if !found || !bytes.HasPrefix(p[len(line):], []byte(plainHeaders)) {
		return 0, "", false
	}
	msg = string(body)
	if code := strconv.Itoa(status) + " "; len(msg) > len(code) && msg[:len(code)] == code {
		msg = msg[len(code):] // "431 Request Header Fields Too Large" -> the text
	}
	return status, msg, true
}

// jsonError renders a complete response for status with msg in the joined
// envelope (every cause is the client's request: invalid_request_error).
func jsonError(status int, msg string) []byte {
	var e struct {
		Type  string `json:"type"`
		Error struct {
			Type    string  `json:"type"`
			Message string  `json:"message"`
			Param   *string `json:"param"`
			Code    *string `json:"code"`
		} `json:"error"`
	}
	e.Type, e.Error.Type, e.Error.Message = "error", "invalid_request_error", msg
	body, _ := json.Marshal(e)
	return fmt.Appendf(nil, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s",
		status, http.StatusText(status), len(body), body)
}
