package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/llmrouter/llmrouter/internal/config"
	"github.com/llmrouter/llmrouter/internal/gateway"
	"github.com/llmrouter/llmrouter/internal/gcfloor"
	"github.com/llmrouter/llmrouter/internal/logging"
	"github.com/llmrouter/llmrouter/internal/reload"
	"github.com/llmrouter/llmrouter/internal/upstream"
)

// loadConfig loads the config named by the flag, LLMROUTER_CONFIG or
// ./llmrouter.yaml, else the embedded default.
func loadConfig(flagPath string) (*config.Config, error) {
	_, cfg, err := loadFile(config.Resolve(flagPath))
	return cfg, err
}

// loadFile loads the config file at path, returning its content too (what a
// reload compares with); "" is the embedded default, whose content is nil.
func loadFile(path string) ([]byte, *config.Config, error) {
	if path == "" {
		cfg, err := config.Default()
		return nil, cfg, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("reading config: %w", err)
	}
	cfg, err := config.Parse(data, path)
	return data, cfg, err
}

// server is the running router: the http.Server's handler (front) in front of
// the gateway of the config in force, and what a reload needs to build the next.
type server struct {
	path  string         // the config file; "" when serving the embedded default
	start *config.Config // the config at start: restart-only settings keep its values
	log   *slog.Logger
	live  *logging.Live // the log's level and secrets, which reloads change
	pool  *upstream.Pool
	obs   *observability // metrics and tracer, one per process (observe.go)
	front *front
	done  outcome // the outcome of the reload being reported (watcher goroutine)
	// observe, when set, receives the outcome of every reload (metrics).
	observe func(outcome)
	// beforeSwap, when set, runs in a reload after its gateway is built and
	// before the swap (tests of shutdown during a reload).
	beforeSwap func(context.Context)
	// gcFloor is the GC heap floor in force, for the start log ("" when serve
	// did not start one: tests that run servers in their own process).
	gcFloor string
}

func serve(args []string, stderr io.Writer) int {
	// SIGHUP's default action ends the process: caught from the start.
	sig := make(chan os.Signal, 4)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer signal.Stop(sig)
	fs := flagSet("serve", stderr)
	path := fs.String("config", "", "config file (default: $LLMROUTER_CONFIG, ./llmrouter.yaml, embedded default)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	s, err := newServer(config.Resolve(*path), stderr)
	if err != nil {
		return 1
	}
	// Once per process, at start: a restart-only setting (never in tests that
	// run several servers in one process, where floors would overlap).
	stopGC, floor := startGCFloor(s.start.Server.GCHeapFloor, s.log)
	defer stopGC()
	s.gcFloor = floor
	ln, err := net.Listen("tcp", s.start.Server.Listen)
	if err != nil {
		s.log.Error("listening", "error", err)
		return 1
	}
	return s.run(ln, sig)
}

// newServer loads the config at path ("" is the embedded default) and compiles
// it; a failure is reported on stderr.
func newServer(path string, stderr io.Writer) (*server, error) {
	data, cfg, err := loadFile(path)
	if err != nil {
		fmt.Fprintf(stderr, "llmrouter: config: %v\n", err)
		return nil, err
	}
	log, live := logging.NewLive(cfg.Logging, stderr, secretsOf(cfg))
	obs, err := newObservability(cfg)
	if err != nil {
		log.Error("starting", "error", err)
		return nil, err
	}
	s := &server{path: path, start: cfg, log: log, live: live, pool: upstream.NewPool(), obs: obs}
	g, err := s.build(cfg, nil)
	if err != nil {
		log.Error("starting", "error", err)
		return nil, err
	}
	s.front = newFront(&generation{g: g, cfg: cfg, data: data})
	return s, nil
}

// build compiles cfg into a gateway on the server's upstream pool; prev is the
// gateway it replaces, nil at start. The gateway's active health checks run
// until it is closed.
func (s *server) build(cfg *config.Config, prev *gateway.Gateway) (*gateway.Gateway, error) {
	opts := append(s.obs.options(), gateway.WithPool(s.pool), gateway.WithPrevious(prev))
	g, err := gateway.New(cfg, s.log, opts...)
	if err != nil {
		return nil, err
	}
	if err := g.StartChecks(); err != nil { // active health checks, until Close
		g.Close()
		return nil, fmt.Errorf("starting health checks: %w", err)
	}
	return g, nil
}

// run serves on ln until SIGTERM or SIGINT, reloading on SIGHUP (and on a change
// of the file with reload.watch), then drains: /readyz turns 503 for
// shutdown_delay while serving goes on, then the listener closes and in-flight
// requests and streams get shutdown_grace to finish; what is left then is ended
// with an error in its client's protocol (see stop).
func (s *server) run(ln net.Listener, sig <-chan os.Signal) int {
	// net/http's own messages go through the redacting handler too.
	srv := s.front.current().g.Server(slog.NewLogLogger(s.log.Handler(), slog.LevelWarn))
	srv.Handler = s.front
	// The metrics listener and the tracer (observe.go): stopped after the drain.
	if err := s.obs.start(s.start, s.front.current().g, func() *gateway.Gateway { return s.front.current().g }, s.log); err != nil {
		s.log.Error("starting", "error", err)
		return 1
	}
	defer s.obs.stop(s.log)
	trigger, stopReloads, err := s.startReloads()
	if err != nil {
		s.log.Error("watching the config file", "file", s.path, "error", err)
		return 1
	}
	errc := make(chan error, 1)
	maxConns := maxConnections(s.start.Server.MaxConnections)
	// Logged before serving starts (the listener is bound: connections wait in its
	// backlog), so that the line precedes every request's.
	s.log.Info("llmrouter listening", "addr", ln.Addr().String(), "config", s.start.Source, "models", len(s.start.Models),
		"max_connections", maxConns, "gc_heap_floor", s.gcFloor, "reload_watch", s.start.Reload.Watch, "version", version)
	go func() { errc <- srv.Serve(gateway.Listener(ln, maxConns)) }()
	for {
		select {
		case err := <-errc:
			stopReloads()
			s.log.Error("serving", "error", err)
			return 1
		case sg := <-sig:
			if sg == syscall.SIGHUP {
				trigger()
				continue
			}
			stopReloads() // a reload under way ends first (abandoned if not swapped in)
			cfg := s.front.current().cfg
			s.log.Info("shutting down", "signal", sg.String(), "delay", cfg.Server.ShutdownDelay.String(), "grace", cfg.Server.ShutdownGrace.String())
			return s.drain(srv, cfg, sig)
		}
	}
}

// startReloads starts the reload watcher; trigger asks it for a reload (SIGHUP)
// and stop ends it, waiting for a reload under way. With no config file, SIGHUP
// has nothing to reload.
func (s *server) startReloads() (trigger, stop func(), err error) {
	if s.path == "" {
		return s.reloadDefault, func() {}, nil
	}
	w, err := reload.New(reload.Options{
		Path: s.path, Watch: s.start.Reload.Watch, Loaded: s.front.current().data,
		Reload: s.reloadFile, Report: s.report,
	})
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = w.Run(ctx)
	}()
	return w.Trigger, func() { cancel(); <-done }, nil
}

