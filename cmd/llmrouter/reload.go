package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/llmrouter/llmrouter/internal/config"
	"github.com/llmrouter/llmrouter/internal/gateway"
	"github.com/llmrouter/llmrouter/internal/redact"
	"github.com/llmrouter/llmrouter/internal/reload"
)

// errAbandoned is the outcome of a reload that shutdown overtook: its config is
// dropped, and the running one drains.
var errAbandoned = errors.New("the router is shutting down: reload abandoned")

// outcome is what one reload did: for its log lines and for an observer (the
// metrics of config reloads).
type outcome struct {
	reload.Result // the trigger; Err nil when the new config (or no change) is in force
	// Unchanged: the file holds the config in force, byte for byte; nothing was done.
	Unchanged bool
	// Changes is what the new config changed (names only), when one was swapped in.
	Changes config.Changes
}

// reloadFile is reload.Options.Reload: it parses data exactly as the file was at
// start (env overrides included), teaches the log the new config's keys, compiles
// it into a gateway on the running pool, and swaps that in. Any error leaves the
// running config in force. It runs on the watcher's goroutine, one at a time.
func (s *server) reloadFile(ctx context.Context, data []byte) error {
	s.done = outcome{}
	cur := s.front.current()
	if bytes.Equal(data, cur.data) {
		s.done.Unchanged = true
		return nil
	}
	cfg, err := config.Parse(data, s.path) // every problem, with its line, no key value
	if err != nil {
		return err
	}
	// Before anything can log or serve with them: the new keys are masked from the
	// first line that could hold one. Keys are only ever added, never forgotten.
	s.live.Learn(secretsOf(cfg))
	g, err := s.build(cfg, cur.g)
	if err != nil {
		return errors.New(redact.Scrub(err.Error(), secretsOf(cfg)...))
	}
	if s.beforeSwap != nil {
		s.beforeSwap(ctx)
	}
	if ctx.Err() != nil {
		g.Close()
		return errAbandoned
	}
	s.live.SetLevel(cfg.Logging.Level)
	s.done.Changes = config.Diff(cur.cfg, cfg)
	// Restart-only settings keep the values the process started with: those the
	// new config sets otherwise need a restart, whatever the last reload said.
	s.done.Changes.Restart = config.Diff(s.start, cfg).Restart
	s.front.swap(&generation{g: g, cfg: cfg, data: data})
	g.ActivateMetrics() // its series are the exported ones; those of removed models go
	return nil
}

// report is reload.Options.Report: it logs each reload's outcome and hands it
// to the observer.
func (s *server) report(r reload.Result) {
	if errors.Is(r.Err, reload.ErrWatch) { // the watch's own trouble, not a reload
		s.log.Warn("watching the config file", "file", s.path, "error", r.Err)
		return
	}
	o := s.done
	o.Result = r
	s.done = outcome{}
	s.logOutcome(o)
	s.obs.reloaded(o)
	if s.observe != nil {
		s.observe(o)
	}
}

func (s *server) logOutcome(o outcome) {
	attrs := []any{"trigger", o.Trigger.String(), "file", s.path}
	switch {
	case o.Err != nil:
		attrs = append(attrs, "problems", problems(o.Err))
		s.log.Error("config reload failed; the running config stays in force", attrs...)
	case o.Unchanged:
		s.log.Info("config unchanged; nothing to reload", attrs...)
	default:
		attrs = append(attrs, "duration", o.Duration.String(), "changes", o.Changes)
		s.log.Info("config reloaded", attrs...)
		if len(o.Changes.Restart) > 0 {
			s.log.Warn("settings changed that apply only after a restart; they keep their running values",
				"file", s.path, "restart_needed", o.Changes.Restart)
		}
	}
}

// problems lists the problems an error joins (config.Parse reports one per
// line of the file at fault), each as its own string.
func problems(err error) []string {
	var out []string
	var walk func(error)
	walk = func(err error) {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		for _, line := range strings.Split(err.Error(), "\n") {
			if line = strings.TrimSpace(line); line != "" {
				out = append(out, line)
			}
		}
	}
	walk(err)
	return out
}

