package config

import (
	"log/slog"
	"testing"
	"time"
)

// TestBuiltinValues checks every value a minimal file leaves to the contract's defaults.
func TestBuiltinValues(t *testing.T) {
	cleanEnv(t)
	c := mustParse(t, minimal)
	want := &Config{
		Server:  Server{Listen: "127.0.0.1:4000", MaxRequestBytes: 32 << 20, BodyTimeout: time.Minute, ShutdownGrace: 30 * time.Second, GCHeapFloor: 64 << 20},
		Logging: Logging{Level: slog.LevelInfo, Format: "json", MaxBodyBytes: 64 << 10},
		Models: []Model{{
			Name: "m", Provider: ProviderOpenAI, Endpoint: "https://example.com/v1", MaxTokens: 4096,
			Timeouts: Timeouts{Connect: 10 * time.Second, FirstByte: 120 * time.Second, Idle: 60 * time.Second, Total: 10 * time.Minute},
			TLS:      TLS{Verify: true},
			Retry: Retry{
				Attempts: 3, InitialBackoff: 500 * time.Millisecond, MaxBackoff: 20 * time.Second,
				Multiplier: 2, Jitter: 0.2, OnStatus: []int{429, 500, 502, 503, 504, 529},
				OnNetworkError: true, RespectRetryAfter: true,
			},
			Line: 2,
			ID:   "m#1", Weight: 1, APIs: []string{"chat", "completions", "responses"},
			HealthCheck: HealthCheck{Interval: 15 * time.Second, Timeout: 5 * time.Second},
		}},
		Routing: Routing{Strategy: "weighted", Health: Health{Failures: 3, Cooldown: 10 * time.Second, MaxCooldown: 5 * time.Minute}},
		Routes:  Routes{Groups: []Group{{Name: "m", Deployments: []int{0}, Line: 2}}, Exact: map[string]int{"m": 0}},
		Limits:  Limits{Store: "memory", OnStoreError: "fail_open"},
		Source:  "test.yaml",
	}
	if diff := cmpDiff(want, c); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
}

// TestMerge checks how defaults merge into a model: scalars and map keys one by
// one, lists whole.
func TestMerge(t *testing.T) {
	cleanEnv(t)
	c := mustParse(t, `
defaults:
	api_key: sk-default-0123456789
	max_tokens: 1000
	timeouts: {connect: 1s, idle: 2s}
	tls: {verify: false}
	retry: {attempts: 5, on_status: [429, 503]}
	headers:
		keep_only: [a, b]
		drop: [x-stainless-*]
		add: {X-A: default-a, X-B: default-b}
		force: {X-F: default-f}
	transforms:
		- drop: $.metadata
models:
	- name: overrides
		provider: anthropic
		endpoint: https://api.anthropic.com/
		api_key: ""
		timeouts: {idle: 3s}
		tls: {verify: true}
		retry: {on_status: [500]}
		headers:
			drop: []
			keep_only: [c]
			add: {x-b: model-b, X-C: model-c}
		transforms:
			- set: $.a
				value: 1
	- name: inherits
		provider: ollama
		endpoint: http://127.0.0.1:11434
`)
	type view struct {
		Key           Secret
		MaxTokens     int
		Timeouts      Timeouts
		Verify        bool
		Attempts      int
		OnStatus      []int
		Headers       Headers
		TransformKeys []string
	}
	views := make([]view, len(c.Models))
	for i, m := range c.Models {
		views[i] = view{m.APIKey, m.MaxTokens, m.Timeouts, m.TLS.Verify, m.Retry.Attempts, m.Retry.OnStatus, m.Headers, nil}
		for _, tr := range m.Transforms {
			views[i].TransformKeys = append(views[i].TransformKeys, tr.Drop+tr.Set)
		}
	}
	defaultTimeouts := Timeouts{Connect: time.Second, FirstByte: 120 * time.Second, Idle: 2 * time.Second, Total: 10 * time.Minute}
	modelTimeouts := defaultTimeouts
	modelTimeouts.Idle = 3 * time.Second
	want := []view{
		{
			Key: "", MaxTokens: 1000, Timeouts: modelTimeouts, Verify: true, Attempts: 5, OnStatus: []int{500},
			Headers: Headers{
				KeepOnly: []string{"c"}, Drop: nil,
				Add:   map[string]string{"X-A": "default-a", "x-b": "model-b", "X-C": "model-c"},
				Force: map[string]string{"X-F": "default-f"},
			},
			TransformKeys: []string{"$.a"},
		},
		{
			Key: "sk-default-0123456789", MaxTokens: 1000, Timeouts: defaultTimeouts, Verify: false, Attempts: 5, OnStatus: []int{429, 503},
			Headers: Headers{
				KeepOnly: []string{"a", "b"}, Drop: []string{"x-stainless-*"},
				Add:   map[string]string{"X-A": "default-a", "X-B": "default-b"},
				Force: map[string]string{"X-F": "default-f"},
			},
			TransformKeys: []string{"$.metadata"},
		},
	}
	if diff := cmpDiff(want, views); diff != "" {
		t.Errorf("merged models (-want +got):\n%s", diff)
	}
	if got := c.Models[0].Endpoint; got != "https://api.anthropic.com" {
		t.Errorf("endpoint = %q, want the trailing slash trimmed", got)
	}
}

