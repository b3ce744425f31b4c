package config

import (
	"log/slog"
	"time"
)

// Provider is the kind of service an upstream is: which API it is called with
// (the gateway maps a provider and a client's protocol to an upstream protocol).
type Provider string

// The providers an upstream can be.
const (
	ProviderOpenAI    Provider = "openai"    // OpenAI and OpenAI-compatible servers
	ProviderAnthropic Provider = "anthropic" // Anthropic's Messages API
	ProviderOllama    Provider = "ollama"    // Ollama's native API
)

// Providers lists every provider, in the order a config's error message names them.
var Providers = []Provider{ProviderOpenAI, ProviderAnthropic, ProviderOllama}

// Config is a loaded, validated configuration: defaults merged into every model,
// ${VAR} expanded, env overrides applied. Nothing in it needs parsing per request.
type Config struct {
	Server  Server
	Logging Logging
	// Models are the entries of the models list in file order, each one deployment
	// (several entries with one name are deployments of one model; see Routes).
	Models    []Model
	Routing   Routing   // balancing strategy, ejection policy, fallbacks as written
	Routes    Routes    // compiled from Models and Routing: groups, lookup, fallback chains
	Limits    Limits    // where rate limits and budgets are counted
	Telemetry Telemetry // traces
	Reload    Reload    // hot reload
	Source    string    // the file it came from, or "embedded default"
}

// Server is the listener's configuration.
type Server struct {
	Listen          string
	APIKeys         []Secret // non-empty: every /v1 request must carry one of them
	MaxRequestBytes int64
	BodyTimeout     time.Duration // the whole request body must arrive within this, from the handler's start
	MaxConnections  int           // client connections held at once; 0: half the process's open-file limit
	ShutdownDelay   time.Duration // /readyz answers 503 this long before the listener closes
	ShutdownGrace   time.Duration // in-flight requests get this long to finish
	// Keys are every router key in file order, plain ones with no name, models or
	// limits. APIKeys holds the same secrets, so that code which only authenticates
	// keeps working; a key's Models and limits are in Keys alone.
	Keys []Key
	// MetricsListen is the address of a listener that serves only GET /metrics; ""
	// serves it on Listen. Never behind the router's keys.
	MetricsListen string
	// MetricsKey, when set, is the bearer key GET /metrics requires.
	MetricsKey Secret
	// GCHeapFloor is the heap size below which the garbage collector does not run
	// (package gcfloor): a small live heap is collected once per about this many
	// bytes of allocation rather than every few MB. 0: off (GOGC alone). Unused
	// when the GOGC variable is set.
	GCHeapFloor int64
}

// Logging configures the access log and body logging.
type Logging struct {
	Level          slog.Level
	Format         string // "json" or "text"
	RequestHeaders bool
	RequestBody    bool
	ResponseBody   bool
	MaxBodyBytes   int64
}

// Model is one routed model name (or glob) with its fully merged policy.
type Model struct {
	Name              string // what clients send; may hold `*` globs
	Provider          Provider
	Endpoint          string // base URL, without a trailing slash
	UpstreamModel     string // empty: the requested name
	APIKey            Secret // empty: the client's credential is forwarded
	MaxTokens         int    // default max_tokens when translating to anthropic
	StrictTranslation bool   // an untranslatable field is a 400, not a drop
	Timeouts          Timeouts
	TLS               TLS
	Retry             Retry
	Headers           Headers
	Transforms        []Transform
	Line              int // YAML line of the model's entry; 0 for the embedded default

	// ID names this deployment in headers, logs, metrics and limits: unique in the
	// file, by default "<name>#<n>" for the n-th entry of that name. Health carries
	// across reloads by id, so an id set explicitly survives reordering the file.
	ID       string
	Weight   int // share of traffic among deployments of one priority, 1..1,000,000
	Priority int // lower is tried first; equal priorities are balanced
	// APIs are the OpenAI APIs an openai endpoint serves (APIChat, APICompletions,
	// APIResponses), all three by default. A client API listed passes through; any
	// other is translated to the first. nil for other providers.
	APIs []string
	// MaxTokensField is the Chat Completions member an openai endpoint reads the
	// output token limit from (MaxTokensField*); "" lets the router choose by
	// endpoint (max_completion_tokens for api.openai.com and Azure OpenAI,
	// max_tokens for any other). Empty for other providers.
	MaxTokensField string
	RPM            int64  // requests per minute this deployment takes; 0: unlimited
	TPM            int64  // tokens (input + output) per minute; 0: unlimited
	Price          *Price // what the deployment costs, for cost budgets (Config.Prices); nil: none
	HealthCheck    HealthCheck
}

// The members an OpenAI-compatible endpoint may read the output token limit from
// (Model.MaxTokensField).
const (
	MaxTokensFieldMaxTokens           = "max_tokens"            // OpenAI-compatible servers
	MaxTokensFieldMaxCompletionTokens = "max_completion_tokens" // OpenAI itself
)

// OpenAI APIs an openai endpoint may serve (Model.APIs).
const (
	APIChat        = "chat"        // POST /chat/completions
	APICompletions = "completions" // POST /completions
	APIResponses   = "responses"   // POST /responses
)

