package upstream

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/llmrouter/llmrouter/internal/config"
)

// connServer is an upstream that reports each connection it accepts and closes.
type connServer struct {
	*httptest.Server
	opened, closed chan net.Conn
}

func newConnServer(t *testing.T) *connServer {
	t.Helper()
	s := &connServer{opened: make(chan net.Conn, 16), closed: make(chan net.Conn, 16)}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	s.Config.ConnState = func(c net.Conn, st http.ConnState) {
		switch st {
		case http.StateNew:
			s.opened <- c
		case http.StateClosed:
			s.closed <- c
		}
	}
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// get sends one request through rt and reads the answer whole, which leaves
// the connection idle in rt's pool.
func get(t *testing.T, rt http.RoundTripper, url string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
}

func model(name, endpoint string) *config.Model {
	return &config.Model{Name: name, Endpoint: endpoint, TLS: config.TLS{Verify: true},
		Timeouts: config.Timeouts{Connect: time.Second, FirstByte: time.Minute}}
}

// Models behind one endpoint share one transport; its idle connections stay
// open while any reference is held, and close when the last one is released.
func TestPoolReleaseClosesIdleConnectionsOfTheLastReference(t *testing.T) {
	up := newConnServer(t)
	p := NewPool()
	a, err := p.Transport(model("a", up.URL+"/v1"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := p.Transport(model("b", up.URL+"/other"))
	if a != b {
		t.Fatal("two models on one endpoint got two transports")
	}
	if c, _ := p.Transport(model("c", up.URL+"/v1")); c != a {
		t.Fatal("a third reference got another transport")
	}
	get(t, a, up.URL)
	conn := <-up.opened
	p.Release(a)
	p.Release(b)
	get(t, a, up.URL) // one reference left: the idle connection was kept and is reused
	select {
	case c := <-up.opened:
		t.Fatalf("a new connection %v while a reference was held", c.RemoteAddr())
	case c := <-up.closed:
		t.Fatalf("connection %v closed while a reference was held", c.RemoteAddr())
	default:
	}
	p.Release(a)
	if c := waitConn(t, up.closed); c != conn {
		t.Errorf("closed %v, want %v", c.RemoteAddr(), conn.RemoteAddr())
	}
	if d, _ := p.Transport(model("d", up.URL)); d == a {
		t.Error("a released transport was handed out again")
	}
	p.Release(&http.Transport{}) // not the pool's: ignored
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
