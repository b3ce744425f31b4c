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
)

func serverFields(s *Server) []field {
	return []field{
		leaf("listen", &s.Listen, hostPort),
		secretList("api_keys", &s.APIKeys, routerKey),
		leaf("max_request_bytes", &s.MaxRequestBytes, sizeAtMost(true, maxRequestBytes)),
		leaf("body_timeout", &s.BodyTimeout, duration(true)),
		leaf("max_connections", &s.MaxConnections, intAtLeast(0)),
		leaf("shutdown_delay", &s.ShutdownDelay, duration(false)),
		leaf("shutdown_grace", &s.ShutdownGrace, duration(false)),
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

// modelFields are a model entry's fields: its identity, then the policy fields.
func modelFields(m *Model) []field {
	return append([]field{
		leaf("name", &m.Name, nonEmpty),
		leaf("provider", &m.Provider, oneOf("provider", ProviderOpenAI, ProviderAnthropic, ProviderOllama)),
		leaf("endpoint", &m.Endpoint, endpoint),
		leaf("upstream_model", &m.UpstreamModel, str),
	}, policyFields(m)...)
}

// rootFields are the top-level sections. Models are only kept here: they are decoded
// once the defaults section is known, wherever it appears in the file.
func rootFields(c *Config, defaults *Model, models **yaml.Node) []field {
	return []field{
		group("server", serverFields(&c.Server)),
		group("logging", loggingFields(&c.Logging)),
		group("defaults", policyFields(defaults)),
		{key: "models", kind: kindOther, set: func(_ *decoder, n *yaml.Node, _ string) { *models = n }},
	}
}

// builtinServer, builtinLogging and builtinModel hold the values of every setting
// that neither the file nor an override gives.
func builtinServer() Server {
	return Server{
		Listen:          "127.0.0.1:4000",
		MaxRequestBytes: 32 << 20,
		BodyTimeout:     60 * time.Second,
		ShutdownGrace:   30 * time.Second,
	}
}

func builtinLogging() Logging {
	return Logging{Level: slog.LevelInfo, Format: "json", MaxBodyBytes: 64 << 10}
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
	return c
}
