package gateway_test

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/llmrouter/llmrouter/internal/config"
	"github.com/llmrouter/llmrouter/internal/gateway"
	"github.com/llmrouter/llmrouter/internal/logging"
	upstreampkg "github.com/llmrouter/llmrouter/internal/upstream"
)

const chatAnswer = `{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}]}`

// connUpstream is an OpenAI fake that reports each connection it accepts and
// closes.
func connUpstream(t *testing.T) (srv *httptest.Server, opened, closed chan net.Conn) {
	t.Helper()
	opened, closed = make(chan net.Conn, 16), make(chan net.Conn, 16)
	srv = httptest.NewUnstartedServer(replay(200, "application/json", []byte(chatAnswer)))
	srv.Config.ConnState = func(c net.Conn, st http.ConnState) {
		switch st {
		case http.StateNew:
			opened <- c
		case http.StateClosed:
			closed <- c
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, opened, closed
}

// Two gateways built on one pool (a reload): the endpoint both configs use
// keeps its warm connection across the swap, and closing the replaced gateway
// closes only the connections of the endpoint no longer configured.
func TestGatewaysOnOnePoolKeepSharedConnectionsWarm(t *testing.T) {
	a, aOpened, aClosed := connUpstream(t)
	b, bOpened, bClosed := connUpstream(t)
	pool := upstreampkg.NewPool()
	build := func(yaml string, prev *gateway.Gateway) *gateway.Gateway {
		t.Helper()
		cfg, err := config.Parse([]byte(strings.NewReplacer("{{A}}", a.URL, "{{B}}", b.URL).Replace(yaml)), "test.yaml")
		if err != nil {
			t.Fatal(err)
		}
		g, err := gateway.New(cfg, logging.New(cfg.Logging, io.Discard, nil), gateway.WithPool(pool), gateway.WithPrevious(prev))
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	call := func(g *gateway.Gateway, model string) {
		t.Helper()
		w := httptest.NewRecorder()
		g.ServeHTTP(w, httptest.NewRequest("POST", "/v1/chat/completions",
			strings.NewReader(`{"model":"`+model+`","messages":[{"role":"user","content":"hi"}]}`)))
		if w.Code != 200 || !strings.Contains(w.Body.String(), `"hi"`) {
			t.Fatalf("%s: %d %s", model, w.Code, w.Body)
		}
	}
	old := build("models:\n  - {name: gpt-a, provider: openai, endpoint: '{{A}}/v1'}\n  - {name: gpt-b, provider: openai, endpoint: '{{B}}/v1'}\n", nil)
	call(old, "gpt-a")
	call(old, "gpt-b")
	aConn, bConn := <-aOpened, <-bOpened
	next := build("models:\n  - {name: gpt-a, provider: openai, endpoint: '{{A}}/v1'}\n", old)
	old.Close()
	if c := waitConn(t, bClosed); c != bConn {
		t.Errorf("B closed %v, want %v", c.RemoteAddr(), bConn.RemoteAddr())
	}
	call(next, "gpt-a")
	select {
	case c := <-aOpened:
		t.Errorf("A got a new connection %v after the swap; want %v reused", c.RemoteAddr(), aConn.RemoteAddr())
	case c := <-aClosed:
		t.Errorf("A's connection %v closed by the swap", c.RemoteAddr())
	default:
	}
	next.Close()
	if c := waitConn(t, aClosed); c != aConn {
		t.Errorf("A closed %v, want %v", c.RemoteAddr(), aConn.RemoteAddr())
	}
}

// A config that fails to compile gives back what it took from a shared pool:
// the running gateway's transports are untouched, and nothing is left held.
func TestFailedNewReleasesItsTransports(t *testing.T) {
	a, aOpened, aClosed := connUpstream(t)
	pool := upstreampkg.NewPool()
	parse := func(yaml string) *config.Config {
		cfg, err := config.Parse([]byte(strings.ReplaceAll(yaml, "{{A}}", a.URL)), "test.yaml")
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	running, err := gateway.New(parse("models:\n  - {name: gpt-a, provider: openai, endpoint: '{{A}}/v1'}\n"), logging.New(config.Logging{}, io.Discard, nil), gateway.WithPool(pool))
	if err != nil {
		t.Fatal(err)
	}
	// The second model's transform is refused at compile time, after the first
	// model took its transport.
	bad := parse("models:\n  - {name: gpt-a, provider: openai, endpoint: '{{A}}/v1'}\n" +
		"  - name: gpt-x\n    provider: openai\n    endpoint: '{{A}}/v1'\n    transforms:\n      - drop: '$..*..*[?(@..x)]'\n")
	if _, err := gateway.New(bad, logging.New(config.Logging{}, io.Discard, nil), gateway.WithPool(pool), gateway.WithPrevious(running)); err == nil {
		t.Fatal("the bad config compiled")
	}
	w := httptest.NewRecorder()
	running.ServeHTTP(w, httptest.NewRequest("POST", "/v1/chat/completions", strings.NewReader(`{"model":"gpt-a","messages":[{"role":"user","content":"hi"}]}`)))
	if w.Code != 200 {
		t.Fatalf("running gateway after a failed New: %d %s", w.Code, w.Body)
	}
	conn := <-aOpened
	running.Close() // the last reference: the failed New left none behind
	if c := waitConn(t, aClosed); c != conn {
		t.Errorf("closed %v, want %v", c.RemoteAddr(), conn.RemoteAddr())
	}
}

// waitConn waits for a connection event; the bound only fails a hung test.
func waitConn(t *testing.T, ch <-chan net.Conn) net.Conn {
	t.Helper()
	select {
	case c := <-ch:
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("no connection event")
		return nil
	}
}
