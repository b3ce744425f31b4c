package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/llmrouter/llmrouter/internal/config"
	"github.com/llmrouter/llmrouter/internal/gateway"
	"github.com/llmrouter/llmrouter/internal/metrics"
	"github.com/llmrouter/llmrouter/internal/redact"
	"github.com/llmrouter/llmrouter/internal/telemetry"
)

// observability is what the process has once, whatever configuration serves:
// the metrics registry, the tracer, and the listener of server.metrics_listen.
// Each gateway (one per configuration) records into the first two, given as
// options; the metrics listener asks the gateway serving now for its handler,
// so that a reload's server.metrics_key applies to it too.
type observability struct {
	metrics *metrics.Metrics
	tracer  *telemetry.Tracer
	server  *http.Server // nil: /metrics is on the main listener
	done    chan error   // the metrics server's Serve result
}

// newObservability builds the metrics registry and the tracer (off unless
// telemetry.traces.endpoint or the OTEL_* variables configure it).
func newObservability(cfg *config.Config) (*observability, error) {
	secrets := secretsOf(cfg)
	tr, err := telemetry.New(context.Background(), telemetry.Config{
		Endpoint:       cfg.Telemetry.Traces.Endpoint,
		CaptureContent: cfg.Telemetry.Traces.CaptureContent,
		ServiceVersion: version,
	}, telemetry.Options{Scrub: func(s string) string { return redact.Scrub(s, secrets...) }})
	if err != nil {
		return nil, fmt.Errorf("tracing: %w", err)
	}
	return &observability{metrics: metrics.New(), tracer: tr}, nil
}

// options are the gateway's options for recording into the process's metrics
// and tracer.
func (o *observability) options() []gateway.Option {
	return []gateway.Option{gateway.WithMetrics(o.metrics), gateway.WithTracer(o.tracer)}
}

// start exports g's series (the configuration loaded at start) and, with
// server.metrics_listen, binds that address and serves GET /metrics on it, with
// the key of the gateway current returns.
func (o *observability) start(cfg *config.Config, g *gateway.Gateway, current func() *gateway.Gateway, log *slog.Logger) error {
	g.ActivateMetrics()
	o.metrics.Loaded(time.Now())
	addr := cfg.Server.MetricsListen
	if addr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening for metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		current().MetricsHandler().ServeHTTP(w, r)
	}))
	o.server = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second,
		MaxHeaderBytes: 16 << 10, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	o.done = make(chan error, 1)
	go func() {
		err := o.server.Serve(ln)
		if !errors.Is(err, http.ErrServerClosed) {
			log.Error("serving metrics", "error", err)
		}
		o.done <- err
	}()
	log.Info("metrics listening", "addr", ln.Addr().String())
	return nil
}

// reloaded counts a reload's outcome (llmrouter_config_reloads_total, the last
// reload's success and time). A file that holds the config in force counts as a
// success: after a failed reload, putting the good file back clears the alarm. A
// reload that shutdown overtook is not counted.
func (o *observability) reloaded(r outcome) {
	if errors.Is(r.Err, errAbandoned) {
		return
	}
	o.metrics.Reloaded(r.Err, time.Now())
}

// metricsStopWait bounds the metrics listener's shutdown: a scrape takes
// milliseconds.
const metricsStopWait = 5 * time.Second

// tracesFlushWait bounds the flush of the spans not yet exported at exit.
const tracesFlushWait = 10 * time.Second

// stop runs once the main server has drained: the metrics listener (which kept
// answering scrapes during the drain) closes, then the tracer flushes the spans
// of the last requests to the collector.
func (o *observability) stop(log *slog.Logger) {
	if o.server != nil {
		ctx, cancel := context.WithTimeout(context.Background(), metricsStopWait)
		if err := o.server.Shutdown(ctx); err != nil {
			_ = o.server.Close()
		}
		cancel()
		<-o.done
	}
	ctx, cancel := context.WithTimeout(context.Background(), tracesFlushWait)
	defer cancel()
	if err := o.tracer.Shutdown(ctx); err != nil {
		log.Warn("traces not flushed", "error", err)
	}
}
