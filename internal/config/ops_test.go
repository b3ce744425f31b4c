package config

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/llmrouter/llmrouter/internal/balance"
	"github.com/llmrouter/llmrouter/internal/health"
	"github.com/llmrouter/llmrouter/internal/limit"
)

// The operations sections decode into their fields.
func TestOperationsSections(t *testing.T) {
	cleanEnv(t)
	c := mustParse(t, `
server:
	metrics_listen: 127.0.0.1:9090
	metrics_key: metrics-key-0123456789
limits:
	store: rediss://app:s3cret-pass@redis.internal:6380/2
	on_store_error: fail_closed
telemetry:
	traces: {endpoint: "http://collector:4318", capture_content: true}
reload:
	watch: true
`+minimal)
	if c.Server.MetricsListen != "127.0.0.1:9090" || c.Server.MetricsKey != "metrics-key-0123456789" {
		t.Errorf("metrics: %q, %q", c.Server.MetricsListen, c.Server.MetricsKey.Reveal())
	}
	wantLimits := Limits{Store: "rediss://app:s3cret-pass@redis.internal:6380/2", OnStoreError: FailClosed}
	if c.Limits != wantLimits {
		t.Errorf("limits = %+v", c.Limits)
	}
	if got := c.Limits.StoreShown(); got != "rediss://app:xxxxx@redis.internal:6380/2" {
		t.Errorf("StoreShown = %q", got)
	}
	if c.Telemetry != (Telemetry{Traces{Endpoint: "http://collector:4318", CaptureContent: true}}) || !c.Reload.Watch {
		t.Errorf("telemetry %+v, reload %+v", c.Telemetry, c.Reload)
	}
	want := []string{"metrics-key-0123456789", "rediss://app:s3cret-pass@redis.internal:6380/2", "s3cret-pass"}
	if diff := cmpDiff(want, c.Secrets()); diff != "" {
		t.Errorf("secrets (-want +got):\n%s", diff)
	}
	for store, shown := range map[string]string{
		"memory": "memory", "MEMORY": "memory", `""`: "memory",
		"redis://localhost:6379/0":            "redis://localhost:6379/0",
		"redis://:pw-123456@h:1/0?protocol=3": "redis://:xxxxx@h:1/0",
		"unix:///run/redis.sock":              "unix:///run/redis.sock",
	} {
		c := mustParse(t, "limits:\n\tstore: "+store+"\n"+minimal)
		if got := c.Limits.StoreShown(); got != shown {
			t.Errorf("store %s shown as %q, want %q", store, got, shown)
		}
	}
}

