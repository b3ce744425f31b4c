package config

import (
	"log/slog"
	"maps"
	"slices"
	"time"

	"go.yaml.in/yaml/v3"
)

// The schema: one table of fields per YAML mapping, each bound to the struct field its
// value goes to. Decoding a section writes over values already there, which is how
// defaults merge: builtin values, then the defaults section, then the model's own.

// Upper bounds of the schema's counts and sizes. Each is far above any sane setting
// and far below what would let one request, or a mistyped number, hold the router:
// every attempt is a billed upstream call; the request body is held in memory (and
// decoded again by JSONPath transforms); a logged body is held per request and
// written into one log line; every transform runs on every request.
const (
	maxAttempts     = 10
	maxRequestBytes = 256 << 20
	maxLoggedBody   = 16 << 20
	maxTransforms   = 64
	// maxGCHeapFloor bounds server.gc_heap_floor: garbage of this size may
	// accumulate before a collection.
	maxGCHeapFloor = 4 << 30
	// Deployments: as package balance bounds them (a deployment is one bit of a
	// request's tried set; weights of a group sum in an int).
	maxDeployments = 64
	maxWeight      = 1_000_000
	maxPriority    = 1_000_000
	// maxFailures is health.Policy's bound on the failures that eject.
	maxFailures = 1000
	// maxDollars bounds prices and cost budgets, as package limit does (sums of
	// nano-dollars stay exact in a float64).
	maxDollars = 1e6
	// maxCount bounds rpm, tpm and token budgets: far above any real limit, far
	// below an overflow.
	maxCount = 1e15
)

// Built-in values of the routing section and of active health checks, as packages
// health and balance define them (TestBuiltinsMatchEngines keeps them equal).
const (
	defaultFailures      = 3
	defaultCooldown      = 10 * time.Second
	defaultMaxCooldown   = 5 * time.Minute
	defaultCheckInterval = 15 * time.Second
	defaultCheckTimeout  = 5 * time.Second
)

func serverFields(s *Server) []field {
	return []field{
		leaf("listen", &s.Listen, hostPort),
		{key: "api_keys", kind: kindList, set: routerKeys(&s.APIKeys, &s.Keys)},
		leaf("max_request_bytes", &s.MaxRequestBytes, sizeAtMost(true, maxRequestBytes)),
		leaf("body_timeout", &s.BodyTimeout, duration(true)),
		leaf("max_connections", &s.MaxConnections, intAtLeast(0)),
		leaf("gc_heap_floor", &s.GCHeapFloor, sizeAtMost(false, maxGCHeapFloor)),
		leaf("shutdown_delay", &s.ShutdownDelay, duration(false)),
		leaf("shutdown_grace", &s.ShutdownGrace, duration(false)),
		leaf("metrics_listen", &s.MetricsListen, optional(hostPort)),
		secretLeaf("metrics_key", &s.MetricsKey, secret),
	}
}

func loggingFields(l *Logging) []field {
	return []field{
		leaf("level", &l.Level, level),
		leaf("format", &l.Format, oneOf("format", "json", "text")),
		leaf("request_headers", &l.RequestHeaders, boolean),
		leaf("request_body", &l.RequestBody, boolean),
		leaf("response_body", &l.ResponseBody, boolean),
		leaf("max_body_bytes", &l.MaxBodyBytes, sizeAtMost(false, maxLoggedBody)),
	}
}

// policyFields are the fields of a model that the defaults section may set too.
func policyFields(m *Model) []field {
	return []field{
		secretLeaf("api_key", &m.APIKey, secret),
		leaf("max_tokens", &m.MaxTokens, intAtLeast(1)),
		leaf("strict_translation", &m.StrictTranslation, boolean),
		group("timeouts", []field{
			leaf("connect", &m.Timeouts.Connect, durationAtMost(true, 10*time.Minute)),
			leaf("first_byte", &m.Timeouts.FirstByte, durationAtMost(true, time.Hour)),
			leaf("idle", &m.Timeouts.Idle, durationAtMost(true, time.Hour)),
			leaf("total", &m.Timeouts.Total, durationAtMost(true, 24*time.Hour)),
		}),
		group("tls", []field{
			leaf("verify", &m.TLS.Verify, boolean),
			leaf("ca_file", &m.TLS.CAFile, caFile),
		}),
		group("retry", retryFields(&m.Retry)),
		group("headers", headerFields(&m.Headers)),
		{key: "transforms", kind: kindOther, set: transforms(&m.Transforms)},
		group("health_check", []field{
			leaf("path", &m.HealthCheck.Path, checkPath),
			leaf("interval", &m.HealthCheck.Interval, durationIn(time.Second, time.Hour)),
			leaf("timeout", &m.HealthCheck.Timeout, durationIn(time.Millisecond, time.Minute)),
		}),
	}
}

