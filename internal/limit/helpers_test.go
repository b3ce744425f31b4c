package limit

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/llmrouter/llmrouter/internal/limit/redistest"
)

// start is when every behaviour case begins: one minute before a month (and a day) ends.
var start = time.Date(2026, time.January, 31, 23, 59, 0, 0, time.UTC)

// env is what a behaviour case runs against: a store, a way to open engines on it, and time.
type env struct {
	// open returns an engine on the case's store (engines opened by one case share it).
	open func(t *testing.T, o Options) *Engine
	// advance moves time forward.
	advance func(d time.Duration)
	// now reads the case's clock.
	now func() time.Time
}

// runMemory runs body in a synctest bubble: the engine uses time.Now, and time.Sleep moves the
// bubble's clock without waiting.
func runMemory(t *testing.T, body func(*testing.T, env)) {
	synctest.Test(t, func(t *testing.T) {
		time.Sleep(time.Until(start))
		var shared *Engine
		e := env{
			open: func(t *testing.T, o Options) *Engine {
				// Engines of one case share one memory store, as replicas share one Redis.
				if shared == nil {
					shared = mustOpen(t, o)
					return shared
				}
				eng := mustOpen(t, o)
				eng.store = shared.store
				return eng
			},
			advance: time.Sleep,
			now:     time.Now,
		}
		body(t, e)
	})
}

// runRedis runs body against srv with a manual clock given to the scripts; each case has its
// own key prefix.
func runRedis(t *testing.T, srv *redistest.Server, body func(*testing.T, env)) {
	clk := &manualClock{t: start}
	e := env{
		open: func(t *testing.T, o Options) *Engine {
			o.Store, o.Now, o.KeyPrefix = srv.URL(), clk.Now, "test:"+t.Name()+":"
			return mustOpen(t, o)
		},
		advance: clk.Advance,
		now:     clk.Now,
	}
	body(t, e)
}

// manualClock is a clock the test moves.
type manualClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func mustOpen(t *testing.T, o Options) *Engine {
	t.Helper()
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	e, err := Open(o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

func mustScope(t testing.TB, name string, r Rule) *Scope {
	t.Helper()
	s, err := NewScope(name, r)
	if err != nil {
		t.Fatalf("NewScope(%q): %v", name, err)
	}
	return s
}

func est(in, out int64) Usage { return Usage{Input: in, Output: out} }

// admit reserves and fails the test unless the request is admitted.
func admit(t *testing.T, e *Engine, u Usage, scopes ...*Scope) *Reservation {
	t.Helper()
	r, err := e.Reserve(context.Background(), Request{Scopes: scopes, Model: "gpt-test", Estimate: u})
	if err != nil {
		t.Fatalf("Reserve(%d tokens): %v, want admitted", u.Tokens(), err)
	}
	return r
}

// deny reserves and fails the test unless a scope refuses.
func deny(t *testing.T, e *Engine, u Usage, scopes ...*Scope) *Denied {
	t.Helper()
	r, err := e.Reserve(context.Background(), Request{Scopes: scopes, Model: "gpt-test", Estimate: u})
	var d *Denied
	if !errors.As(err, &d) {
		t.Fatalf("Reserve(%d tokens) = %v, %v; want *Denied", u.Tokens(), r != nil, err)
	}
	return d
}

func settle(t *testing.T, r *Reservation, u Usage) {
	t.Helper()
	if err := r.Settle(context.Background(), u); err != nil {
		t.Fatalf("Settle: %v", err)
	}
}

// logBuffer is a slog handler target the tests read.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuffer) count(s string) int { return strings.Count(l.String(), s) }

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