// maxConnections resolves server.max_connections: 0 means half the process's
// open-file limit, which leaves the other half for upstream connections, the
// log and the config file (Go raises the soft limit to the hard one at start).
func maxConnections(configured int) int {
	if configured > 0 {
		return configured
	}
	if n := openFileLimit(); n > 0 {
		return max(int(n/2), 1)
	}
	return 0 // unknown limit: no cap
}

// startGCFloor starts the GC heap floor of server.gc_heap_floor (package
// gcfloor) and returns what stops it and how the start log shows it. The GOGC
// variable wins: when the operator sets it, there is no floor, and the log says so
// once. GOMEMLIMIT applies either way.
func startGCFloor(floor int64, log *slog.Logger) (stop func(), shown string) {
	if gogc := os.Getenv("GOGC"); gogc != "" {
		if floor > 0 {
			log.Info("GOGC is set: server.gc_heap_floor is not applied", "GOGC", gogc, "gc_heap_floor", sizeShown(floor))
		}
		return func() {}, "off (GOGC)"
	}
	if floor <= 0 {
		return func() {}, "off"
	}
	return gcfloor.Start(uint64(floor)).Stop, sizeShown(floor)
}

// sizeShown writes a size in MiB when it is a whole number of them, else in bytes.
func sizeShown(n int64) string {
	if n%(1<<20) == 0 {
		return strconv.FormatInt(n>>20, 10) + "MiB"
	}
	return strconv.FormatInt(n, 10)
}

// drain is the shutdown of run, with the config in force: readiness off for
// shutdown_delay (a second SIGTERM or SIGINT cuts it short), then shutdown_grace
// for the requests in flight.
func (s *server) drain(srv *http.Server, cfg *config.Config, sig <-chan os.Signal) int {
	s.front.current().g.Drain()
	delay := time.NewTimer(cfg.Server.ShutdownDelay)
	defer delay.Stop()
	for waiting := true; waiting; {
		select {
		case <-delay.C:
			waiting = false
		case sg := <-sig:
			if sg == syscall.SIGHUP {
				s.log.Info("SIGHUP ignored: shutting down")
				continue
			}
			waiting = false
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.Server.ShutdownGrace)
	defer cancel()
	err := srv.Shutdown(ctx)
	s.pool.CloseIdle()
	if errors.Is(err, context.DeadlineExceeded) {
		s.log.Warn("shutdown grace expired; ending the requests in flight")
		s.stop(srv)
		return 1
	}
	s.log.Info("stopped")
	return 0
}

// stopWait bounds how long, once shutdown_grace has expired, the requests still in
// flight get to write their last words (a stream's in-band error event, a 503)
// before their connections are closed under them.
const stopWait = 5 * time.Second

// stop ends what shutdown_grace left in flight, on every gateway still serving
// requests: each ends its requests properly (gateway.Stop), then the connections
// whose response has just ended close cleanly (a second Shutdown), and whatever
// is left is closed.
func (s *server) stop(srv *http.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), stopWait)
	defer cancel()
	if err := s.front.stop(ctx); err != nil {
		s.log.Warn("requests still in flight after they were ended", "error", err)
	}
	_ = srv.Shutdown(ctx)
	_ = srv.Close()
	s.pool.CloseIdle()
}
