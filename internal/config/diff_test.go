package config

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

const diffOld = `
server:
	listen: 127.0.0.1:4000
	api_keys:
		- plain-key-0123456789
		- {name: team, key: team-key-0123456789, rpm: 10}
		- {name: ops, key: ops-key-0123456789}
models:
	- {name: gpt-4o, id: a, provider: openai, endpoint: "https://a.example.com/v1"}
	- {name: gpt-4o, id: b, provider: openai, endpoint: "https://b.example.com/v1"}
	- name: claude-*
		provider: anthropic
		endpoint: https://api.anthropic.com
		transforms:
			- drop: $.metadata
`

// Diff names what a reload changes: models, deployments by id, named keys, other
// settings, and those that need a restart. Moving an entry in the file is no change.
func TestDiff(t *testing.T) {
	cleanEnv(t)
	old := mustParse(t, diffOld)
	same := mustParse(t, "# a comment moves every line\n\n"+diffOld)
	if ch := Diff(old, same); !ch.Empty() {
		t.Errorf("Diff of the same config moved down = %+v", ch)
	}
	changed := mustParse(t, `
server:
	listen: 0.0.0.0:4000
	metrics_listen: 127.0.0.1:9090
	api_keys:
		- plain-key-9876543210
		- {name: team, key: team-key-0123456789, rpm: 20}
		- {name: new, key: new-key-0123456789}
models:
	- name: claude-*
		provider: anthropic
		endpoint: https://api.anthropic.com
		transforms:
			- drop: $.metadata
	- {name: gpt-4o, id: a, provider: openai, endpoint: "https://a2.example.com/v1"}
	- {name: gpt-4o, id: c, provider: openai, endpoint: "https://c.example.com/v1"}
	- {name: x, provider: ollama, endpoint: "http://127.0.0.1:11434"}
routing:
	strategy: latency
limits:
	store: redis://:pw-0123456789@redis:6379/0
`)
	want := Changes{
		Models:      Delta{Added: []string{"x"}, Changed: []string{"gpt-4o"}},
		Deployments: Delta{Added: []string{"c", "x#1"}, Removed: []string{"b"}, Changed: []string{"a"}},
		Keys:        Delta{Added: []string{"new"}, Removed: []string{"ops"}, Changed: []string{"team"}},
		Settings:    []string{"server.api_keys", "routing", "limits"},
		Restart:     []string{"server.listen", "server.metrics_listen"},
	}
	got := Diff(old, changed)
	if diff := cmpDiff(want, got); diff != "" {
		t.Errorf("Diff (-want +got):\n%s", diff)
	}
	if got.Empty() {
		t.Error("Empty() is true")
	}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("reloaded", "changes", got)
	line := buf.String()
	for _, want := range []string{"changes.models_added=[x]", "changes.deployments_removed=[b]", "changes.restart_needed=\"[server.listen server.metrics_listen]\""} {
		if !strings.Contains(line, want) {
			t.Errorf("log line lacks %s:\n%s", want, line)
		}
	}
	for _, secret := range []string{"0123456789", "9876543210", "pw-"} {
		if strings.Contains(line, secret) {
			t.Errorf("log line shows a secret %q:\n%s", secret, line)
		}
	}
	if back := Diff(changed, old); len(back.Deployments.Removed) != 2 || len(back.Models.Removed) != 1 {
		t.Errorf("reverse Diff = %+v", back)
	}
}

// Each restart-only setting is reported as such, and a change of reload.watch too.
func TestDiffRestartOnly(t *testing.T) {
	cleanEnv(t)
	old := mustParse(t, minimal)
	for doc, want := range map[string]string{
		"server: {listen: \"0.0.0.0:1\"}\n":              "server.listen",
		"server: {metrics_listen: \":9\"}\n":             "server.metrics_listen",
		"server: {max_connections: 10}\n":                "server.max_connections",
		"server: {gc_heap_floor: 0}\n":                   "server.gc_heap_floor",
		"reload: {watch: true}\n":                        "reload.watch",
		"logging: {format: text}\n":                      "logging.format",
		"telemetry: {traces: {capture_content: true}}\n": "telemetry",
		"server: {metrics_key: metric-key-0123}\n":       "",
	} {
		got := Diff(old, mustParse(t, doc+minimal))
		if want == "" {
			if len(got.Restart) != 0 || len(got.Settings) != 1 || got.Settings[0] != "server.metrics_key" {
				t.Errorf("%s: %+v", doc, got)
			}
			continue
		}
		if len(got.Restart) != 1 || got.Restart[0] != want || len(got.Settings) != 0 {
			t.Errorf("%s: %+v, want restart %s", doc, got, want)
		}
	}
}
