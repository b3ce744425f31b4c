package config

import (
	"log/slog"
	"time"
)

// Providers an upstream can be.
const (
	ProviderOpenAI    = "openai"
	ProviderAnthropic = "anthropic"
	ProviderOllama    = "ollama"
)

// Config is a loaded, validated configuration: defaults merged into every model,
// ${VAR} expanded, env overrides applied. Nothing in it needs parsing per request.
type Config struct {
	Server  Server
	Logging Logging
	Models  []Model // in file order
	Source  string  // the file it came from, or "embedded default"
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
	Provider          string // ProviderOpenAI, ProviderAnthropic or ProviderOllama
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