// TestModelsShareNothing checks that each model owns its lists and maps.
func TestModelsShareNothing(t *testing.T) {
	cleanEnv(t)
	c := mustParse(t, `
defaults:
	headers: {add: {X-A: a}, drop: [x]}
models:
	- {name: a, provider: openai, endpoint: "https://x"}
	- {name: b, provider: openai, endpoint: "https://x"}
`)
	c.Models[0].Headers.Add["X-A"] = "changed"
	c.Models[0].Headers.Drop[0] = "changed"
	c.Models[0].Retry.OnStatus[0] = 1
	b := c.Models[1]
	if b.Headers.Add["X-A"] != "a" || b.Headers.Drop[0] != "x" || b.Retry.OnStatus[0] != 429 {
		t.Errorf("changing model a changed model b: %+v", b)
	}
}

func TestTransforms(t *testing.T) {
	cleanEnv(t)
	c := mustParse(t, head+`
		transforms:
			- regex: 'acme'
				replace: ""
				roles: [user, system]
				flags: iU
			- regex: x
				replace: ~
			- drop: $.metadata
			- set: $.temperature
				value: 0.2
			- append: $.messages
				value: {role: system, content: "Answer briefly.", n: [1, 2.5, true, null]}
			- set: $.stop
				value: null
`)
	want := []Transform{
		{Regex: "acme", Replace: "", Roles: []string{"user", "system"}, Flags: "iU", Line: 7},
		{Regex: "x", Line: 11},
		{Drop: "$.metadata", Line: 13},
		{Set: "$.temperature", Value: 0.2, Line: 14},
		{Append: "$.messages", Value: map[string]any{
			"role": "system", "content": "Answer briefly.", "n": []any{int64(1), 2.5, true, nil},
		}, Line: 16},
		{Set: "$.stop", Value: nil, Line: 18},
	}
	if diff := cmpDiff(want, c.Models[0].Transforms); diff != "" {
		t.Errorf("transforms (-want +got):\n%s", diff)
	}
	if got := want[0].Pattern(); got != "(?iU)acme" {
		t.Errorf("Pattern() = %q, want (?iU)acme", got)
	}
}

func TestSizes(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want int64
	}{
		{"bytes", "1024", 1024},
		{"B", "10B", 10},
		{"KiB", "64KiB", 64 << 10},
		{"MiB", "32MiB", 32 << 20},
		{"GiB with space", "1 GiB", 1 << 30},
		{"KB", "2KB", 2000},
		{"MB", "1MB", 1_000_000},
		{"GB lower case", "3gb", 3_000_000_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := size(true)(tt.in)
			if err != nil || got != tt.want {
				t.Errorf("size(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
			}
		})
	}
}

// TestCAFile checks that a CA bundle holding a certificate is accepted.
func TestCAFile(t *testing.T) {
	cleanEnv(t)
	c := mustParse(t, "defaults:\n\ttls: {ca_file: testdata/ca.pem}\n"+minimal)
	if got := c.Models[0].TLS.CAFile; got != "testdata/ca.pem" {
		t.Errorf("CAFile = %q", got)
	}
}
