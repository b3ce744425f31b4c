package metrics

import (
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// slot caches one resolved series. The first use resolves it through the family (a
// map lookup that may create the series); every later use is one atomic load.
type slot[T any] struct{ p atomic.Pointer[T] }

func (s *slot[T]) load() (T, bool) {
	if p := s.p.Load(); p != nil {
		return *p, true
	}
	var zero T
	return zero, false
}

func (s *slot[T]) store(v T) T {
	s.p.Store(&v)
	return v
}

// pair is the request-level series of one (model, deployment): the model the client
// asked for and the deployment that answered, which belongs to another model after a
// fallback.
type pair struct {
	m          *Metrics
	model      string
	deployment string
	provider   string
	requests   [numAPI][2][6]slot[prometheus.Counter]
	duration   [numAPI][2][numCause]slot[prometheus.Observer]
	ttft       [numAPI][2]slot[prometheus.Observer]
	usage      [numOp][2]slot[prometheus.Observer]
	tokens     [numTok]slot[prometheus.Counter]
	dropped    [numAPI]slot[prometheus.Counter]
}

// Request is one client request's metrics, from Route.Start to Done. It is a value:
// keep it in the request's own state; it allocates nothing.
type Request struct {
	route  *Route
	cur    *Route // the model being tried: the route, or a fallback
	api    API
	stream bool
}

// Usage is the token usage an upstream reported. Following the conventions, Input
// counts every input token, cache reads and writes included; CacheRead, CacheWrite
// and Reasoning break parts of Input and Output out. All zero means "not reported":
// no token series is recorded then.
type Usage struct {
	Input, Output, CacheRead, CacheWrite, Reasoning int64
}

func (u Usage) reported() bool {
	return u.Input|u.Output|u.CacheRead|u.CacheWrite|u.Reasoning != 0
}

// Outcome is how a client request ended.
type Outcome struct {
	Deployment *Handle       // the deployment that answered last; nil: none was reached
	Status     int           // the HTTP status sent to the client
	Error      Cause         // CauseNone on success; set for an error after a 200 too
	Duration   time.Duration // until the last byte reached the client
	FirstByte  time.Duration // until the first byte of the answer; 0: none was sent
	Overhead   time.Duration // Duration minus the time spent waiting on upstreams
	Usage      Usage         // as the upstream reported it
	Dropped    int           // request fields dropped in translation
}

// Attempt is one upstream attempt.
type Attempt struct {
	Deployment *Handle
	Operation  Operation // the operation called upstream (translation may change it)
	Error      Cause     // CauseNone on success
	Duration   time.Duration
}

// Start begins a request on the route and counts it in flight (and as a stream in
// flight when stream is set). Every Start must be followed by exactly one Done.
func (r *Route) Start(api API, stream bool) Request {
	if r == nil {
		return Request{}
	}
	api %= numAPI
	r.gauge(&r.inFlight[api], r.set.m.inFlight, api).Inc()
	if stream {
		r.gauge(&r.streams[api], r.set.m.streams, api).Inc()
	}
	return Request{route: r, cur: r, api: api, stream: stream}
}

func (r *Route) gauge(s *slot[prometheus.Gauge], v *prometheus.GaugeVec, api API) prometheus.Gauge {
	if g, ok := s.load(); ok {
		return g
	}
	return s.store(v.WithLabelValues(r.name, api.String()))
}

// Attempt records one upstream attempt: llmrouter_upstream_attempts_total and
// gen_ai_client_operation_duration_seconds, under the deployment's own model.
func (q *Request) Attempt(a Attempt) {
	if q.route == nil || a.Deployment == nil {
		return
	}
	h, op, c := a.Deployment, a.Operation%numOp, a.Error.index()
	m := q.route.set.m
	n, ok := h.attempts[op][c].load()
	if !ok {
		n = h.attempts[op][c].store(m.attempts.WithLabelValues(h.route.name, h.provider, h.id, op.String(), c.String()))
	}
	n.Inc()
	o, ok := h.opTime[op][c].load()
	if !ok {
		o = h.opTime[op][c].store(m.attemptTime.WithLabelValues(op.String(), h.provider, h.route.name, h.id, c.String()))
	}
	o.Observe(a.Duration.Seconds())
}

// Retry records that a failed attempt on d is retried on the same model.
func (q *Request) Retry(d *Handle, cause Cause) {
	if q.route == nil || d == nil {
		return
	}
	q.route.set.m.retries.WithLabelValues(d.route.name, d.provider, d.id, cause.index().String()).Inc()
}

// Fallback records that the request moves from the model being tried to the
// configured fallback to, and makes to the model being tried.
func (q *Request) Fallback(to *Route, cause Cause) {
	if q.route == nil || to == nil {
		return
	}
	q.route.set.m.fallbacks.WithLabelValues(q.cur.name, to.name, cause.index().String()).Inc()
	q.cur = to
}

// Done ends the request: in-flight gauges down, then the request's counter,
// duration, time to first byte, tokens, overhead and dropped fields.
func (q *Request) Done(o Outcome) {
	r := q.route
	if r == nil {
		return
	}
	m := r.set.m
	if g, ok := r.inFlight[q.api].load(); ok {
		g.Dec()
	}
	if g, ok := r.streams[q.api].load(); ok && q.stream {
		g.Dec()
	}
	p := r.pairFor(o.Deployment)
	st := boolIndex(q.stream)
	p.count(q.api, st, statusClass(o.Status))
	p.observeDuration(q.api, st, o.Error.index(), o.Duration)
	if o.FirstByte > 0 {
		p.observeTTFT(q.api, st, o.FirstByte)
	}
	if o.Usage.reported() {
		p.recordUsage(q.api.Operation(), o.Usage)
	}
	if o.Dropped > 0 {
		p.addDropped(q.api, o.Dropped)
	}
	if o.Deployment != nil {
		ov, ok := r.overhead[q.api][st].load()
		if !ok {
			ov = r.overhead[q.api][st].store(m.overhead.WithLabelValues(r.name, q.api.String(), boolNames[st]))
		}
		ov.Observe(max(o.Overhead, 0).Seconds())
	}
}

// pairFor returns the series of requests to r answered by h: h's own when h is one
// of r's deployments, a lazily made pair when h belongs to a fallback model.
func (r *Route) pairFor(h *Handle) *pair {
	switch {
	case h == nil:
		return r.none
	case h.route == r:
		return h.own
	}
	if p, ok := r.foreign.Load(h); ok {
		return p.(*pair)
	}
	p, _ := r.foreign.LoadOrStore(h, &pair{m: r.set.m, model: r.name, deployment: h.id, provider: h.provider})
	return p.(*pair)
}

func (p *pair) count(api API, st, class int) {
	c, ok := p.requests[api][st][class].load()
	if !ok {
		c = p.requests[api][st][class].store(p.m.requests.WithLabelValues(
			p.model, p.provider, p.deployment, api.String(), statusClasses[class], boolNames[st]))
	}
	c.Inc()
}

func (p *pair) observeDuration(api API, st int, cause Cause, d time.Duration) {
	o, ok := p.duration[api][st][cause].load()
	if !ok {
		o = p.duration[api][st][cause].store(p.m.duration.WithLabelValues(
			api.Operation().String(), p.provider, p.model, p.deployment, api.String(), boolNames[st], cause.String()))
	}
	o.Observe(d.Seconds())
}

func (p *pair) observeTTFT(api API, st int, d time.Duration) {
	o, ok := p.ttft[api][st].load()
	if !ok {
		o = p.ttft[api][st].store(p.m.ttft.WithLabelValues(
			api.Operation().String(), p.provider, p.model, p.deployment, api.String(), boolNames[st]))
	}
	o.Observe(d.Seconds())
}

func (p *pair) recordUsage(op Operation, u Usage) {
	for i, n := range [numTok]int64{u.Input, u.Output, u.CacheRead, u.CacheWrite, u.Reasoning} {
		if n <= 0 {
			continue
		}
		c, ok := p.tokens[i].load()
		if !ok {
			c = p.tokens[i].store(p.m.tokens.WithLabelValues(p.model, p.provider, p.deployment, tokNames[i]))
		}
		c.Add(float64(n))
	}
	for i, n := range [2]int64{u.Input, u.Output} {
		h, ok := p.usage[op][i].load()
		if !ok {
			h = p.usage[op][i].store(p.m.tokenUsage.WithLabelValues(op.String(), p.provider, p.model, p.deployment, tokNames[i]))
		}
		h.Observe(float64(n))
	}
}

func (p *pair) addDropped(api API, n int) {
	c, ok := p.dropped[api].load()
	if !ok {
		c = p.dropped[api].store(p.m.dropped.WithLabelValues(p.model, p.provider, p.deployment, api.String()))
	}
	c.Add(float64(n))
}

// Ejected records that the deployment was taken out of rotation, with the cause of
// its last failure.
func (h *Handle) Ejected(cause Cause) {
	if h == nil {
		return
	}
	h.route.set.m.ejections.WithLabelValues(h.route.name, h.provider, h.id, cause.index().String()).Inc()
}

// Admitted records a request within every limit of the key.
func (k *Key) Admitted() { k.decide(ScopeNone, 0, decisionAdmitted) }

// Denied records a request denied by one limit scope.
func (k *Key) Denied(s Scope) { k.decide(s, 1, decisionDenied) }

// StoreError records a decision made without the limit store, because it failed:
// admitted when on_store_error is fail_open, denied when fail_closed.
func (k *Key) StoreError(s Scope, admitted bool) {
	if admitted {
		k.decide(s, 2, decisionFailOpen)
		return
	}
	k.decide(s, 3, decisionFailClosed)
}

func (k *Key) decide(s Scope, d int, name string) {
	if k == nil {
		return
	}
	s %= numScope
	c, ok := k.decisions[s][d].load()
	if !ok {
		c = k.decisions[s][d].store(k.m.limits.WithLabelValues(k.name, s.String(), name))
	}
	c.Inc()
}