// Price is what a deployment costs, in US dollars per million tokens.
type Price struct {
	InputPerMTok  float64
	OutputPerMTok float64
}

// HealthCheck is a deployment's active health check: GET URL every Interval, a 2xx
// within Timeout is healthy. Off when URL is empty.
type HealthCheck struct {
	Path     string // as configured, e.g. /health; "" is off
	URL      string // Path resolved against the endpoint's scheme and host
	Interval time.Duration
	Timeout  time.Duration
}

// Timeouts bound the phases of an upstream request.
type Timeouts struct {
	Connect   time.Duration // TCP + TLS handshake
	FirstByte time.Duration // until the upstream's response headers
	Idle      time.Duration // longest silence between body reads / stream events
	Total     time.Duration // the whole request, retries and streaming included
}

// TLS configures certificate verification towards the upstream.
type TLS struct {
	Verify bool
	CAFile string
}

// Retry is the per-model retry policy.
type Retry struct {
	Attempts          int // total tries, the first included
	InitialBackoff    time.Duration
	MaxBackoff        time.Duration
	Multiplier        float64
	Jitter            float64 // 0.2 = ±20%
	OnStatus          []int
	OnNetworkError    bool
	RespectRetryAfter bool
}

// Headers are the header rules for the request sent upstream, applied in field order.
type Headers struct {
	KeepOnly []string          // non-empty: drop every client header not listed
	Drop     []string          // case-insensitive names, `*` globs allowed
	Add      map[string]string // set only if absent
	Force    map[string]string // always set
}

// Transform is one content rule. Exactly one of Regex, Drop, Set, Append is non-empty.
type Transform struct {
	Regex   string
	Replace string
	Roles   []string
	Flags   string
	Drop    string // RFC 9535 JSONPath
	Set     string // RFC 9535 JSONPath
	Append  string // RFC 9535 JSONPath
	Value   any    // JSON-compatible value for Set and Append
	Line    int    // YAML line of the rule
}

// Key is one router key. A plain key (a string in server.api_keys) has no name, may
// use every model and has no limits.
type Key struct {
	Name   string // logged and used as a metrics label; never secret; "" for a plain key
	Key    Secret
	Models []string // names and `*` globs the key may request; nil: every model
	RPM    int64    // requests per minute; 0: unlimited
	TPM    int64    // tokens per minute; 0: unlimited
	Budget Budget
	Admin  bool // may read every key's budget usage (GET /v1/llmrouter/usage)
	Line   int  // YAML line of the entry
}

// Budget caps what a key uses per period.
type Budget struct {
	Tokens int64   // input plus output tokens per period; 0: no cap
	Cost   float64 // US dollars per period, from the models' prices; 0: no cap
	Period string  // PeriodDay or PeriodMonth (UTC); "": no budget
}

// Budget periods.
const (
	PeriodDay   = "day"
	PeriodMonth = "month"
)

// Routing is the routing section: how a group's deployments are balanced and
// ejected, and the fallbacks as written (Routes holds them resolved).
type Routing struct {
	Strategy string // StrategyWeighted, StrategyLeastInFlight or StrategyLatency
	Health   Health
	// Fallbacks map a model name (or a glob pattern of the models list) to the
	// models tried, in order, when every deployment failed for a retryable cause;
	// ContextWindowFallbacks when the prompt is too long for the model;
	// ContentPolicyFallbacks when the model refused on content policy.
	Fallbacks              map[string][]string
	ContextWindowFallbacks map[string][]string
	ContentPolicyFallbacks map[string][]string
}

// Balancing strategies (Routing.Strategy), as package balance names them.
const (
	StrategyWeighted      = "weighted"
	StrategyLeastInFlight = "least_in_flight"
	StrategyLatency       = "latency"
)

// Health is when a deployment is ejected (passive health), as in health.Policy.
type Health struct {
	Failures    int           // consecutive upstream-caused failures that eject
	Cooldown    time.Duration // the first ejection; doubled on each repeat
	MaxCooldown time.Duration // the cap of the growth and of a Retry-After
}

// Limits says where rate limits and budgets are counted.
type Limits struct {
	// Store is StoreMemory or a Redis/Valkey URL (redis://, rediss://, unix://).
	// A secret: the URL may hold a password; show it with StoreShown.
	Store        Secret
	OnStoreError string // FailOpen or FailClosed
}

// Limit stores and policies.
const (
	StoreMemory = "memory"
	FailOpen    = "fail_open"   // the store unreachable: admit the request unchecked
	FailClosed  = "fail_closed" // the store unreachable: refuse it (503)
)

// Telemetry is the telemetry section.
type Telemetry struct {
	Traces Traces
}

// Traces configures OpenTelemetry tracing.
type Traces struct {
	Endpoint       string // OTLP/HTTP collector; "": off unless the OTEL_* variables set one
	CaptureContent bool   // prompts and completions in spans
}

// Reload is the reload section.
type Reload struct {
	Watch bool // also reload when the config file changes (SIGHUP always reloads)
}