// Every rule of the operations sections, each problem with its line; no problem
// shows the store's password.
func TestOperationsErrors(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{"metrics_listen without port", "server:\n\tmetrics_listen: localhost\n", "line 2: server.metrics_listen: want host:port"},
		{"metrics_listen is listen", "server:\n\tlisten: 0.0.0.0:4000\n\tmetrics_listen: 0.0.0.0:4000\n", "line 3: server.metrics_listen: the same address as listen"},
		{"metrics_key with a space", "server:\n\tmetrics_key: \"a b\"\n", "line 2: server.metrics_key: key contains spaces or control characters (a stray newline?) (value hidden: it is a key)"},
		{"store scheme", "limits:\n\tstore: http://user:hunter2pass@redis:6379\n", `line 2: limits.store: want memory or a redis://, rediss:// or unix:// URL, got scheme "http" (value hidden: it is a key)`},
		{"store not a URL", "limits:\n\tstore: \"redis://u:hunter2pass@[::1\"\n", "line 2: limits.store: want memory or a redis://, rediss:// or unix:// URL; this one does not parse"},
		{"store database", "limits:\n\tstore: redis://:hunter2pass@redis:6379/zero\n", `line 2: limits.store: invalid Redis URL: redis: invalid database number: "zero"`},
		{"store option", "limits:\n\tstore: redis://:hunter2pass@redis:6379/0?hunter2pass=1\n", "line 2: limits.store: invalid Redis URL: redis: unexpected option: xxxxx"},
		{"store a word", "limits:\n\tstore: redis\n", `line 2: limits.store: want memory or a redis://, rediss:// or unix:// URL, got "redis"`},
		{"policy unknown", "limits:\n\ton_store_error: retry\n", `line 2: limits.on_store_error: unknown policy "retry" (want fail_open or fail_closed)`},
		{"unknown limits key", "limits:\n\tredis: x\n", "line 2: limits.redis: unknown key (valid keys: store, on_store_error)"},
		{"traces endpoint scheme", "telemetry:\n\ttraces:\n\t\tendpoint: grpc://collector:4317\n", `line 3: telemetry.traces.endpoint: want an http:// or https:// URL such as http://collector:4318, got "grpc://collector:4317"`},
		{"traces endpoint credentials", "telemetry:\n\ttraces: {endpoint: \"http://u:p@c:4318\"}\n", "line 2: telemetry.traces.endpoint: must not hold credentials (user:password@); set OTEL_EXPORTER_OTLP_HEADERS"},
		{"traces endpoint query", "telemetry:\n\ttraces: {endpoint: \"http://c:4318/v1/traces?key=k\"}\n", `line 2: telemetry.traces.endpoint: must not have a query or fragment: "http://c:4318/v1/traces?…"`},
		{"capture not a bool", "telemetry:\n\ttraces: {capture_content: sometimes}\n", "line 2: telemetry.traces.capture_content: want true or false"},
		{"watch not a bool", "reload: {watch: often}\n", "line 1: reload.watch: want true or false"},
		{"reload not a mapping", "reload: true\n", "line 1: reload: want a mapping"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cleanEnv(t)
			_, err := Parse(yamlDoc(tt.doc+minimal), "test.yaml")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v\nwant it to contain %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error shows the password: %v", err)
			}
		})
	}
}

// Overrides reach every scalar of the new sections, the store included, and a
// bad one names its variable without showing a password.
func TestOverridesOfNewSections(t *testing.T) {
	cleanEnv(t)
	env := map[string]string{
		"LLMROUTER_ROUTING_STRATEGY":                 "latency",
		"LLMROUTER_ROUTING_HEALTH_FAILURES":          "5",
		"LLMROUTER_ROUTING_HEALTH_MAX_COOLDOWN":      "1m",
		"LLMROUTER_LIMITS_STORE":                     "redis://:env-pass-0123@redis:6379/1",
		"LLMROUTER_LIMITS_ON_STORE_ERROR":            "fail_closed",
		"LLMROUTER_TELEMETRY_TRACES_ENDPOINT":        "https://otel.example.com",
		"LLMROUTER_TELEMETRY_TRACES_CAPTURE_CONTENT": "true",
		"LLMROUTER_RELOAD_WATCH":                     "true",
		"LLMROUTER_SERVER_METRICS_LISTEN":            ":9090",
		"LLMROUTER_SERVER_METRICS_KEY":               "env-metrics-key-0123",
		"LLMROUTER_DEFAULTS_HEALTH_CHECK_PATH":       "/health",
		"LLMROUTER_DEFAULTS_HEALTH_CHECK_INTERVAL":   "5s",
		"LLMROUTER_SERVER_API_KEYS":                  "env-key-0123456789",
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	c := mustParse(t, `
server:
	api_keys:
		- name: file
			key: file-key-0123456789
routing:
	strategy: weighted
	health: {failures: 2}
limits: {store: memory}
`+minimal)
	if r := c.Routing; r.Strategy != StrategyLatency || r.Health.Failures != 5 || r.Health.MaxCooldown != time.Minute {
		t.Errorf("routing = %+v", r)
	}
	if c.Limits != (Limits{Store: "redis://:env-pass-0123@redis:6379/1", OnStoreError: FailClosed}) {
		t.Errorf("limits = %+v", c.Limits)
	}
	if c.Telemetry.Traces != (Traces{Endpoint: "https://otel.example.com", CaptureContent: true}) || !c.Reload.Watch {
		t.Errorf("telemetry %+v, reload %+v", c.Telemetry, c.Reload)
	}
	if c.Server.MetricsListen != ":9090" || c.Server.MetricsKey != "env-metrics-key-0123" {
		t.Errorf("metrics %q, %q", c.Server.MetricsListen, c.Server.MetricsKey.Reveal())
	}
	if hc := c.Models[0].HealthCheck; hc.URL != "https://example.com/health" || hc.Interval != 5*time.Second {
		t.Errorf("health check = %+v", hc)
	}
	// The list override replaces the file's keys, object ones included, with plain ones.
	if diff := cmpDiff([]Key{{Key: "env-key-0123456789"}}, c.Server.Keys); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}

	cleanEnv(t)
	t.Setenv("LLMROUTER_LIMITS_STORE", "redis://:env-pass-0123@redis:6379/x")
	_, err := Parse(yamlDoc(minimal), "test.yaml")
	if err == nil || !strings.Contains(err.Error(), `LLMROUTER_LIMITS_STORE: limits.store: invalid Redis URL`) || strings.Contains(err.Error(), "env-pass") {
		t.Errorf("error = %v", err)
	}
	for _, name := range []string{"LLMROUTER_ROUTING_FALLBACKS", "LLMROUTER_ROUTING_HEALTH", "LLMROUTER_TELEMETRY_TRACES"} {
		for _, o := range overrides() {
			if o.name == name {
				t.Errorf("%s is an override; want only scalars and lists", name)
			}
		}
	}
}