// reloadDefault answers SIGHUP when no config file is in use: the embedded
// default cannot change while the process runs.
func (s *server) reloadDefault() {
	o := outcome{Result: reload.Result{Trigger: reload.Signal}, Unchanged: true}
	s.log.Info("config unchanged; nothing to reload", "trigger", "signal", "config", config.DefaultSource)
	s.obs.reloaded(o)
	if s.observe != nil {
		s.observe(o)
	}
}

// secretsOf is every secret of cfg, for the log to mask: router and model keys,
// values header rules set in secret-named headers, the metrics key, the limits
// store's credentials.
func secretsOf(cfg *config.Config) []string {
	return append(gateway.Secrets(cfg), cfg.Secrets()...)
}

// front is the server's handler. It hands each request to the gateway of the
// config in force (the current generation) and holds that generation until the
// request is over, so that a reload's swap never moves a request in flight: it
// finishes on the gateway it started on, and only requests that arrive after
// the swap see the new one. A replaced generation is closed when its last
// request ends.
type front struct {
	cur  atomic.Pointer[generation]
	mu   sync.Mutex
	open map[*generation]struct{} // every generation not yet closed
}

// generation is one config compiled into a gateway, and the requests on it.
type generation struct {
	g    *gateway.Gateway
	cfg  *config.Config
	data []byte // the file content cfg was parsed from; nil for the embedded default
	// refs counts the requests in flight on g; retired is added to it once the
	// generation is replaced, after which it takes no new request.
	refs   atomic.Int64
	closed sync.Once
	front  *front
}

// retired marks a replaced generation in refs: far above any request count.
const retired = 1 << 62

func newFront(first *generation) *front {
	f := &front{open: map[*generation]struct{}{}}
	f.add(first)
	f.cur.Store(first)
	return f
}

func (f *front) add(gen *generation) {
	gen.front = f
	f.mu.Lock()
	f.open[gen] = struct{}{}
	f.mu.Unlock()
}

// current is the generation new requests go to.
func (f *front) current() *generation { return f.cur.Load() }

// ServeHTTP serves r on the current generation, holding it until r is over (a
// stream until its last event).
func (f *front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	gen := f.enter()
	defer gen.leave()
	gen.g.ServeHTTP(w, r)
}

// enter takes a reference on the current generation. One replaced between the
// load and the count is left for the one replacing it.
func (f *front) enter() *generation {
	for {
		gen := f.cur.Load()
		if gen.refs.Add(1) < retired {
			return gen
		}
		gen.leave()
	}
}

// leave gives back a reference; the last one of a replaced generation closes it.
func (gen *generation) leave() {
	if gen.refs.Add(-1) == retired {
		gen.close()
	}
}

// swap makes next the current generation and retires the one it replaces, which
// is closed now if no request is on it, else when its last request ends.
func (f *front) swap(next *generation) {
	f.add(next)
	old := f.cur.Swap(next)
	if old.refs.Add(retired) == retired {
		old.close()
	}
}

// close releases the generation's upstream transports (connections to endpoints
// the running config no longer uses are closed) once no request is on it.
func (gen *generation) close() {
	gen.closed.Do(func() {
		gen.g.Close()
		gen.front.mu.Lock()
		delete(gen.front.open, gen)
		gen.front.mu.Unlock()
	})
}

// stop ends the requests still in flight on every open generation (the current
// one and those replaced while their requests went on): see gateway.Stop. It
// returns the first error of those Stops, when ctx ended before their requests
// did.
func (f *front) stop(ctx context.Context) error {
	f.mu.Lock()
	gens := make([]*generation, 0, len(f.open))
	for gen := range f.open {
		gens = append(gens, gen)
	}
	f.mu.Unlock()
	errs := make(chan error, len(gens))
	for _, gen := range gens {
		go func() { errs <- gen.g.Stop(ctx) }()
	}
	var first error
	for range gens {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}
