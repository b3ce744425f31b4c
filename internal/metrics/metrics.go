// Package metrics exposes llmrouter's Prometheus metrics, named after the
// OpenTelemetry GenAI semantic conventions, with label values taken only from the
// configuration so that the number of series is bounded by the config.
//
// One Metrics value lives for the whole process and owns the registry. Each compiled
// configuration gets a Set from Build: handles per model and deployment, resolved
// once, that the request path records into without maps, locks or allocations. A hot
// reload builds a new Set and Activates it; series whose labels are still configured
// keep counting, series of removed models, deployments and keys are dropped.
package metrics

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Bucket boundaries, in the unit of the series.
var (
	// durationBuckets are the conventions' advice for gen_ai.server.request.duration
	// and gen_ai.client.operation.duration.
	durationBuckets = []float64{0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92}
	// ttftBuckets are the conventions' advice for gen_ai.server.time_to_first_token.
	ttftBuckets = []float64{0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0}
	// tokenBuckets are the conventions' advice for gen_ai.client.token.usage.
	tokenBuckets = []float64{1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864}
	// overheadBuckets cover the router's own time, from 50µs to 100ms.
	overheadBuckets = []float64{0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1}
)

// Metrics is the process-wide registry and its metric families. Build it once with New.
type Metrics struct {
	reg *prometheus.Registry

	requests     *prometheus.CounterVec   // llmrouter_requests_total
	duration     *prometheus.HistogramVec // gen_ai_server_request_duration_seconds
	ttft         *prometheus.HistogramVec // gen_ai_server_time_to_first_token_seconds
	tokenUsage   *prometheus.HistogramVec // gen_ai_client_token_usage
	tokens       *prometheus.CounterVec   // llmrouter_tokens_total
	dropped      *prometheus.CounterVec   // llmrouter_dropped_fields_total
	inFlight     *prometheus.GaugeVec     // llmrouter_requests_in_flight
	streams      *prometheus.GaugeVec     // llmrouter_streams_in_flight
	overhead     *prometheus.HistogramVec // llmrouter_overhead_seconds
	attempts     *prometheus.CounterVec   // llmrouter_upstream_attempts_total
	attemptTime  *prometheus.HistogramVec // gen_ai_client_operation_duration_seconds
	retries      *prometheus.CounterVec   // llmrouter_upstream_retries_total
	fallbacks    *prometheus.CounterVec   // llmrouter_fallbacks_total
	ejections    *prometheus.CounterVec   // llmrouter_deployment_ejections_total
	limits       *prometheus.CounterVec   // llmrouter_limit_decisions_total
	reloads      *prometheus.CounterVec   // llmrouter_config_reloads_total
	reloadOK     prometheus.Gauge         // llmrouter_config_last_reload_successful
	reloadTime   prometheus.Gauge         // llmrouter_config_last_reload_success_timestamp_seconds
	vecs         []vec                    // every labelled family, for deleting retired series
	mu           sync.Mutex               // serialises Activate
	active       *Set                     // the Set last activated
	reloadFailed prometheus.Counter
	reloadDone   prometheus.Counter
}

// vec is one labelled family with its label names, so that Activate can delete the
// series of a retired label value from every family that carries that label.
type vec struct {
	*prometheus.MetricVec
	labels map[string]bool
}

// New builds the families and registers them, with the Go runtime and process
// collectors, on a registry of their own (never the global default registry, so two
// instances in one test binary do not collide).
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.requestFamilies()
	m.upstreamFamilies()
	m.operationFamilies()
	return m
}

// Registry returns the registry, for tests and for serving it elsewhere.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

func (m *Metrics) counter(name, help string, labels ...string) *prometheus.CounterVec {
	v := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	m.add(v, v.MetricVec, labels)
	return v
}

func (m *Metrics) gauge(name, help string, labels ...string) *prometheus.GaugeVec {
	v := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
	m.add(v, v.MetricVec, labels)
	return v
}

func (m *Metrics) histogram(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	v := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, labels)
	m.add(v, v.MetricVec, labels)
	return v
}

func (m *Metrics) add(c prometheus.Collector, mv *prometheus.MetricVec, labels []string) {
	m.reg.MustRegister(c)
	set := make(map[string]bool, len(labels))
	for _, l := range labels {
		set[l] = true
	}
	m.vecs = append(m.vecs, vec{MetricVec: mv, labels: set})
}

