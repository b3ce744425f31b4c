package gateway_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/llmrouter/llmrouter/internal/config"
	"github.com/llmrouter/llmrouter/internal/gateway"
	"github.com/llmrouter/llmrouter/internal/logging"
	"github.com/tidwall/gjson"
)

const intakeConfig = `
models:
  - name: cheap
    provider: openai
    endpoint: {{UP}}/v1
    api_key: sk-intake-cheap-0123456789
    transforms:
      - regex: 'SECRET'
        replace: '[redacted]'
  - name: gpt-4-expensive
    provider: openai
    endpoint: {{UP}}/v1
    api_key: sk-intake-expensive-0123456789
  - name: claude-cheap
    provider: anthropic
    endpoint: {{UP}}
    api_key: ant-intake-0123456789
`

// okChat answers like OpenAI's chat completions endpoint.
func okChat(t *testing.T) func(http.ResponseWriter, *http.Request) {
	return replay(200, "application/json", fixture(t, "fixtures/openai-chat-response.json"))
}

// wantEnvelope checks an error response: its status and the client protocol's
// error envelope, and returns the message.
func wantEnvelope(t *testing.T, resp *http.Response, body []byte, status int, anthropic bool) string {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d: %s", resp.StatusCode, status, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	if loc := resp.Header.Get("Location"); loc != "" {
		t.Errorf("Location %q: an error is not a redirect", loc)
	}
	r := gjson.ParseBytes(body)
	if anthropic {
		if r.Get("type").String() != "error" || r.Get("error.type").String() == "" {
			t.Errorf("not an Anthropic error envelope: %s", body)
		}
	} else if !r.Get("error").IsObject() || r.Get("error.type").String() == "" {
		t.Errorf("not an OpenAI error envelope: %s", body)
	}
	msg := r.Get("error.message").String()
	if msg == "" {
		t.Errorf("error without a message: %s", body)
	}
	return msg
}