func retryFields(r *Retry) []field {
	return []field{
		leaf("attempts", &r.Attempts, intIn(1, maxAttempts, "total tries, the first included")),
		leaf("initial_backoff", &r.InitialBackoff, durationAtMost(true, time.Hour)),
		leaf("max_backoff", &r.MaxBackoff, durationAtMost(true, time.Hour)),
		leaf("multiplier", &r.Multiplier, floatIn(1, 10)),
		leaf("jitter", &r.Jitter, floatIn(0, 1)),
		list("on_status", &r.OnStatus, statusCode),
		leaf("on_network_error", &r.OnNetworkError, boolean),
		leaf("respect_retry_after", &r.RespectRetryAfter, boolean),
	}
}

// modelFields are a model entry's fields: its identity and place among the
// deployments of its name, then the policy fields.
func modelFields(m *Model) []field {
	return append([]field{
		leaf("name", &m.Name, nonEmpty),
		leaf("id", &m.ID, deploymentID),
		leaf("provider", &m.Provider, oneOf("provider", Providers...)),
		leaf("endpoint", &m.Endpoint, endpoint),
		leaf("upstream_model", &m.UpstreamModel, str),
		list("apis", &m.APIs, oneOf("API", APIChat, APICompletions, APIResponses)),
		leaf("max_tokens_field", &m.MaxTokensField, oneOf("field", MaxTokensFieldMaxTokens, MaxTokensFieldMaxCompletionTokens)),
		leaf("weight", &m.Weight, intIn(1, maxWeight, "share of traffic")),
		leaf("priority", &m.Priority, intIn(-maxPriority, maxPriority, "lower is tried first")),
		leaf("rpm", &m.RPM, count),
		leaf("tpm", &m.TPM, count),
		{key: "price", kind: kindOther, set: price(&m.Price)},
	}, policyFields(m)...)
}

func priceFields(p *Price) []field {
	return []field{
		leaf("input_per_mtok", &p.InputPerMTok, floatIn(0, maxDollars)),
		leaf("output_per_mtok", &p.OutputPerMTok, floatIn(0, maxDollars)),
	}
}

func routingFields(r *Routing) []field {
	return []field{
		leaf("strategy", &r.Strategy, oneOf("strategy", StrategyWeighted, StrategyLeastInFlight, StrategyLatency)),
		group("health", []field{
			leaf("failures", &r.Health.Failures, intIn(1, maxFailures, "consecutive failures")),
			leaf("cooldown", &r.Health.Cooldown, durationAtMost(true, time.Hour)),
			leaf("max_cooldown", &r.Health.MaxCooldown, durationAtMost(true, 24*time.Hour)),
		}),
		{key: "fallbacks", kind: kindOther, set: fallbackMap(causeRetryable, &r.Fallbacks)},
		{key: "context_window_fallbacks", kind: kindOther, set: fallbackMap(causeContextWindow, &r.ContextWindowFallbacks)},
		{key: "content_policy_fallbacks", kind: kindOther, set: fallbackMap(causeContentPolicy, &r.ContentPolicyFallbacks)},
	}
}

func limitsFields(l *Limits) []field {
	return []field{
		{key: "store", kind: kindScalar, set: limitStore(&l.Store)},
		leaf("on_store_error", &l.OnStoreError, oneOf("policy", FailOpen, FailClosed)),
	}
}

