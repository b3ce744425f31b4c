package gateway_test

import (
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmrouter/llmrouter/internal/config"
	"github.com/llmrouter/llmrouter/internal/gateway"
	"github.com/llmrouter/llmrouter/internal/logging"
	"github.com/tidwall/gjson"
)

// A fleet is several in-memory upstreams for testing/synctest bubbles, told
// apart by host (each deployment's endpoint is http://<name>.invalid/...): each
// answers with its own function, which may sleep in fake time, and records when
// and on which path each request came.
type fleet struct {
	mu    sync.Mutex
	start time.Time
	hosts map[string]*host
}

// host is one upstream of a fleet.
type host struct {
	reply func(r *http.Request) (*http.Response, error)
	at    []time.Duration // arrival of each request, since the fleet's start
	paths []string
}

func newFleet(replies map[string]func(*http.Request) (*http.Response, error)) *fleet {
	f := &fleet{start: time.Now(), hosts: map[string]*host{}}
	for name, reply := range replies {
		f.hosts[name+".invalid"] = &host{reply: reply}
	}
	return f
}

func (f *fleet) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
	}
	f.mu.Lock()
	h := f.hosts[req.URL.Host]
	if h == nil {
		f.mu.Unlock()
		return nil, errors.New("fleet: no upstream " + req.URL.Host)
	}
	h.at = append(h.at, time.Since(f.start))
	h.paths = append(h.paths, req.URL.Path)
	reply := h.reply
	f.mu.Unlock()
	resp, err := reply(req)
	if resp != nil {
		resp.Request = req
	}
	return resp, err
}

// set replaces how an upstream answers.
func (f *fleet) set(name string, reply func(*http.Request) (*http.Response, error)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hosts[name+".invalid"].reply = reply
}

// arrivals returns when an upstream's requests on paths with the given suffix
// came (all of them when suffix is "").
func (f *fleet) arrivals(name, suffix string) []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	h := f.hosts[name+".invalid"]
	var out []time.Duration
	for i, p := range h.paths {
		if strings.HasSuffix(p, suffix) {
			out = append(out, h.at[i])
		}
	}
	return out
}

// reply is a reply function: status and body, always the same.
func reply(status int, body string, header ...string) func(*http.Request) (*http.Response, error) {
	return func(*http.Request) (*http.Response, error) { return fakeResponse(status, body, header...), nil }
}

// slowAnswer answers 200 okBody after d (fake time in a bubble).
func slowAnswer(d time.Duration) func(*http.Request) (*http.Response, error) {
	return func(r *http.Request) (*http.Response, error) {
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
		return fakeResponse(200, okBody), nil
	}
}

const okBody = `{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}]}`

// bubbleRouter compiles yaml into a gateway whose upstreams are rt, its access
// log in the buffer returned. Inside a synctest bubble its timers run in fake time.
func bubbleRouter(t *testing.T, yaml string, rt http.RoundTripper, opts ...gateway.Option) (*gateway.Gateway, *syncBuffer) {
	t.Helper()
	cfg, err := config.Parse([]byte(yaml), "test.yaml")
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	buf := &syncBuffer{}
	g, err := gateway.New(cfg, logging.New(cfg.Logging, buf, nil), append([]gateway.Option{gateway.WithTransport(rt)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return g, buf
}

// served is what one request through a bubble router got.
type served struct {
	status     int
	header     http.Header
	body       string
	deployment string
}

// ask sends a chat request (body) to g and returns its answer.
func ask(g http.Handler, path, body string) served {
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	g.ServeHTTP(w, r)
	return served{status: w.Code, header: w.Header(), body: w.Body.String(), deployment: w.Header().Get("X-Llmrouter-Deployment")}
}

// lastAccess returns the last access-log line of a log buffer.
func lastAccess(t *testing.T, log *syncBuffer) gjson.Result {
	t.Helper()
	lines := accessLines(t, log.String())
	if len(lines) == 0 {
		t.Fatal("no access-log line")
	}
	return lines[len(lines)-1]
}

// tries returns an access-log line's attempts as "deployment:result" strings.
func tries(line gjson.Result) []string {
	var out []string
	for _, tr := range line.Get("tries").Array() {
		s := tr.Get("deployment").String() + ":" + tr.Get("result").String()
		if tr.Get("probe").Bool() {
			s += "(probe)"
		}
		out = append(out, s)
	}
	return out
}

// newRouterWith is newRouter with gateway options.
func newRouterWith(t *testing.T, yaml, up string, opts ...gateway.Option) *router {
	t.Helper()
	cfg, err := config.Parse([]byte(strings.ReplaceAll(yaml, "{{UP}}", up)), "test.yaml")
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	buf := &syncBuffer{}
	g, err := gateway.New(cfg, logging.New(cfg.Logging, buf, gateway.Secrets(cfg)), opts...)
	if err != nil {
		t.Fatalf("gateway: %v", err)
	}
	srv := httptest.NewServer(g)
	t.Cleanup(func() {
		srv.Close()
		g.CloseIdle()
	})
	return &router{Server: srv, gw: g, log: buf}
}

// newSeeded is the fixed random source of the tests of shares.
func newSeeded() rand.Source { return rand.NewPCG(1, 2) }