// A body whose objects hold a key twice is refused before routing: parsers
// disagree on which one counts, so the router must not pick one and forward both
// (the attacks: a second "model" answered by another model on the router's key,
// a second "stream", a second "messages" or "content" a transform does not see).
func TestDuplicateKeysRefused(t *testing.T) {
	up := newUpstream(t, okChat(t))
	rt := newRouter(t, intakeConfig, up.URL)
	msgs := `"messages":[{"role":"user","content":"SECRET"}]`
	many := make([]string, 40)
	for i := range many {
		many[i] = fmt.Sprintf(`"k%d":%d`, i, i)
	}
	tests := []struct {
		name, path, body string
		anthropic        bool
	}{
		{"second model", "/v1/chat/completions", `{"model":"cheap","model":"gpt-4-expensive",` + msgs + `}`, false},
		{"second model across providers", "/v1/messages", `{"model":"claude-cheap","max_tokens":10,"model":"gpt-4-expensive",` + msgs + `}`, true},
		{"second stream", "/v1/chat/completions", `{"model":"cheap","stream":false,"stream":true,` + msgs + `}`, false},
		{"second messages past a transform", "/v1/chat/completions", `{"model":"cheap",` + msgs + `,` + msgs + `}`, false},
		{"second content in a message", "/v1/chat/completions", `{"model":"cheap","messages":[{"role":"user","content":"SECRET","content":"SECRET"}]}`, false},
		{"escaped spelling of model", "/v1/chat/completions", `{"model":"cheap","mod\u0065l":"gpt-4-expensive",` + msgs + `}`, false},
		{"model in another case (Go upstreams fold case)", "/v1/chat/completions", `{"model":"cheap","MODEL":"gpt-4-expensive",` + msgs + `}`, false},
		{"long s folds to s", "/v1/chat/completions", `{"model":"cheap","stream":false,"ſtream":true,` + msgs + `}`, false},
		{"duplicate deep in a large object", "/v1/chat/completions", `{"model":"cheap","metadata":{` + strings.Join(many, ",") + `,"k7":0},` + msgs + `}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := post(t, rt.URL+tt.path, tt.body, nil)
			msg := wantEnvelope(t, resp, body, http.StatusBadRequest, tt.anthropic)
			if !strings.Contains(msg, "duplicate key") {
				t.Errorf("message %q does not name the duplicate key", msg)
			}
		})
	}
	if n := len(up.requests()); n != 0 {
		t.Fatalf("upstream received %d requests with duplicate keys, want none", n)
	}

	// Keys may repeat across objects, and nested keys may differ only in case
	// (tool schemas and metadata are the client's own).
	ok := `{"model":"cheap","metadata":{"id":"a","ID":"b"},"messages":[{"role":"user","content":"x"},{"role":"assistant","content":"y"}]}`
	resp, body := post(t, rt.URL+"/v1/chat/completions", ok, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("a body without duplicates: status %d: %s", resp.StatusCode, body)
	}
	if got := gjson.GetBytes(up.last(t).Body, "metadata.ID").String(); got != "b" {
		t.Errorf("upstream body lost a nested key: %s", up.last(t).Body)
	}
}

// "stream" must be a JSON boolean on every route: 1 or "true" would be read as a
// stream request by some upstreams and not others.
func TestStreamMustBeBoolean(t *testing.T) {
	up := newUpstream(t, okChat(t))
	rt := newRouter(t, intakeConfig, up.URL)
	for _, c := range []struct{ model, path, value string }{
		{"cheap", "/v1/chat/completions", `1`},
		{"cheap", "/v1/chat/completions", `"true"`},
		{"cheap", "/v1/chat/completions", `null`},
		{"claude-cheap", "/v1/messages", `1`},
		{"claude-cheap", "/v1/chat/completions", `"true"`},
	} {
		t.Run(c.path+" "+c.model+" "+c.value, func(t *testing.T) {
			body := `{"model":"` + c.model + `","max_tokens":10,"stream":` + c.value + `,"messages":[{"role":"user","content":"hi"}]}`
			resp, b := post(t, rt.URL+c.path, body, nil)
			msg := wantEnvelope(t, resp, b, http.StatusBadRequest, c.path == "/v1/messages")
			if !strings.Contains(msg, "stream") || !strings.Contains(msg, "boolean") {
				t.Errorf("message %q does not say stream must be a boolean", msg)
			}
		})
	}
	if n := len(up.requests()); n != 0 {
		t.Fatalf("upstream received %d requests, want none", n)
	}
}

// Memory for a body is reserved as its bytes arrive, not from the Content-Length
// a client announces. The attack: 40 connections each announcing 32 MiB and
// sending one byte (it took the router from 9 MiB to 1.29 GB). Ceiling: 4 MiB of
// live heap for the 40, 100 KiB per connection for everything net/http and the
// router hold for it (the body buffer is 32 KiB of that; measured: 1.5-1.8 MiB).
func TestBodyMemoryFollowsArrivedBytes(t *testing.T) {
	const conns, ceiling = 40, 4 << 20
	req := fmt.Sprintf("POST /v1/chat/completions HTTP/1.1\r\nHost: router\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{", 32<<20)
	waiting := make(chan struct{}, conns)
	rt := newServedRouter(t, intakeConfig, "http://127.0.0.1:1", func(ln net.Listener) net.Listener {
		return &readWatcher{Listener: ln, want: len(req), waiting: waiting}
	})

	before := liveHeap()
	clients := make([]net.Conn, conns)
	for i := range clients {
		c, err := net.Dial("tcp", rt.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Write([]byte(req)); err != nil {
			t.Fatal(err)
		}
		clients[i] = c
	}
	for range conns {
		<-waiting // the handler has its buffer and waits for the rest of the body
	}
	grown := liveHeap() - before
	t.Logf("live heap grew %d KiB for %d connections announcing 32 MiB", grown>>10, conns)
	if grown > ceiling {
		t.Errorf("live heap grew %d MiB, ceiling %d MiB", grown>>20, ceiling>>20)
	}
	runtime.KeepAlive(clients)
}

// readWatcher tells waiting, once per connection, when the server reads from it
// again after consuming want bytes: it then waits for bytes the client has not
// sent.
type readWatcher struct {
	net.Listener
	want    int
	waiting chan struct{}
}

func (l *readWatcher) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &watchedConn{Conn: c, l: l}, nil
}

type watchedConn struct {
	net.Conn
	l    *readWatcher
	read int
	told atomic.Bool
}

func (c *watchedConn) Read(p []byte) (int, error) {
	if c.read >= c.l.want && c.told.CompareAndSwap(false, true) {
		c.l.waiting <- struct{}{}
	}
	n, err := c.Conn.Read(p)
	c.read += n
	return n, err
}

func liveHeap() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// A path ServeMux would answer with a redirect (clients re-send the POST to
// it) is a 404 in the client's envelope, and nothing goes upstream.
func TestUncleanPathIsNotRedirected(t *testing.T) {
	up := newUpstream(t, okChat(t))
	rt := newRouter(t, intakeConfig, up.URL)
	for _, c := range []struct {
		path      string
		anthropic bool
	}{
		{"//v1/chat/completions", false},
		{"/v1/../v1/chat/completions", false},
		{"/v1/./chat/completions", false},
		{"/v1//messages", true},
		{"/x/../v1/messages", true},
	} {
		t.Run(c.path, func(t *testing.T) {
			conn, err := net.Dial("tcp", rt.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			body := `{"model":"cheap","messages":[{"role":"user","content":"hi"}]}`
			fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: router\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", c.path, len(body), body)
			resp, b := readResponse(t, conn)
			wantEnvelope(t, resp, b, http.StatusNotFound, c.anthropic)
		})
	}
	if n := len(up.requests()); n != 0 {
		t.Fatalf("upstream received %d requests, want none", n)
	}
}

// Header fields and the query string are bounded before anything is forwarded:
// 10,000 headers and a 1 MB query string were forwarded as they came.
func TestOversizedHeadersAndQueryRefused(t *testing.T) {
	up := newUpstream(t, okChat(t))
	rt := newRouter(t, intakeConfig, up.URL)
	body := `{"model":"cheap","messages":[{"role":"user","content":"hi"}]}`
	headers := func(n int) map[string]string {
		h := map[string]string{}
		for i := range n {
			h[fmt.Sprintf("X-Filler-%d", i)] = "v"
		}
		return h
	}
	resp, b := post(t, rt.URL+"/v1/chat/completions", body, headers(10000))
	wantEnvelope(t, resp, b, http.StatusRequestHeaderFieldsTooLarge, false)
	resp, b = post(t, rt.URL+"/v1/chat/completions", body, headers(120))
	wantEnvelope(t, resp, b, http.StatusRequestHeaderFieldsTooLarge, false)
	resp, b = post(t, rt.URL+"/v1/messages?q="+strings.Repeat("a", 9000), body, map[string]string{"Anthropic-Version": "2023-06-01"})
	wantEnvelope(t, resp, b, http.StatusRequestURITooLong, true)
	if n := len(up.requests()); n != 0 {
		t.Fatalf("upstream received %d requests, want none", n)
	}

	// Within the bounds, headers and query are forwarded.
	resp, b = post(t, rt.URL+"/v1/chat/completions?q="+strings.Repeat("a", 4000), body, headers(80))
	if resp.StatusCode != 200 {
		t.Fatalf("80 headers and a 4 KB query: status %d: %s", resp.StatusCode, b)
	}
	if got := up.last(t); len(got.Query) != 4002 || got.Header.Get("X-Filler-79") != "v" {
		t.Errorf("upstream got query of %d bytes, X-Filler-79 %q", len(got.Query), got.Header.Get("X-Filler-79"))
	}
}

// readResponse reads one HTTP response from a raw connection.
func readResponse(t *testing.T, c net.Conn) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	if _, err := bufio.NewReader(resp.Body).WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	return resp, []byte(b.String())
}

// newServedRouter runs the gateway the way llmrouter serve does (its
// http.Server and listener), on a listener wrap may instrument.
func newServedRouter(t *testing.T, yaml, up string, wrap func(net.Listener) net.Listener) *router {
	t.Helper()
	cfg, err := config.Parse([]byte(strings.ReplaceAll(yaml, "{{UP}}", up)), "test.yaml")
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	buf := &syncBuffer{}
	g, err := gateway.New(cfg, logging.New(cfg.Logging, buf, gateway.Secrets(cfg)))
	if err != nil {
		t.Fatalf("gateway: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if wrap != nil {
		ln = wrap(ln)
	}
	srv := httptest.NewUnstartedServer(g)
	srv.Listener = gateway.Listener(ln, 0)
	srv.Config = g.Server(nil)
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		g.CloseIdle()
	})
	return &router{Server: srv, gw: g, log: buf}
}

// The content field is checked for its presence and, where the protocol requires,
// for being an array, without the router copying it (validate reads its kind):
// missing or null is a 400 naming the field, a non-array where Anthropic wants
// an array a 400 (an object with a "#" key included, the one gjson reads like an
// array's length), and what the protocol leaves open reaches the upstream.
func TestContentFieldChecked(t *testing.T) {
	up := newUpstream(t, okChat(t))
	rt := newRouter(t, intakeConfig, up.URL)
	for _, c := range []struct {
		name, model, path, members, want string // want: "" when accepted
	}{
		{"openai missing", "cheap", "/v1/chat/completions", `"max_tokens":10`, "missing required field: messages"},
		{"openai null", "cheap", "/v1/chat/completions", `"messages":null`, "missing required field: messages"},
		{"anthropic missing", "claude-cheap", "/v1/messages", `"max_tokens":10`, "missing required field: messages"},
		{"anthropic null", "claude-cheap", "/v1/messages", `"messages" : null`, "missing required field: messages"},
		{"anthropic string", "claude-cheap", "/v1/messages", `"messages":"hi"`, "messages must be an array"},
		{"anthropic object", "claude-cheap", "/v1/messages", `"messages":{"#":1}`, "messages must be an array"},
		{"openai array", "cheap", "/v1/chat/completions", `"messages":[{"role":"user","content":"hi"}]`, ""},
		{"openai string (left to the upstream)", "cheap", "/v1/chat/completions", `"messages":"hi"`, ""},
		{"openai spaced array", "cheap", "/v1/chat/completions", `"messages":   [ {"role":"user","content":"hi"} ]`, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := len(up.requests())
			resp, b := post(t, rt.URL+c.path, `{"model":"`+c.model+`",`+c.members+`}`, nil)
			if c.want == "" {
				if resp.StatusCode != http.StatusOK || len(up.requests()) != before+1 {
					t.Fatalf("status %d, upstream requests %d → %d, want 200 and one more: %s", resp.StatusCode, before, len(up.requests()), b)
				}
				return
			}
			msg := wantEnvelope(t, resp, b, http.StatusBadRequest, c.path == "/v1/messages")
			if msg != c.want {
				t.Errorf("message %q, want %q", msg, c.want)
			}
			if n := len(up.requests()); n != before {
				t.Errorf("upstream received the refused request")
			}
		})
	}
}
