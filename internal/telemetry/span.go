package telemetry

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.41.0"
	"go.opentelemetry.io/otel/trace"
)

// llmrouter's own span attributes (the conventions have none for these).
const (
	attrRoute         = attribute.Key("llmrouter.route")             // the configured model entry (a glob stays its pattern)
	attrClientAPI     = attribute.Key("llmrouter.client_api")        // openai-chat, anthropic-messages, ...
	attrStream        = attribute.Key("llmrouter.stream")            // the client asked for a stream
	attrDeployment    = attribute.Key("llmrouter.deployment")        // the deployment id
	attrAttempt       = attribute.Key("llmrouter.attempt")           // 1-based attempt number in the request
	attrFallbackFrom  = attribute.Key("llmrouter.fallback.from")     // the model that failed before this one
	attrFallbackCause = attribute.Key("llmrouter.fallback.cause")    // why it failed
	attrRetryCause    = attribute.Key("llmrouter.retry.cause")       // why the previous attempt failed
	attrTruncated     = attribute.Key("llmrouter.content.truncated") // captured content was cut at the bound
)

// Bounds on strings that a client or an upstream controls, so that a span stays
// small whatever they send.
const (
	maxName    = 256 // a model name
	maxReason  = 64  // one finish reason
	maxReasons = 16  // finish reasons per span
)

// Request describes a client request for its server span.
type Request struct {
	Operation string // gen_ai.operation.name: chat, text_completion, embeddings
	Model     string // gen_ai.request.model: the model the client asked for
	Route     string // the configured entry it matched; "" when none did
	ClientAPI string // the client API (the access log's protocol name)
	Stream    bool
	Method    string // http.request.method
	Path      string // http.route: the API path pattern, e.g. /v1/chat/completions
}

// Attempt describes one upstream attempt for its client span.
type Attempt struct {
	Operation     string // the operation called upstream (translation may change it)
	Provider      string // gen_ai.provider.name: openai, anthropic, ollama
	Model         string // gen_ai.request.model: the model name sent upstream
	Route         string // the configured model this deployment serves
	Deployment    string // the deployment id
	Number        int    // 1 for the first attempt of the request, then 2, 3, ...
	RetryCause    string // set when this attempt retries a failed one on the same model
	FallbackFrom  string // set when this attempt is on a fallback model: the model that failed
	FallbackCause string // and why it failed
	Endpoint      string // the upstream base URL; only host and port are recorded
}

// Result is how a span's operation ended.
type Result struct {
	Status        int      // HTTP status (sent to the client, or received from the upstream)
	ErrorType     string   // error.type; "" on success
	ResponseModel string   // gen_ai.response.model, as the upstream reported it
	ResponseID    string   // gen_ai.response.id
	FinishReasons []string // gen_ai.response.finish_reasons
	Usage         Usage
	Deployment    string // on a server span: the deployment that answered
}

// Usage is the upstream's token usage; zero fields are not recorded. Input counts
// every input token, cached ones included, as the conventions define it.
type Usage struct {
	Input, Output, CacheRead, CacheWrite, Reasoning int64
}

// Span is a started span. A nil *Span (tracing off) ignores every call.
type Span struct {
	t      *Tracer
	span   trace.Span
	ctx    context.Context
	client bool // an upstream attempt's span
}

// StartRequest continues the trace of the client's traceparent header (if any) and
// starts the request's server span. Only traceparent and tracestate are read from
// h. With tracing off it returns ctx and a nil *Span, and the client's headers are
// left as they are.
func (t *Tracer) StartRequest(ctx context.Context, h http.Header, r Request) (context.Context, *Span) {
	if !t.Enabled() {
		return ctx, nil
	}
	ctx = t.prop.Extract(ctx, propagation.HeaderCarrier(h))
	model := bound(r.Model, maxName)
	attrs := []attribute.KeyValue{
		semconv.GenAIOperationNameKey.String(r.Operation),
		attrClientAPI.String(r.ClientAPI),
		attrStream.Bool(r.Stream),
	}
	if model != "" {
		attrs = append(attrs, semconv.GenAIRequestModelKey.String(model))
	}
	if r.Route != "" {
		attrs = append(attrs, attrRoute.String(r.Route))
	}
	if r.Method != "" {
		attrs = append(attrs, semconv.HTTPRequestMethodKey.String(r.Method))
	}
	if r.Path != "" {
		attrs = append(attrs, semconv.HTTPRouteKey.String(r.Path))
	}
	ctx, s := t.tracer.Start(ctx, spanName(r.Operation, model),
		trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attrs...))
	return ctx, &Span{t: t, span: s, ctx: ctx}
}