// requestFamilies are the per-client-request series.
func (m *Metrics) requestFamilies() {
	m.requests = m.counter("llmrouter_requests_total",
		"Client requests answered, by configured model, the deployment that answered, client API, status class and stream.",
		labelModel, labelProvider, labelDeployment, labelAPI, labelClass, labelStream)
	m.duration = m.histogram("gen_ai_server_request_duration_seconds",
		"GenAI server request duration (gen_ai.server.request.duration): from the request until the last byte of the answer.",
		durationBuckets, labelOperation, labelProvider, labelModel, labelDeployment, labelAPI, labelStream, labelErrorType)
	m.ttft = m.histogram("gen_ai_server_time_to_first_token_seconds",
		"Time to first token (gen_ai.server.time_to_first_token): from the request until the first byte of the answer reached the client.",
		ttftBuckets, labelOperation, labelProvider, labelModel, labelDeployment, labelAPI, labelStream)
	m.tokenUsage = m.histogram("gen_ai_client_token_usage",
		"Tokens used per request (gen_ai.client.token.usage), as the upstream reported them.",
		tokenBuckets, labelOperation, labelProvider, labelModel, labelDeployment, labelTokenType)
	m.tokens = m.counter("llmrouter_tokens_total",
		"Tokens as the upstream reported them: input, output, cache_read, cache_write, reasoning.",
		labelModel, labelProvider, labelDeployment, labelTokenType)
	m.dropped = m.counter("llmrouter_dropped_fields_total",
		"Request fields dropped because the upstream's API has no equivalent.",
		labelModel, labelProvider, labelDeployment, labelAPI)
	m.inFlight = m.gauge("llmrouter_requests_in_flight",
		"Client requests being handled.", labelModel, labelAPI)
	m.streams = m.gauge("llmrouter_streams_in_flight",
		"Streaming client requests being handled.", labelModel, labelAPI)
	m.overhead = m.histogram("llmrouter_overhead_seconds",
		"Time the router added to a request: its handling time minus the time spent waiting on upstreams.",
		overheadBuckets, labelModel, labelAPI, labelStream)
}

// upstreamFamilies are the per-attempt and per-deployment series.
func (m *Metrics) upstreamFamilies() {
	m.attempts = m.counter("llmrouter_upstream_attempts_total",
		"Upstream attempts, by deployment and outcome (error_type empty on success).",
		labelModel, labelProvider, labelDeployment, labelOperation, labelErrorType)
	m.attemptTime = m.histogram("gen_ai_client_operation_duration_seconds",
		"GenAI client operation duration (gen_ai.client.operation.duration) of each upstream attempt.",
		durationBuckets, labelOperation, labelProvider, labelModel, labelDeployment, labelErrorType)
	m.retries = m.counter("llmrouter_upstream_retries_total",
		"Attempts retried on the same model after a failure, by the deployment that failed and the cause.",
		labelModel, labelProvider, labelDeployment, labelCause)
	m.fallbacks = m.counter("llmrouter_fallbacks_total",
		"Requests moved from one model to its configured fallback, by cause.",
		labelModel, labelFallbackTo, labelCause)
	m.ejections = m.counter("llmrouter_deployment_ejections_total",
		"Deployments taken out of rotation after consecutive failures, by the cause of the last one.",
		labelModel, labelProvider, labelDeployment, labelCause)
}

// operationFamilies are the router's own operational series.
func (m *Metrics) operationFamilies() {
	m.limits = m.counter("llmrouter_limit_decisions_total",
		"Limit decisions: admitted, denied (by scope), or made without the store (fail_open, fail_closed).",
		labelKey, labelScope, labelDecision)
	m.reloads = m.counter("llmrouter_config_reloads_total",
		"Configuration reloads, by result (success or failure).", labelResult)
	m.reloadDone = m.reloads.WithLabelValues("success")
	m.reloadFailed = m.reloads.WithLabelValues("failure")
	m.reloadOK = prometheus.NewGauge(prometheus.GaugeOpts{Name: "llmrouter_config_last_reload_successful",
		Help: "1 if the last configuration load or reload succeeded, 0 if it failed (the previous config kept serving)."})
	m.reloadTime = prometheus.NewGauge(prometheus.GaugeOpts{Name: "llmrouter_config_last_reload_success_timestamp_seconds",
		Help: "Unix time of the last successful configuration load or reload."})
	m.reg.MustRegister(m.reloadOK, m.reloadTime)
}

// Handler serves GET /metrics in the Prometheus text format (or OpenMetrics, gzip,
// as the scraper negotiates). Mount it on the main listener outside the client API's
// authentication, or on its own listener (server.metrics_listen).
//
// A non-empty key makes the endpoint require "Authorization: Bearer <key>". It is
// compared in constant time over SHA-256 digests, so neither the key's bytes nor its
// length leak through timing; a wrong or missing key gets 401 and the key is never
// echoed. Only GET and HEAD are served.
func (m *Metrics) Handler(key string) http.Handler {
	h := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: 4, // a scrape is not free; a flood of them must not add up
	})
	want := sha256.Sum256([]byte("Bearer " + key))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if key != "" {
			got := sha256.Sum256([]byte(r.Header.Get("Authorization")))
			if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}
