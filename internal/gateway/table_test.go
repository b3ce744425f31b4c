package gateway

import (
	"errors"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/llmrouter/llmrouter/internal/config"
	"github.com/llmrouter/llmrouter/internal/logging"
	"github.com/llmrouter/llmrouter/internal/wire"
)

// tableConfig has a model on every provider, so that every row is in use.
const tableConfig = `
models:
  - {name: gpt-4o, provider: openai, endpoint: http://127.0.0.1:1/v1}
  - {name: claude-x, provider: anthropic, endpoint: http://127.0.0.1:1}
  - {name: "*", provider: ollama, endpoint: http://127.0.0.1:1}
`

func newWithTable(t *testing.T, tb table) (*Gateway, error) {
	t.Helper()
	cfg, err := config.Parse([]byte(tableConfig), "table.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return New(cfg, logging.New(cfg.Logging, io.Discard, nil), withTable(tb))
}

// copyTable returns a copy of the default table that a test may change.
func copyTable() table {
	t := defaultTable()
	t.dialects = maps.Clone(t.dialects)
	t.providers = maps.Clone(t.providers)
	for p, r := range t.providers {
		if f, ok := r.(fixed); ok {
			t.providers[p] = maps.Clone(f)
		}
	}
	return t
}

// The default table has every row the endpoints and providers use.
func TestDefaultTableHasEveryRow(t *testing.T) {
	g, err := newWithTable(t, defaultTable())
	if err != nil {
		t.Fatalf("New with the default table: %v", err)
	}
	for _, tg := range g.targets {
		for _, e := range g.endpoints {
			if up := tg.upstreams[e.proto]; up.dialect == nil {
				t.Errorf("model %s: no upstream for %s clients", tg.model.Name, e.proto)
			}
		}
	}
}

// A protocol without its row, or without the role it plays, stops New: nothing
// falls back to another protocol's rules.
func TestMissingRowStopsNew(t *testing.T) {
	tests := []struct {
		name   string
		change func(*table)
		want   string // in the error
	}{
		{"client protocol without a row", func(t *table) { delete(t.dialects, wire.AnthropicMessages) }, "anthropic-messages"},
		{"client protocol without its client role", func(t *table) {
			d := t.dialects[wire.OpenAICompletions]
			d.client = nil
			t.dialects[wire.OpenAICompletions] = d
		}, "openai-completions (endpoint /v1/completions) has no client row"},
		{"upstream protocol without a row", func(t *table) { delete(t.dialects, wire.OllamaGenerate) }, "ollama-generate"},
		{"upstream protocol without its upstream role", func(t *table) {
			d := t.dialects[wire.OpenAIChat]
			d.upstream = nil
			t.dialects[wire.OpenAIChat] = d
		}, "openai-chat (provider openai) has no upstream row"},
		{"provider without a row", func(t *table) { delete(t.providers, config.ProviderOllama) }, "provider ollama"},
		{"provider without a client protocol", func(t *table) { delete(t.providers[config.ProviderAnthropic].(fixed), wire.OpenAICompletions) },
			"provider anthropic has no upstream protocol for openai-completions clients"},
		{"no endpoints", func(t *table) { t.endpoints = nil }, "no endpoints"},
		{"endpoint without its metrics API", func(t *table) {
			t.endpoints = append(slices.Clone(t.endpoints), endpoint{path: "/v1/new", proto: wire.OpenAIChat, op: wire.Generate})
		}, "endpoints /v1/chat/completions and /v1/new have one metrics API (openai-chat)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := copyTable()
			tt.change(&tb)
			g, err := newWithTable(t, tb)
			if err == nil {
				t.Fatalf("New = %v, want an error", g)
			}
			if !errors.Is(err, errTable) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New: %v, want errTable saying %q", err, tt.want)
			}
		})
	}
}

// Every row's client role renders an error its own protocol's SDKs read, and its
// upstream role serves generation at some path: the table has no row that
// would fail at the first request.
func TestEveryRowServes(t *testing.T) {
	for proto, d := range dialects {
		if d.client != nil {
			body := d.client.ErrorBody(http.StatusBadRequest, "", "model", "bad model")
			if !d.client.IsError(body) {
				t.Errorf("%s: its own error body %s is not an error of its envelope", proto, body)
			}
		}
		if d.upstream != nil {
			if p, ok := d.upstream.Path(wire.Generate, "m", true); !ok || !strings.HasPrefix(p, "/") {
				t.Errorf("%s: generation path %q, %v", proto, p, ok)
			}
		}
	}
}
