package gateway

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/llmrouter/llmrouter/internal/config"
	"github.com/llmrouter/llmrouter/internal/metrics"
	"github.com/llmrouter/llmrouter/internal/policy"
	"github.com/llmrouter/llmrouter/internal/telemetry"
	"github.com/llmrouter/llmrouter/internal/translate"
	"github.com/llmrouter/llmrouter/internal/wire"
)

// Metrics and traces. Each request is recorded into the metrics.Set of the
// gateway's configuration and, when tracing is on, into a server span with one
// child span per upstream attempt. What a request needs for that lives in its
// record (observation: no allocation), and the request path reaches it through
// one-line calls, in the order a request meets them:
//
//	observe        gateway.go   the request starts: its clock and its server span
//	routed         call.go      its model is known: it is in flight
//	attemptStarts  retry.go     an attempt: retry or fallback (plan.go) counted, its span, traceparent
//	responded      retry.go     the upstream answered (or failed to): waited so far; body reads timed
//	event, tee     stream.go, deliver.go   the answer's model and finish reasons (traces, trace.go)
//	broke          stream.go, deliver.go   the answer failed after its first byte
//	attemptEnded   retry.go     the attempt's metrics and span end
//	observed       middleware.go   the request's metrics and span end, with its access-log line
//
// llmrouter_overhead_seconds, the time the router itself added to a request, is
// its duration (from the handler's start until it returns, the last byte
// written) minus the time spent waiting on upstreams: from sending each attempt
// until its response headers (or its failure), inside every read of its body,
// between attempts (the backoff), and for a cooling deployment's recovery. What is left is the router's own work: reading
// and checking the request, routing, translating and transforming it, building
// the upstream request, and converting and writing the answer (a write to a
// client that does not read blocks, and counts).

// WithMetrics records the gateway's requests into m, the process's metrics:
// New builds the series of its configuration (metrics.Metrics.Build), and
// ActivateMetrics exports them once the gateway serves. Every gateway of the
// process, one per configuration reload, is given the same m.
func WithMetrics(m *metrics.Metrics) Option {
	return func(o *options) { o.obs.metrics = m }
}

// WithTracer traces the gateway's requests with t (one per process; a tracer
// that is off records nothing and costs a nil check).
func WithTracer(t *telemetry.Tracer) Option {
	return func(o *options) { o.obs.tracer = t }
}

type observeOptions struct {
	metrics *metrics.Metrics
	tracer  *telemetry.Tracer
}

// observer is one gateway's metrics and tracer.
type observer struct {
	m       *metrics.Metrics
	set     *metrics.Set      // this configuration's series; nil: metrics off
	tracer  *telemetry.Tracer // nil: tracing off
	scrape  http.Handler      // GET /metrics with this configuration's key; nil: metrics off
	mounted bool              // served on the main listener (no server.metrics_listen)
}

func newObserver(cfg *config.Config, o observeOptions) (observer, error) {
	ob := observer{m: o.metrics}
	if o.tracer.Enabled() {
		ob.tracer = o.tracer
	}
	if o.metrics == nil {
		return ob, nil
	}
	set, err := o.metrics.Build(metricsConfig(cfg))
	if err != nil {
		return observer{}, fmt.Errorf("metrics: %w", err)
	}
	ob.set = set
	ob.scrape = o.metrics.Handler(cfg.Server.MetricsKey.Reveal())
	ob.mounted = cfg.Server.MetricsListen == ""
	return ob, nil
}

// metricsConfig lists the label values cfg allows: its deployments, and the
// names of its named keys.
func metricsConfig(cfg *config.Config) metrics.Config {
	var mc metrics.Config
	for _, m := range cfg.Models {
		mc.Deployments = append(mc.Deployments, metrics.Deployment{Model: m.Name, ID: m.ID, Provider: string(m.Provider)})
	}
	for _, k := range cfg.Server.Keys {
		if k.Name != "" {
			mc.Keys = append(mc.Keys, k.Name)
		}
	}
	return mc
}

func (o *observer) on() bool { return o.set != nil || o.tracer != nil }

// mount serves GET /metrics on mux unless it has a listener of its own. It is
// outside the middleware: no API key, no access-log line per scrape.
func (o *observer) mount(mux *http.ServeMux) {
	if o.scrape != nil && o.mounted {
		mux.Handle("GET /metrics", o.scrape)
	}
}

