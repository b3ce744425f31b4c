package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/llmrouter/llmrouter/internal/config"
	"github.com/llmrouter/llmrouter/internal/gateway"
	"github.com/llmrouter/llmrouter/internal/logging"
	"github.com/llmrouter/llmrouter/internal/reload"
)

// The serve loop in this process, on a real listener, with signals sent on a
// channel: for what the binary's log cannot show (the observer's outcomes, a
// reload caught half-way by a shutdown).

// inProcess is a server running in this test's process.
type inProcess struct {
	s        *server
	addr     string
	path     string
	sig      chan os.Signal
	outcomes chan outcome
	exit     chan int
	log      *logTail
}

// startInProcess writes config ({{LISTEN}} is any address: run gets its own
// listener), builds the server on it and runs it; setup may set hooks first.
func startInProcess(t *testing.T, config string, setup func(*server)) *inProcess {
	t.Helper()
	p := &inProcess{path: filepath.Join(t.TempDir(), "llmrouter.yaml"), sig: make(chan os.Signal, 4),
		outcomes: make(chan outcome, 16), exit: make(chan int, 1), log: newLogTail()}
	p.write(t, config)
	s, err := newServer(p.path, p.log)
	if err != nil {
		t.Fatalf("%v\n%s", err, p.log.String())
	}
	s.observe = func(o outcome) { p.outcomes <- o }
	if setup != nil {
		setup(s)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.s, p.addr = s, ln.Addr().String()
	go func() { p.exit <- s.run(ln, p.sig) }()
	t.Cleanup(func() {
		select {
		case p.sig <- syscall.SIGTERM:
		default:
		}
		<-p.exit
	})
	return p
}

func (p *inProcess) write(t *testing.T, config string) {
	t.Helper()
	if err := os.WriteFile(p.path, []byte(strings.ReplaceAll(config, "{{LISTEN}}", "127.0.0.1:1")), 0o600); err != nil {
		t.Fatal(err)
	}
}

// reload sends SIGHUP and returns the outcome the observer got.
func (p *inProcess) reload(t *testing.T) outcome {
	t.Helper()
	p.sig <- syscall.SIGHUP
	return p.awaitOutcome(t)
}

func (p *inProcess) awaitOutcome(t *testing.T) outcome {
	t.Helper()
	select {
	case o := <-p.outcomes:
		return o
	case <-time.After(awaitGuard):
		t.Fatalf("no reload outcome; the log:\n%s", p.log.String())
		return outcome{}
	}
}

// shutdown sends SIGTERM and returns the exit code.
func (p *inProcess) shutdown(t *testing.T) int {
	t.Helper()
	p.sig <- syscall.SIGTERM
	select {
	case code := <-p.exit:
		p.exit <- code // for Cleanup
		return code
	case <-time.After(awaitGuard):
		t.Fatalf("run did not return after SIGTERM; the log:\n%s", p.log.String())
		return -1
	}
}

func (p *inProcess) openGenerations() int {
	p.s.front.mu.Lock()
	defer p.s.front.mu.Unlock()
	return len(p.s.front.open)
}

// Every reload's outcome reaches the observer (the seam metrics count reloads
// through): a no-op, a failure with each of its problems, a success with what
// it changed. Once the server stops, only the generation in force is left open.
func TestReloadOutcomesReachTheObserver(t *testing.T) {
	a, b := newFakeUp(t, "A"), newFakeUp(t, "B")
	p := startInProcess(t, listenOnly+routes("gpt-4o", a.URL), nil)

	if o := p.reload(t); !o.Unchanged || o.Err != nil || o.Trigger != reload.Signal {
		t.Errorf("no-op reload: %+v", o)
	}
	p.write(t, listenOnly+"models:\n  - {name: gpt-4o, provider: opena, endpoint: 'x'}\n")
	o := p.reload(t)
	if got := problems(o.Err); len(got) != 2 || !strings.HasPrefix(got[0], "line 4: ") || !strings.HasPrefix(got[1], "line 4: ") {
		t.Errorf("failed reload: problems %q", got)
	}
	p.write(t, listenOnly+routes("gpt-4o", a.URL, "gpt-new", b.URL))
	o = p.reload(t)
	if o.Err != nil || o.Unchanged || !slices.Equal(o.Changes.Models.Added, []string{"gpt-new"}) || o.Duration <= 0 {
		t.Errorf("reload: %+v", o)
	}
	status, body, err := chatCall(http.DefaultClient, p.addr, "gpt-new", "hi", false)
	if err != nil || status != 200 || answer(body) != "from B auth=" {
		t.Errorf("the added model: %d %v %s", status, err, body)
	}
	if code := p.shutdown(t); code != 0 {
		t.Errorf("exit %d", code)
	}
	if n := p.openGenerations(); n != 1 {
		t.Errorf("%d generations left open, want the one in force", n)
	}
}

// A shutdown that comes while a reload is building its gateway ends the reload
// first: the new config is never swapped in, its gateway is released, the
// running config serves until the end, and the server exits cleanly.
func TestShutdownDuringAReloadAbandonsIt(t *testing.T) {
	a, b := newFakeUp(t, "A"), newFakeUp(t, "B")
	inSwap := make(chan struct{})
	p := startInProcess(t, listenOnly+routes("gpt-4o", a.URL), func(s *server) {
		s.beforeSwap = func(ctx context.Context) {
			close(inSwap)
			<-ctx.Done() // held here until the shutdown has begun
		}
	})
	p.write(t, listenOnly+routes("gpt-4o", b.URL))
	p.sig <- syscall.SIGHUP
	select {
	case <-inSwap:
	case <-time.After(awaitGuard):
		t.Fatal("the reload never reached its swap")
	}
	status, body, err := chatCall(http.DefaultClient, p.addr, "gpt-4o", "hi", false)
	if err != nil || status != 200 || answer(body) != "from A auth=" {
		t.Errorf("during the reload: %d %v %s", status, err, body)
	}
	if code := p.shutdown(t); code != 0 {
		t.Errorf("exit %d", code)
	}
	if o := p.awaitOutcome(t); !errors.Is(o.Err, errAbandoned) {
		t.Errorf("outcome %+v, want the reload abandoned", o)
	}
	if cur, n := p.s.front.current(), p.openGenerations(); cur.cfg.Models[0].Endpoint != a.URL+"/v1" || n != 1 {
		t.Errorf("after the shutdown: config in force routes to %s, %d generations open", cur.cfg.Models[0].Endpoint, n)
	}
	if b.requests.Load() != 0 {
		t.Errorf("B got %d requests from an abandoned config", b.requests.Load())
	}
}

// BenchmarkFront is the cost of the reload front on a request: GET /healthz on
// the gateway directly and through front (one atomic load, two atomic adds),
// from parallel goroutines so that the shared counter is contended.
func BenchmarkFront(b *testing.B) {
	cfg, err := config.Parse([]byte("models:\n  - {name: gpt-4o, provider: openai, endpoint: 'http://127.0.0.1:1/v1'}\n"), "bench.yaml")
	if err != nil {
		b.Fatal(err)
	}
	g, err := gateway.New(cfg, logging.New(config.Logging{Level: slog.LevelWarn}, io.Discard, nil))
	if err != nil {
		b.Fatal(err)
	}
	f := newFront(&generation{g: g, cfg: cfg})
	for _, h := range []struct {
		name string
		h    http.Handler
	}{{"direct", g}, {"front", f}} {
		b.Run(h.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				req := httptest.NewRequest(http.MethodGet, "/healthz", nil)
				for pb.Next() {
					h.h.ServeHTTP(discardWriter{}, req)
				}
			})
		})
	}
}

// discardWriter is a ResponseWriter that keeps nothing.
type discardWriter struct{}

func (discardWriter) Header() http.Header         { return http.Header{} }
func (discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (discardWriter) WriteHeader(int)             {}