// StartAttempt starts the client span of one upstream attempt, a child of the
// request's span in ctx. Call Inject with its headers before sending.
func (t *Tracer) StartAttempt(ctx context.Context, a Attempt) (context.Context, *Span) {
	if !t.Enabled() {
		return ctx, nil
	}
	model := bound(a.Model, maxName)
	attrs := []attribute.KeyValue{
		semconv.GenAIOperationNameKey.String(a.Operation),
		semconv.GenAIProviderNameKey.String(a.Provider),
		semconv.GenAIRequestModelKey.String(model),
		attrRoute.String(a.Route),
		attrDeployment.String(a.Deployment),
		attrAttempt.Int(a.Number),
	}
	if a.RetryCause != "" {
		attrs = append(attrs, attrRetryCause.String(a.RetryCause))
	}
	if a.FallbackFrom != "" || a.FallbackCause != "" {
		attrs = append(attrs, attrFallbackFrom.String(a.FallbackFrom), attrFallbackCause.String(a.FallbackCause))
	}
	attrs = appendServer(attrs, a.Endpoint)
	ctx, s := t.tracer.Start(ctx, spanName(a.Operation, model),
		trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
	return ctx, &Span{t: t, span: s, ctx: ctx, client: true}
}

// Routed records what a server span started before its request was read learns
// once it is: the model asked for, the configured entry that serves it ("" when
// none does) and whether a stream was asked for. The span is renamed
// "{operation} {model}" as the conventions name it.
func (s *Span) Routed(operation, model, route string, stream bool) {
	if s == nil || s.client {
		return
	}
	model = bound(model, maxName)
	attrs := []attribute.KeyValue{semconv.GenAIRequestModelKey.String(model), attrStream.Bool(stream)}
	if route != "" {
		attrs = append(attrs, attrRoute.String(route))
	}
	s.span.SetAttributes(attrs...)
	s.span.SetName(spanName(operation, model))
}

// appendServer adds server.address and server.port from the endpoint: the host and
// port only, never its user info, path or query (which may hold a key).
func appendServer(attrs []attribute.KeyValue, endpoint string) []attribute.KeyValue {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		return attrs
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	attrs = append(attrs, semconv.ServerAddressKey.String(host))
	if p, err := strconv.Atoi(port); err == nil {
		attrs = append(attrs, semconv.ServerPortKey.Int(p))
	}
	return attrs
}

func spanName(op, model string) string {
	if model == "" {
		return op
	}
	return op + " " + model
}

// Inject writes the span's context into the upstream request's headers as
// traceparent (and tracestate), replacing any the client sent.
func (s *Span) Inject(h http.Header) {
	if s == nil {
		return
	}
	s.t.prop.Inject(s.ctx, propagation.HeaderCarrier(h))
}

// TraceID returns the trace id in hex, for the access log; "" when not tracing.
func (s *Span) TraceID() string {
	if s == nil || !s.span.SpanContext().HasTraceID() {
		return ""
	}
	return s.span.SpanContext().TraceID().String()
}

// End records the result and ends the span. A server span is an error for a 5xx
// or an error after the first byte (the HTTP conventions leave 4xx unset on server
// spans); an attempt span is an error whenever ErrorType is set.
func (s *Span) End(r Result) {
	if s == nil {
		return
	}
	attrs := make([]attribute.KeyValue, 0, 12)
	if r.Status != 0 {
		attrs = append(attrs, semconv.HTTPResponseStatusCodeKey.Int(r.Status))
	}
	if r.ResponseModel != "" {
		attrs = append(attrs, semconv.GenAIResponseModelKey.String(bound(r.ResponseModel, maxName)))
	}
	if r.ResponseID != "" {
		attrs = append(attrs, semconv.GenAIResponseIDKey.String(bound(r.ResponseID, maxName)))
	}
	if len(r.FinishReasons) > 0 {
		attrs = append(attrs, semconv.GenAIResponseFinishReasonsKey.StringSlice(reasons(r.FinishReasons)))
	}
	if r.Deployment != "" {
		attrs = append(attrs, attrDeployment.String(r.Deployment))
	}
	attrs = appendUsage(attrs, r.Usage)
	if r.ErrorType != "" {
		attrs = append(attrs, semconv.ErrorTypeKey.String(r.ErrorType))
		if s.client || r.Status >= 500 || r.Status < 400 {
			s.span.SetStatus(codes.Error, r.ErrorType)
		}
	}
	s.span.SetAttributes(attrs...)
	s.span.End()
}

func appendUsage(attrs []attribute.KeyValue, u Usage) []attribute.KeyValue {
	for _, f := range []struct {
		k attribute.Key
		n int64
	}{
		{semconv.GenAIUsageInputTokensKey, u.Input},
		{semconv.GenAIUsageOutputTokensKey, u.Output},
		{semconv.GenAIUsageCacheReadInputTokensKey, u.CacheRead},
		{semconv.GenAIUsageCacheCreationInputTokensKey, u.CacheWrite},
		{semconv.GenAIUsageReasoningOutputTokensKey, u.Reasoning},
	} {
		if f.n > 0 {
			attrs = append(attrs, f.k.Int64(f.n))
		}
	}
	return attrs
}

func reasons(in []string) []string {
	out := make([]string, 0, min(len(in), maxReasons))
	for _, r := range in[:min(len(in), maxReasons)] {
		out = append(out, bound(r, maxReason))
	}
	return out
}

// SetInput records the prompt as gen_ai.input.messages, when content capture is on.
// messages is the conventions' JSON form ([{"role":..,"parts":[..]}]); it is
// scrubbed and cut at Options.MaxContentBytes.
func (s *Span) SetInput(messages string) { s.setContent(semconv.GenAIInputMessagesKey, messages) }

// SetOutput records the completion as gen_ai.output.messages, like SetInput.
func (s *Span) SetOutput(messages string) { s.setContent(semconv.GenAIOutputMessagesKey, messages) }

func (s *Span) setContent(k attribute.Key, v string) {
	if s == nil || !s.t.capture {
		return
	}
	if s.t.scrub != nil {
		v = s.t.scrub(v)
	}
	if len(v) > s.t.maxContent {
		v = bound(v, s.t.maxContent)
		s.span.SetAttributes(attrTruncated.Bool(true))
	}
	s.span.SetAttributes(k.String(v))
}

// bound cuts s to at most n bytes without splitting a UTF-8 sequence.
func bound(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && s[i]&0xC0 == 0x80 {
		i--
	}
	return s[:i]
}