func telemetryFields(t *Telemetry) []field {
	return []field{
		group("traces", []field{
			leaf("endpoint", &t.Traces.Endpoint, optional(traceEndpoint)),
			leaf("capture_content", &t.Traces.CaptureContent, boolean),
		}),
	}
}

func reloadFields(r *Reload) []field {
	return []field{leaf("watch", &r.Watch, boolean)}
}

// rootFields are the top-level sections. Models are only kept here: they are decoded
// once the defaults section is known, wherever it appears in the file.
func rootFields(c *Config, defaults *Model, models **yaml.Node) []field {
	return append([]field{
		group("server", serverFields(&c.Server)),
		group("logging", loggingFields(&c.Logging)),
		group("defaults", policyFields(defaults)),
		{key: "models", kind: kindOther, set: func(_ *decoder, n *yaml.Node, _ string) { *models = n }},
	}, sectionFields(c)...)
}

// sectionFields are the top-level sections besides server, logging, defaults and
// models: every scalar in them can be overridden by an LLMROUTER_* variable too.
func sectionFields(c *Config) []field {
	return []field{
		group("routing", routingFields(&c.Routing)),
		group("limits", limitsFields(&c.Limits)),
		group("telemetry", telemetryFields(&c.Telemetry)),
		group("reload", reloadFields(&c.Reload)),
	}
}

// DefaultGCHeapFloor is server.gc_heap_floor when the config does not set it. In
// the gateway's in-process benchmark, 64 MiB ran 16x fewer GC cycles than none and
// cut CPU per request by 30 % (32 MiB: 27 %, 128 MiB: no better than 64); the heap
// still peaks lower than it does at 1,000 open streams, whose live heap (~40 MB)
// puts the goal above the floor anyway.
const DefaultGCHeapFloor = 64 << 20

// builtinServer, builtinLogging and builtinModel hold the values of every setting
// that neither the file nor an override gives.
func builtinServer() Server {
	return Server{
		Listen:          "127.0.0.1:4000",
		MaxRequestBytes: 32 << 20,
		BodyTimeout:     60 * time.Second,
		ShutdownGrace:   30 * time.Second,
		GCHeapFloor:     DefaultGCHeapFloor,
	}
}

func builtinLogging() Logging {
	return Logging{Level: slog.LevelInfo, Format: "json", MaxBodyBytes: 64 << 10}
}

func builtinRouting() Routing {
	return Routing{
		Strategy: StrategyWeighted,
		Health:   Health{Failures: defaultFailures, Cooldown: defaultCooldown, MaxCooldown: defaultMaxCooldown},
	}
}

func builtinLimits() Limits {
	return Limits{Store: StoreMemory, OnStoreError: FailOpen}
}

func builtinModel() Model {
	return Model{
		MaxTokens: 4096,
		Timeouts: Timeouts{
			Connect:   10 * time.Second,
			FirstByte: 120 * time.Second,
			Idle:      60 * time.Second,
			Total:     10 * time.Minute,
		},
		TLS: TLS{Verify: true},
		Retry: Retry{
			Attempts:          3,
			InitialBackoff:    500 * time.Millisecond,
			MaxBackoff:        20 * time.Second,
			Multiplier:        2,
			Jitter:            0.2,
			OnStatus:          []int{429, 500, 502, 503, 504, 529},
			OnNetworkError:    true,
			RespectRetryAfter: true,
		},
		Weight:      1,
		HealthCheck: HealthCheck{Interval: defaultCheckInterval, Timeout: defaultCheckTimeout},
	}
}

// clone copies m deeply enough that decoding into the copy leaves m untouched.
func (m Model) clone() Model {
	c := m
	c.Retry.OnStatus = slices.Clone(m.Retry.OnStatus)
	c.Headers.KeepOnly = slices.Clone(m.Headers.KeepOnly)
	c.Headers.Drop = slices.Clone(m.Headers.Drop)
	c.Headers.Add = maps.Clone(m.Headers.Add)
	c.Headers.Force = maps.Clone(m.Headers.Force)
	c.Transforms = slices.Clone(m.Transforms)
	c.APIs = slices.Clone(m.APIs)
	if m.Price != nil {
		p := *m.Price
		c.Price = &p
	}
	return c
}
