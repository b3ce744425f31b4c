package gateway_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/llmrouter/llmrouter/internal/gateway"
	"github.com/tidwall/gjson"
)

// The body timeout is proved in fake time: the real http.Server and gateway run in
// a synctest bubble on in-memory connections (net.Pipe), whose deadlines follow
// the bubble's clock.

const bodyTimeoutConfig = `
server: {body_timeout: 30s}
defaults: {timeouts: {idle: 10m, total: 1h}, retry: {attempts: 1}}
models:
  - {name: gpt-4o, provider: openai, endpoint: http://upstream.invalid/v1, api_key: sk-bubble-0123456789}
`

// pipeListener hands the server the far ends of net.Pipe connections.
type pipeListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return &net.UnixAddr{Name: "pipe", Net: "pipe"} }

// dial opens a connection to the server.
func (l *pipeListener) dial() net.Conn {
	server, client := net.Pipe()
	l.conns <- server
	return client
}

// serveBubble serves g as llmrouter serve does, inside the calling bubble, and
// returns the listener to dial; everything is closed when the bubble's test ends.
func serveBubble(t *testing.T, g *gateway.Gateway) *pipeListener {
	t.Helper()
	pl := newPipeListener()
	srv := g.Server(nil)
	go func() { _ = srv.Serve(gateway.Listener(pl, 0)) }()
	t.Cleanup(func() {
		_ = srv.Close()
		g.CloseIdle()
	})
	return pl
}

// answer is a response as a client read it, and when (fake time).
type answer struct {
	resp *http.Response
	body string
	err  error
	at   time.Duration
}

// readAnswers reads responses from c until the connection ends, the last answer
// carrying the error that ended it.
func readAnswers(c net.Conn, start time.Time) <-chan answer { // a closed connection: io.ErrUnexpectedEOF
	out := make(chan answer, 4)
	go func() {
		defer close(out)
		br := bufio.NewReader(c)
		for {
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				out <- answer{err: err, at: time.Since(start)}
				return
			}
			b, err := io.ReadAll(resp.Body)
			out <- answer{resp: resp, body: string(b), err: err, at: time.Since(start)}
		}
	}()
	return out
}

func send(c net.Conn, s string) {
	go func() { _, _ = io.WriteString(c, s) }() // a pipe write waits for the reader
}

// A body that stalls is answered 408 in the client's envelope exactly
// body_timeout after the request started, and the connection is closed; not
// one nanosecond before.
func TestStalledBodyTimesOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		up := &fakeUpstream{start: time.Now(), reply: func(int) *http.Response { return fakeResponse(200, "{}") }}
		pl := serveBubble(t, bubbleGateway(t, bodyTimeoutConfig, up))
		c := pl.dial()
		defer c.Close()
		start := time.Now()
		send(c, "POST /v1/messages HTTP/1.1\r\nHost: router\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"model\"")
		answers := readAnswers(c, start)
		time.Sleep(30*time.Second - time.Nanosecond)
		synctest.Wait()
		select {
		case a := <-answers:
			t.Fatalf("answered after %v, before body_timeout: %+v", a.at, a)
		default:
		}
		time.Sleep(time.Nanosecond)
		a := <-answers
		if a.err != nil || a.resp.StatusCode != http.StatusRequestTimeout || a.at != 30*time.Second {
			t.Fatalf("got %+v after %v, want a 408 after 30s", a, a.at)
		}
		if gjson.Get(a.body, "type").String() != "error" || !strings.Contains(gjson.Get(a.body, "error.message").String(), "body_timeout") {
			t.Errorf("not an Anthropic error naming body_timeout: %s", a.body)
		}
		if end := <-answers; !errors.Is(end.err, io.ErrUnexpectedEOF) || end.at != 30*time.Second {
			t.Errorf("connection after the 408: %v at %v, want closed at 30s", end.err, end.at)
		}
		if len(up.at) != 0 {
			t.Errorf("upstream called %d times", len(up.at))
		}
	})
}

