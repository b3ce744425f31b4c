package config

import (
	"strings"
	"testing"
)

// A config that uses none of deployments, routing, named keys, limits, metrics,
// traces or reload is summarised exactly as before they existed.
func TestSummaryUnchangedWithoutNewSections(t *testing.T) {
	cleanEnv(t)
	c := mustParse(t, `
server:
	listen: 0.0.0.0:4000
	api_keys: [router-key-0123456789, sk-proj-abcdefgh12345678]
models:
	- name: gpt-4o
		provider: openai
		endpoint: https://api.openai.com/v1
		upstream_model: gpt-4o-2024-08-06
		api_key: sk-test-0123456789abcd
		tls: {verify: false}
		strict_translation: true
		transforms:
			- drop: $.metadata
	- name: claude-*
		provider: anthropic
		endpoint: https://api.anthropic.com
	- name: "*"
		provider: ollama
		endpoint: http://127.0.0.1:11434
`)
	// The output of the summary before deployments existed, for this file.
	want := `config: test.yaml
listen: 0.0.0.0:4000
server api_keys: 2 (****6789, ****5678)
models: 3
  NAME      PROVIDER   ENDPOINT                   UPSTREAM MODEL     KEY          NOTES
  gpt-4o    openai     https://api.openai.com/v1  gpt-4o-2024-08-06  ****abcd     TLS NOT VERIFIED, strict, 1 transforms
  claude-*  anthropic  https://api.anthropic.com  (as requested)     passthrough  
  *         ollama     http://127.0.0.1:11434     (as requested)     passthrough  
`
	if diff := cmpDiff(want, Summary(c)); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
}

// The summary prints the groups with their deployments, the routing, the resolved
// chains, the named keys with models and limits, the store, metrics, traces and
// reload.
func TestSummaryOfNewSections(t *testing.T) {
	cleanEnv(t)
	c := mustParse(t, `
server:
	metrics_listen: 127.0.0.1:9090
	api_keys:
		- name: team-search
			key: team-key-0123456789
			models: [gpt-4o, "claude-*"]
			rpm: 600
			budget: {tokens: 5000, cost: 20, period: month}
		- name: batch
			key: batch-key-0123456789
			budget: {period: day}
			admin: true
models:
	- name: gpt-4o
		id: gpt-4o-openai
		provider: openai
		endpoint: https://api.openai.com/v1
		weight: 3
		rpm: 100
		price: {input_per_mtok: 2.5, output_per_mtok: 10}
	- name: gpt-4o
		provider: openai
		endpoint: http://vllm:8000/v1
		priority: 1
		health_check: {path: /health}
		price: {input_per_mtok: 0, output_per_mtok: 0}
	- name: claude-*
		provider: anthropic
		endpoint: https://api.anthropic.com
		price: {input_per_mtok: 3, output_per_mtok: 15}
routing:
	strategy: latency
	fallbacks: {gpt-4o: [claude-sonnet-4-5]}
	context_window_fallbacks: {gpt-4o: [claude-sonnet-4-5]}
limits:
	store: redis://redis:6379/0
	on_store_error: fail_closed
telemetry:
	traces: {endpoint: "http://collector:4318"}
reload: {watch: true}
`)
	got := Summary(c)
	want := `routing: strategy latency; a deployment is ejected after 3 consecutive failures for 10s, growing to 5m0s
deployments: 3 in 2 models
  MODEL     ID             PROVIDER   ENDPOINT                   WEIGHT  PRIORITY  LIMITS   PRICE              HEALTH CHECK
  gpt-4o    gpt-4o-openai  openai     https://api.openai.com/v1  3       0         rpm 100  $2.5/$10 per Mtok  -
            gpt-4o#2       openai     http://vllm:8000/v1        1       1         -        $0/$0 per Mtok     http://vllm:8000/health every 15s
  claude-*  claude-*#1     anthropic  https://api.anthropic.com  1       0         -        $3/$15 per Mtok    -
fallbacks:
  gpt-4o -> claude-sonnet-4-5
context_window_fallbacks:
  gpt-4o -> claude-sonnet-4-5
keys: 2 named, 0 plain (every model, no limits)
  NAME           MODELS            LIMITS   BUDGET
  team-search    gpt-4o, claude-*  rpm 600  5000 tokens and $20 per month
  batch (admin)  (every model)     -        usage counted per day
limits: store redis://redis:6379/0, on_store_error fail_closed
metrics: GET /metrics on 127.0.0.1:9090, no key
traces: http://collector:4318, no prompts or completions
reload: on SIGHUP and when the config file changes
`
	_, sections, _ := strings.Cut(got, "routing:")
	if diff := cmpDiff(want, "routing:"+sections); diff != "" {
		t.Errorf("summary sections (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(got, "config: test.yaml\nlisten: 127.0.0.1:4000\nserver api_keys: 2 (team-search, batch)\nmodels: 3\n") {
		t.Errorf("summary head:\n%s", got)
	}
}