// The builtin values and bounds mirror the engines' own (config imports none of
// them, so that the engines may import config).
func TestBuiltinsMatchEngines(t *testing.T) {
	p := health.Policy{}.WithDefaults()
	r := builtinRouting()
	if r.Health != (Health{Failures: p.Failures, Cooldown: p.Cooldown, MaxCooldown: p.MaxCooldown}) {
		t.Errorf("routing.health %+v, health.Policy %+v", r.Health, p)
	}
	if s, err := balance.ParseStrategy(r.Strategy); err != nil || s != balance.Weighted {
		t.Errorf("strategy %q: %v, %v", r.Strategy, s, err)
	}
	for _, name := range []string{StrategyWeighted, StrategyLeastInFlight, StrategyLatency} {
		if s, err := balance.ParseStrategy(name); err != nil || s.String() != name {
			t.Errorf("balance does not know %q: %v", name, err)
		}
	}
	if maxDeployments != balance.MaxDeployments || maxWeight != balance.MaxWeight {
		t.Errorf("bounds %d, %d; balance %d, %d", maxDeployments, maxWeight, balance.MaxDeployments, balance.MaxWeight)
	}
	if h := (health.Policy{Failures: maxFailures, Cooldown: time.Second}).WithDefaults(); h.Validate() != nil {
		t.Errorf("failures %d refused by health: %v", maxFailures, h.Validate())
	}
	if h := (health.Policy{Failures: maxFailures + 1}).WithDefaults(); h.Validate() == nil {
		t.Errorf("health accepts %d failures; config refuses them", maxFailures+1)
	}
	if defaultCheckInterval != health.DefaultCheckInterval || defaultCheckTimeout != health.DefaultCheckTimeout {
		t.Errorf("check defaults %v, %v", defaultCheckInterval, defaultCheckTimeout)
	}
	if _, err := limit.NewScope("key:a", limit.Rule{Budget: limit.Budget{Cost: maxDollars, Period: limit.Month}}); err != nil {
		t.Errorf("the largest cost budget is refused by limit: %v", err)
	}
	if _, err := limit.Open(limit.Options{Prices: map[string]limit.Price{"m": {Input: maxDollars, Output: maxDollars}}}); err != nil {
		t.Errorf("the largest price is refused by limit: %v", err)
	}
	// Every store the config accepts, limit opens (without reaching it).
	for _, store := range []string{"memory", "redis://:pw@127.0.0.1:1/0", "rediss://u:p@h:6380/3", "unix:///tmp/r.sock?db=2"} {
		cleanEnv(t)
		c := mustParse(t, "limits: {store: \""+store+"\"}\n"+minimal)
		eng, err := limit.Open(limit.Options{Store: c.Limits.Store.Reveal()})
		if err != nil {
			t.Errorf("limit refuses %s: %v", c.Limits.StoreShown(), err)
			continue
		}
		eng.Close()
	}
	if !slices.Contains(causeKeys[:], "content_policy_fallbacks") {
		t.Error("cause keys")
	}
}