// A client without the router key gets its 401 at once, without the router
// waiting for its body, and the connection is closed when body_timeout expires
// even if the body never comes (net/http reads a small unread body after the
// response, to reuse the connection).
func TestStalledBodyWithoutKey(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		up := &fakeUpstream{start: time.Now(), reply: func(int) *http.Response { return fakeResponse(200, "{}") }}
		cfg := strings.Replace(bodyTimeoutConfig, "server: {", "server: {api_keys: [router-key-0123456789], ", 1)
		pl := serveBubble(t, bubbleGateway(t, cfg, up))
		c := pl.dial()
		defer c.Close()
		start := time.Now()
		send(c, "POST /v1/chat/completions HTTP/1.1\r\nHost: router\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"model\"")
		answers := readAnswers(c, start)
		synctest.Wait()
		a := <-answers
		if a.err != nil || a.resp.StatusCode != http.StatusUnauthorized || a.at != 0 {
			t.Fatalf("got %+v after %v, want a 401 at once", a, a.at)
		}
		time.Sleep(30*time.Second - time.Nanosecond)
		synctest.Wait()
		select {
		case end := <-answers:
			t.Fatalf("connection ended after %v: %v", end.at, end.err)
		default:
		}
		time.Sleep(time.Nanosecond)
		if end := <-answers; !errors.Is(end.err, io.ErrUnexpectedEOF) || end.at != 30*time.Second {
			t.Errorf("connection: %v at %v, want closed at 30s", end.err, end.at)
		}
	})
}

// The body deadline binds the body only: a stream that lasts three times
// body_timeout (90s of silence from the upstream in the middle) reaches the
// client whole.
func TestStreamOutlivesBodyTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		chunk := func(content, finish string) string {
			return fmt.Sprintf(`data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":%q},"finish_reason":%s}]}`+"\n\n", content, finish)
		}
		// Like a real transport, the upstream's body ends when the request's
		// context does: a client connection cancelled by a read deadline cuts it.
		up := roundTripFunc(func(req *http.Request) (*http.Response, error) {
			pr, pw := io.Pipe()
			go func() {
				_, _ = io.WriteString(pw, chunk("before", "null"))
				select {
				case <-time.After(90 * time.Second):
					_, _ = io.WriteString(pw, chunk(" after", `"stop"`)+"data: [DONE]\n\n")
					pw.Close()
				case <-req.Context().Done():
					pw.CloseWithError(req.Context().Err())
				}
			}()
			return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"text/event-stream"}}, Body: pr, ContentLength: -1, Request: req}, nil
		})
		pl := serveBubble(t, bubbleGateway(t, bodyTimeoutConfig, up))
		c := pl.dial()
		defer c.Close()
		start := time.Now()
		body := `{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]}`
		send(c, fmt.Sprintf("POST /v1/chat/completions HTTP/1.1\r\nHost: router\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body))
		a := <-readAnswers(c, start)
		if a.err != nil || a.resp.StatusCode != 200 {
			t.Fatalf("got %+v", a)
		}
		if a.at != 90*time.Second || !strings.Contains(a.body, `" after"`) || !strings.HasSuffix(a.body, "data: [DONE]\n\n") || strings.Contains(a.body, `"error"`) {
			t.Errorf("stream after %v, want complete after 90s:\n%s", a.at, a.body)
		}
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// At most max_connections client connections are held: the next one is accepted
// when one of them closes.
func TestConnectionCap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := bubbleGateway(t, bodyTimeoutConfig, roundTripFunc(func(*http.Request) (*http.Response, error) {
			return nil, errors.New("no upstream in this test")
		}))
		pl := newPipeListener()
		srv := g.Server(nil)
		go func() { _ = srv.Serve(gateway.Listener(pl, 2)) }()
		defer srv.Close()
		first, second := pl.dial(), pl.dial()
		defer second.Close()
		third := make(chan net.Conn)
		go func() { third <- pl.dial() }()
		synctest.Wait()
		select {
		case <-third:
			t.Fatal("a third connection was accepted with max_connections 2")
		default:
		}
		first.Close()
		c := <-third
		defer c.Close()
		send(c, "GET /healthz HTTP/1.1\r\nHost: router\r\n\r\n")
		if a := <-readAnswers(c, time.Now()); a.err != nil || a.resp.StatusCode != 200 {
			t.Fatalf("third connection, once accepted: %+v", a)
		}
	})
}
