// Package telemetry traces requests with OpenTelemetry: one server span per client
// request and one client span per upstream attempt, carrying the GenAI semantic
// conventions' attributes, exported over OTLP/HTTP (protobuf). It is off unless an
// endpoint is configured in YAML or by the standard OTEL_* variables, and off costs
// a nil check.
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.41.0"
	"go.opentelemetry.io/otel/trace"
)

// Config is the `telemetry.traces` section of the YAML config.
type Config struct {
	// Endpoint is the OTLP/HTTP collector: a base URL ("http://collector:4318", to
	// which /v1/traces is added) or the full traces URL. It takes precedence over
	// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT and OTEL_EXPORTER_OTLP_ENDPOINT, which
	// turn tracing on by themselves when it is empty.
	Endpoint string
	// CaptureContent records prompts and completions (gen_ai.input.messages,
	// gen_ai.output.messages) in spans. Off by default: they are user data.
	// OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true turns it on too.
	CaptureContent bool
	// ServiceVersion is the service.version resource attribute (the build's version).
	ServiceVersion string
}

// Options are the seams around the tracer.
type Options struct {
	// Exporter, when set, receives every span synchronously instead of the OTLP
	// exporter, and tracing is on whatever Config and the environment say. For
	// tests (sdk/trace/tracetest) and for embedding.
	Exporter sdktrace.SpanExporter
	// Scrub is applied to captured content before it becomes an attribute; the
	// gateway passes its secret scrubber so a key pasted into a prompt is masked.
	Scrub func(string) string
	// MaxContentBytes bounds each captured content attribute (default 64 KiB);
	// longer content is cut and marked.
	MaxContentBytes int
}

// Errors New returns for an environment it cannot honour.
var (
	ErrExporter = errors.New("unsupported OTEL_TRACES_EXPORTER (only otlp and none)")
	ErrProtocol = errors.New("unsupported OTLP protocol (only http/protobuf)")
	ErrEndpoint = errors.New("invalid traces endpoint")
)

// Tracer starts llmrouter's spans. A nil *Tracer, or one built with tracing off,
// starts none; every method is safe on it.
type Tracer struct {
	provider   *sdktrace.TracerProvider
	tracer     trace.Tracer
	prop       propagation.TextMapPropagator
	capture    bool
	scrub      func(string) string
	maxContent int
}

const defaultMaxContent = 64 << 10

// New builds the tracer. With no endpoint in cfg or the environment (or with
// OTEL_SDK_DISABLED=true, or OTEL_TRACES_EXPORTER=none) it returns a tracer that is
// off. The OTLP exporter reads the other OTEL_EXPORTER_OTLP_* variables (headers,
// timeout, compression, certificates), the SDK reads OTEL_TRACES_SAMPLER(_ARG),
// OTEL_BSP_* and the span limits, and the resource reads OTEL_SERVICE_NAME and
// OTEL_RESOURCE_ATTRIBUTES. Propagation is W3C Trace Context (traceparent,
// tracestate) only; baggage is not forwarded upstream.
func New(ctx context.Context, cfg Config, o Options) (*Tracer, error) {
	t := &Tracer{prop: propagation.TraceContext{}, scrub: o.Scrub, maxContent: o.MaxContentBytes}
	if t.maxContent <= 0 {
		t.maxContent = defaultMaxContent
	}
	t.capture = cfg.CaptureContent || strings.EqualFold(os.Getenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"), "true")
	proc, err := processor(ctx, cfg, o)
	if err != nil || proc == nil {
		return &Tracer{}, err
	}
	res, err := newResource(ctx, cfg)
	if err != nil {
		return &Tracer{}, err
	}
	t.provider = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(proc), sdktrace.WithResource(res))
	t.tracer = t.provider.Tracer("github.com/llmrouter/llmrouter", trace.WithInstrumentationVersion(cfg.ServiceVersion))
	return t, nil
}

// processor returns the span processor, or nil when tracing is off.
func processor(ctx context.Context, cfg Config, o Options) (sdktrace.SpanProcessor, error) {
	if o.Exporter != nil {
		return sdktrace.NewSimpleSpanProcessor(o.Exporter), nil
	}
	if on, err := enabled(cfg); !on || err != nil {
		return nil, err
	}
	var opts []otlptracehttp.Option
	if cfg.Endpoint != "" {
		u, err := tracesURL(cfg.Endpoint)
		if err != nil {
			return nil, err
		}
		opts = append(opts, otlptracehttp.WithEndpointURL(u))
	}
	exp, err := otlptracehttp.New(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("creating the OTLP trace exporter: %w", err)
	}
	return sdktrace.NewBatchSpanProcessor(exp), nil
}

// enabled decides from cfg and the standard variables whether to trace.
func enabled(cfg Config) (bool, error) {
	if strings.EqualFold(strings.TrimSpace(os.Getenv("OTEL_SDK_DISABLED")), "true") {
		return false, nil
	}
	switch e := strings.TrimSpace(os.Getenv("OTEL_TRACES_EXPORTER")); e {
	case "none":
		return false, nil
	case "", "otlp":
	default:
		return false, fmt.Errorf("%w: %q", ErrExporter, e)
	}
	for _, name := range []string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"} {
		if p := strings.TrimSpace(os.Getenv(name)); p != "" {
			if p != "http/protobuf" {
				return false, fmt.Errorf("%w: %s=%q", ErrProtocol, name, p)
			}
			break // the traces-specific variable wins over the general one
		}
	}
	return cfg.Endpoint != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != "" ||
		os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "", nil
}

// tracesURL turns the configured endpoint into the traces URL: a base URL gets the
// OTLP/HTTP path /v1/traces, a URL with a path is used as is.
func tracesURL(endpoint string) (string, error) {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%w: want an http(s) URL such as http://collector:4318", ErrEndpoint)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/v1/traces"
	}
	return u.String(), nil
}

// newResource describes the process: service.name llmrouter unless OTEL_SERVICE_NAME
// or OTEL_RESOURCE_ATTRIBUTES say otherwise (later detectors win).
func newResource(ctx context.Context, cfg Config) (*resource.Resource, error) {
	attrs := []attribute.KeyValue{semconv.ServiceNameKey.String("llmrouter")}
	if cfg.ServiceVersion != "" {
		attrs = append(attrs, semconv.ServiceVersionKey.String(cfg.ServiceVersion))
	}
	r, err := resource.New(ctx, resource.WithAttributes(attrs...), resource.WithFromEnv(), resource.WithTelemetrySDK())
	if err != nil {
		return nil, fmt.Errorf("building the trace resource: %w", err)
	}
	return r, nil
}

// Enabled reports whether spans are recorded and exported.
func (t *Tracer) Enabled() bool { return t != nil && t.provider != nil }

// CaptureContent reports whether prompts and completions go into spans, so the
// gateway builds them only then.
func (t *Tracer) CaptureContent() bool { return t.Enabled() && t.capture }

// Shutdown flushes the spans not yet exported and stops the exporter. Call it once,
// after the server has drained.
func (t *Tracer) Shutdown(ctx context.Context) error {
	if !t.Enabled() {
		return nil
	}
	if err := t.provider.Shutdown(ctx); err != nil {
		return fmt.Errorf("flushing traces: %w", err)
	}
	return nil
}
