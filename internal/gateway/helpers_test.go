package gateway_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmrouter/llmrouter/internal/config"
	"github.com/llmrouter/llmrouter/internal/gateway"
	"github.com/llmrouter/llmrouter/internal/logging"
)

// received is one request as the fake upstream saw it.
type received struct {
	Method string
	Path   string
	Query  string
	Header http.Header
	Body   []byte
}

// upstream is a fake provider on a real listener that records every request.
type upstream struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []received
}

func newUpstream(t *testing.T, h http.HandlerFunc) *upstream {
	t.Helper()
	u := &upstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		u.mu.Lock()
		u.reqs = append(u.reqs, received{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), body})
		u.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		h(w, r)
	}))
	t.Cleanup(u.Close)
	return u
}

// requests returns what the upstream received so far.
func (u *upstream) requests() []received {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]received(nil), u.reqs...)
}

func (u *upstream) last(t *testing.T) received {
	t.Helper()
	rs := u.requests()
	if len(rs) == 0 {
		t.Fatal("upstream received no request")
	}
	return rs[len(rs)-1]
}

// router starts the real gateway on a real listener with the given YAML config,
// where {{UP}} is replaced by the fake upstream's URL. The log goes to logBuf.
type router struct {
	*httptest.Server
	gw  *gateway.Gateway
	log *syncBuffer
}

func newRouter(t *testing.T, yaml string, up string, opts ...gateway.Option) *router {
	t.Helper()
	cfg, err := config.Parse([]byte(strings.ReplaceAll(yaml, "{{UP}}", up)), "test.yaml")
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	buf := &syncBuffer{}
	log := logging.New(cfg.Logging, buf, gateway.Secrets(cfg))
	g, err := gateway.New(cfg, log, opts...)
	if err != nil {
		t.Fatalf("gateway: %v", err)
	}
	g.ActivateMetrics()
	srv := httptest.NewServer(g)
	t.Cleanup(func() {
		srv.Close()
		g.CloseIdle()
		g.Close()
	})
	return &router{Server: srv, gw: g, log: buf}
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu   sync.Mutex
	b    bytes.Buffer
	grew chan struct{} // closed by the next write; nil until someone waits
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.grew != nil {
		close(s.grew)
		s.grew = nil
	}
	return s.b.Write(p)
}

// wait returns once cond holds for what was written, checking after each write.
func (s *syncBuffer) wait(t *testing.T, cond func(string) bool) {
	t.Helper()
	timeout := time.After(10 * time.Second) // a failure bound, not a synchronisation
	for {
		s.mu.Lock()
		if cond(s.b.String()) {
			s.mu.Unlock()
			return
		}
		if s.grew == nil {
			s.grew = make(chan struct{})
		}
		grew := s.grew
		s.mu.Unlock()
		select {
		case <-grew:
		case <-timeout:
			t.Fatalf("the log never got what the test waits for:\n%s", s.String())
		}
	}
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// fixture reads a transcript from testdata.
func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// replay serves body with the given content type and status.
func replay(status int, contentType string, body []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}
}

// replaySSE writes an SSE transcript event by event, flushing each.
func replaySSE(body []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		for _, ev := range bytes.SplitAfter(body, []byte("\n\n")) {
			_, _ = w.Write(ev)
			w.(http.Flusher).Flush()
		}
	}
}

// post sends a raw JSON request to the router.
func post(t *testing.T, url string, body string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

var _ = slog.LevelInfo

// noEject, put before a config, keeps every deployment in rotation whatever it
// answers: for tests of what a client or the log sees of many failures from one
// upstream, not of health.
const noEject = "routing:\n  health: {failures: 1000}\n"