// MetricsHandler serves GET /metrics with this gateway's server.metrics_key, for
// the listener of server.metrics_listen; 404 when the gateway has no metrics.
func (g *Gateway) MetricsHandler() http.Handler {
	if g.obs.scrape == nil {
		return http.NotFoundHandler()
	}
	return g.obs.scrape
}

// ActivateMetrics makes this gateway's series the exported ones: call it once the
// gateway serves, at start and after each reload's swap. Series of models,
// deployments and keys the previous configuration had and this one has not are
// dropped; the others keep counting.
func (g *Gateway) ActivateMetrics() {
	if g.obs.set != nil {
		g.obs.m.Activate(g.obs.set)
	}
}

// targetObs is what a target's attempts record into.
type targetObs struct {
	route  *metrics.Route  // its model's series
	handle *metrics.Handle // its own
	// propagate: the attempt's traceparent is sent upstream. It is set after the
	// header rules, so no add or force rule replaces it, but a rule that drops
	// traceparent keeps the trace context from that upstream.
	propagate bool
}

func (o *observer) target(m *config.Model, p *policy.Policy) targetObs {
	return targetObs{route: o.set.Route(m.Name), handle: o.set.Deployment(m.ID), propagate: propagates(p)}
}

// propagates reports whether p's header rules leave a traceparent in place.
func propagates(p *policy.Policy) bool {
	h := http.Header{"Traceparent": {"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}}
	p.Headers(h)
	return h.Get("Traceparent") != ""
}

// observation is one request's metrics and spans, kept in its record.
type observation struct {
	g       *Gateway // nil: not observed (an endpoint of a gateway without metrics or tracing)
	ep      *endpoint
	w       firstByteWriter
	start   time.Duration // on the observation clock (clock)
	first   time.Duration // when the first byte of the answer went to the client; 0: not yet
	q       metrics.Request
	started bool   // q was started (routed)
	model   string // the configured model being tried: the request's, or a fallback
	wait    time.Duration
	ended   time.Duration   // when the last attempt ended; 0: none did
	last    *target         // the target of the last attempt
	failed  metrics.Cause   // why the last attempt failed, or its answer broke; CauseNone if neither
	brokeBy metrics.Cause   // why the answer failed after its first byte
	moved   int             // the fallbacks the call had made at the last attempt (plan.moved)
	ctx     context.Context // the server span's
	span    *telemetry.Span
	a       attemptObs
}

// attemptObs is the attempt in progress.
type attemptObs struct {
	open     bool
	start    time.Duration
	sent     time.Duration // when its request was last sent: start, or a relaxed resend (resent)
	op       metrics.Operation
	answered bool // the upstream sent response headers
	status   int
	body     timedBody
	span     *telemetry.Span
	answer   wire.Answer
	head     *capBuffer // a relayed body's head, read for answer when the attempt ends
}

// observe starts the observation of an endpoint's requests, before
// authentication, so that a refused request is counted too.
func (g *Gateway) observe(e *endpoint, next http.Handler) http.Handler {
	if !g.obs.on() {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ob := &recordOf(w).obs
		*ob = observation{g: g, ep: e, start: clock(), ctx: r.Context()}
		ob.w = firstByteWriter{ResponseWriter: w, first: &ob.first}
		if t := g.obs.tracer; t != nil {
			ob.ctx, ob.span = t.StartRequest(r.Context(), r.Header, telemetry.Request{
				Operation: e.api.Operation().String(), ClientAPI: e.api.String(), Method: r.Method, Path: e.path})
		}
		next.ServeHTTP(&ob.w, r)
	})
}

// routed counts the request in flight on its configured model (a glob entry's
// pattern, never the client's string).
func (ob *observation) routed(c *call) {
	if ob.g == nil {
		return
	}
	ob.model, ob.started = c.group.Name, true
	ob.q = ob.g.obs.set.Route(c.group.Name).Start(ob.ep.api, c.stream)
	ob.span.Routed(ob.ep.api.Operation().String(), c.model, c.group.Name, c.stream)
}

// attemptStarts begins attempt n to out's target. After a failed attempt, one on
// the same model is a retry and one on another model a fallback, each counted
// with the failure's cause.
func (ob *observation) attemptStarts(c *call, out *outbound, n int) {
	if ob.g == nil {
		return
	}
	now := clock()
	if ob.ended != 0 {
		ob.wait += now - ob.ended // the backoff
	}
	t := out.t
	var retry, from, fallback string
	switch moved := len(c.plan.moved); {
	case moved != ob.moved: // the plan fell back to another model
		cause := metrics.CauseUnavailable // nothing failed: every deployment was cooling
		if ob.last != nil {
			cause = ob.failed
		}
		cause = fallbackCause(c.plan.cause, cause)
		ob.q.Fallback(t.obs.route, cause)
		from, fallback, ob.model, ob.moved = ob.model, cause.String(), t.model.Name, moved
	case ob.last != nil: // another attempt on the same model: a retry
		ob.q.Retry(ob.last.obs.handle, ob.failed)
		retry = ob.failed.String()
	}
	ob.last = t
	ob.a = attemptObs{open: true, start: now, sent: now, op: ob.upstreamOp(t)}
	if tr := ob.g.obs.tracer; tr != nil {
		_, ob.a.span = tr.StartAttempt(ob.ctx, telemetry.Attempt{
			Operation: ob.a.op.String(), Provider: string(t.model.Provider), Model: upstreamModel(t, c.model),
			Route: t.model.Name, Deployment: t.model.ID, Number: n, RetryCause: retry,
			FallbackFrom: from, FallbackCause: fallback, Endpoint: t.model.Endpoint})
		if t.obs.propagate {
			ob.a.span.Inject(out.header)
		}
		if ob.a.answer.Content = tr.CaptureContent(); ob.a.answer.Content {
			ob.a.span.SetInput(inputMessages(out.body, out.up, c.secrets()))
		}
	}
}

// upstreamOp is the operation an attempt to t performs: the client's, except that
// asking for an answer is chat or text_completion as the upstream's protocol is.
func (ob *observation) upstreamOp(t *target) metrics.Operation {
	op := ob.ep.api.Operation()
	if op == metrics.OpChat || op == metrics.OpTextCompletion {
		op = t.upstreams[ob.ep.proto].generates
	}
	return op
}

// classCauses are the metrics causes of the prompt-bound error classes.
var classCauses = map[wire.ErrorClass]metrics.Cause{
	wire.ErrorContextWindow: metrics.CauseContextWindow,
	wire.ErrorContentPolicy: metrics.CauseContentPolicy,
}

// fallbackCause is the cause a fallback is counted under: the chain that moved
// the call (context_window, content_policy), else the last attempt's failure
// (the fallbacks chain: what made the model fail).
func fallbackCause(chain wire.ErrorClass, last metrics.Cause) metrics.Cause {
	if cause, ok := classCauses[chain]; ok {
		return cause
	}
	return last
}

// held adds a wait for a deployment's recovery (plan.go), from start until now,
// to the time spent waiting on upstreams. One after an attempt is already in the
// time between attempts.
func (ob *observation) held(start time.Duration) {
	if ob.g != nil && ob.ended == 0 {
		ob.wait += clock() - start
	}
}

// responded ends the wait for the upstream's response headers (resp nil: the
// exchange failed), and times every read of its body from here on.
func (ob *observation) responded(resp *http.Response) {
	if ob.g == nil || !ob.a.open {
		return
	}
	ob.wait += clock() - ob.a.sent
	if resp == nil {
		return
	}
	ob.a.answered, ob.a.status = true, resp.StatusCode
	if ob.g.obs.set != nil {
		ob.a.body = timedBody{rc: resp.Body, wait: &ob.wait}
		resp.Body = &ob.a.body
	}
}

// resent notes that the attempt's request is sent again, relaxed (capability.go):
// the upstream wait of the resend counts from now.
func (ob *observation) resent() {
	if ob.g != nil && ob.a.open {
		ob.a.sent = clock()
	}
}

// timedBody adds the time spent in each read of an upstream body to wait.
type timedBody struct {
	rc   io.ReadCloser
	wait *time.Duration
}

func (b *timedBody) Read(p []byte) (int, error) {
	start := clock()
	n, err := b.rc.Read(p)
	*b.wait += clock() - start
	return n, err
}

func (b *timedBody) Close() error { return b.rc.Close() }

// broke records why an answer failed after its first byte reached the client.
func (ob *observation) broke(ctx context.Context, err error) {
	if ob.g != nil {
		ob.brokeBy = brokenCause(ctx, err)
	}
}

// attemptEnded records the attempt that just returned; ended is why the request
// was ended (inFlight.ended), if it was.
func (ob *observation) attemptEnded(ended error, c *call, o outcome) {
	if ob.g == nil || !ob.a.open {
		return
	}
	ob.endAttempt(attemptCause(ended, c, o, &ob.a, ob.brokeBy), o.done, c.rec.usage, c.secrets)
}

// endAttempt records the attempt; secrets (called only when content is
// captured) are the keys to scrub from its answer.
func (ob *observation) endAttempt(cause metrics.Cause, done bool, u translate.Usage, secrets func() []string) {
	now := clock()
	a := &ob.a
	a.open, ob.ended = false, now
	ob.q.Attempt(metrics.Attempt{Deployment: ob.last.obs.handle, Operation: a.op, Error: cause, Duration: now - a.start})
	ob.failed = cause
	if a.span == nil {
		return
	}
	if a.head != nil {
		ob.last.upstreams[ob.ep.proto].dialect.ReadAnswer(a.head.buf.Bytes(), &a.answer)
	}
	r := telemetry.Result{Status: a.status, ErrorType: cause.String(), ResponseModel: a.answer.Model, FinishReasons: a.answer.Finish}
	if done {
		r.Usage = telemetry.Usage(u)
		if a.answer.Content {
			a.span.SetOutput(outputMessages(&a.answer, secrets()))
		}
	}
	a.span.End(r)
}

// observed ends the request's observation, with its access-log line: the request
// counted by status and cause, its duration, time to first byte, tokens, the
// router's overhead; the server span ended, its trace id added to the line.
func (g *Gateway) observed(r *http.Request, rec *record, sw *statusWriter) {
	ob := &rec.obs
	if ob.g == nil {
		return
	}
	status := sw.status
	if status == 0 && r.Context().Err() != nil {
		status = 499 // as the access log says: the client closed the request first
	}
	if ob.a.open { // a panic ended it: an aborted answer (broke) or a bug
		cause, done := ob.brokeBy, true
		if cause == metrics.CauseNone {
			cause, done = metrics.CauseInternal, false
		}
		ob.endAttempt(cause, done, rec.usage, func() []string { return append(slices.Clip(g.secrets), rec.secrets...) })
	}
	route := ob.model
	if !ob.started { // refused before routing: counted as not streaming, as its span says (endSpan)
		route = configured(g.cfg, rec.model)
		ob.q = g.obs.set.Route(route).Start(ob.ep.api, false)
	}
	cause := requestCause(status, ob)
	out := metrics.Outcome{Status: status, Error: cause, Duration: clock() - ob.start, Dropped: len(rec.dropped)}
	if ob.ep.op != wire.Stored { // a stored response's usage was spent, and counted, when it was made
		out.Usage = metrics.Usage(rec.usage)
	}
	if ob.last != nil {
		out.Deployment, out.Overhead = ob.last.obs.handle, out.Duration-ob.wait
	}
	if ob.first != 0 && status < 300 {
		out.FirstByte = ob.first - ob.start
	}
	ob.q.Done(out)
	ob.endSpan(rec, status, cause, route)
	ob.g = nil
}

// configured returns the configured name (a glob's pattern) that serves a model,
// or "" (the "other" series) when none does or the request named none.
func configured(cfg *config.Config, model string) string {
	if model == "" {
		return ""
	}
	if grp, ok := cfg.Routes.Lookup(model); ok {
		return grp.Name
	}
	return ""
}

// epoch is the origin of clock.
var epoch = time.Now()

// clock is the observations' clock: the monotonic time since epoch, one clock
// reading (time.Now reads the wall clock too), as an upstream body's every read
// takes two.
func clock() time.Duration { return time.Since(epoch) }

// firstByteWriter notes when the first byte of the answer (its status line)
// went to the client.
type firstByteWriter struct {
	http.ResponseWriter
	first *time.Duration
}

func (w *firstByteWriter) WriteHeader(code int) {
	if *w.first == 0 {
		*w.first = clock()
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *firstByteWriter) Write(b []byte) (int, error) {
	if *w.first == 0 {
		*w.first = clock()
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach Flush and the deadlines.
func (w *firstByteWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
