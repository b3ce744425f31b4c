package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/llmrouter/llmrouter/internal/config"
	"github.com/llmrouter/llmrouter/internal/gateway"
	"github.com/llmrouter/llmrouter/internal/logging"
)

// loadConfig loads the config named by the flag, LLMROUTER_CONFIG or
// ./llmrouter.yaml, else the embedded default.
func loadConfig(flagPath string) (*config.Config, error) {
	if p := config.Resolve(flagPath); p != "" {
		return config.Load(p)
	}
	return config.Default()
}

func serve(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "config file (default: $LLMROUTER_CONFIG, ./llmrouter.yaml, embedded default)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg, err := loadConfig(*path)
	if err != nil {
		fmt.Fprintf(stderr, "llmrouter: config: %v\n", err)
		return 1
	}
	log := logging.New(cfg.Logging, stderr, gateway.Secrets(cfg))
	obs, err := newObservability(cfg) // metrics and tracer, one per process (observe.go)
	if err != nil {
		log.Error("starting", "error", err)
		return 1
	}
	defer obs.stop(log) // after the drain: the metrics listener, then the spans flushed
	g, err := gateway.New(cfg, log, obs.options()...)
	if err != nil {
		log.Error("starting", "error", err)
		return 1
	}
	ln, err := net.Listen("tcp", cfg.Server.Listen)
	if err != nil {
		log.Error("listening", "error", err)
		return 1
	}
	if err := obs.start(cfg, g, func() *gateway.Gateway { return g }, log); err != nil {
		log.Error("starting", "error", err)
		return 1
	}
	return serveOn(ln, g, cfg, log)
}

// serveOn serves until SIGTERM or SIGINT, then drains: /readyz turns 503 for
// shutdown_delay while serving goes on, then the listener closes and in-flight
// requests and streams get shutdown_grace to finish; what is left then is ended
// with an error in its client's protocol (see stop).
func serveOn(ln net.Listener, g *gateway.Gateway, cfg *config.Config, log *slog.Logger) int {
	// net/http's own messages go through the redacting handler too.
	srv := g.Server(slog.NewLogLogger(log.Handler(), slog.LevelWarn))
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sig)
	errc := make(chan error, 1)
	maxConns := maxConnections(cfg.Server.MaxConnections)
	// Logged before serving starts (the listener is bound: connections wait in its
	// backlog), so that the line precedes every request's.
	log.Info("llmrouter listening", "addr", ln.Addr().String(), "config", cfg.Source, "models", len(cfg.Models),
		"max_connections", maxConns, "version", version)
	go func() { errc <- srv.Serve(gateway.Listener(ln, maxConns)) }()
	select {
	case err := <-errc:
		log.Error("serving", "error", err)
		return 1
	case s := <-sig:
		log.Info("shutting down", "signal", s.String(), "delay", cfg.Server.ShutdownDelay.String(), "grace", cfg.Server.ShutdownGrace.String())
	}
	return drain(srv, g, cfg, log, sig)
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

func drain(srv *http.Server, g *gateway.Gateway, cfg *config.Config, log *slog.Logger, sig <-chan os.Signal) int {
	g.Drain()
	select {
	case <-time.After(cfg.Server.ShutdownDelay):
	case <-sig: // a second signal skips the delay
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.Server.ShutdownGrace)
	defer cancel()
	err := srv.Shutdown(ctx)
	g.CloseIdle()
	if errors.Is(err, context.DeadlineExceeded) {
		log.Warn("shutdown grace expired; ending the requests in flight")
		stop(srv, g, log)
		return 1
	}
	log.Info("stopped")
	return 0
}

// stopWait bounds how long, once shutdown_grace has expired, the requests still in
// flight get to write their last words (a stream's in-band error event, a 503)
// before their connections are closed under them.
const stopWait = 5 * time.Second

// stop ends what shutdown_grace left in flight: the gateway ends each request
// properly (gateway.Stop), then the connections whose response has just ended
// close cleanly (a second Shutdown), and whatever is left is closed.
func stop(srv *http.Server, g *gateway.Gateway, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), stopWait)
	defer cancel()
	if err := g.Stop(ctx); err != nil {
		log.Warn("requests still in flight after they were ended", "error", err)
	}
	_ = srv.Shutdown(ctx)
	_ = srv.Close()
	g.CloseIdle()
}
