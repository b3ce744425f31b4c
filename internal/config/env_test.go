package config

import (
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestOverrideNames(t *testing.T) {
	names := make(map[string]bool)
	for _, o := range overrides() {
		names[o.name] = o.list
	}
	for _, name := range []string{
		"LLMROUTER_SERVER_LISTEN", "LLMROUTER_SERVER_MAX_REQUEST_BYTES", "LLMROUTER_SERVER_SHUTDOWN_GRACE",
		"LLMROUTER_LOGGING_LEVEL", "LLMROUTER_LOGGING_MAX_BODY_BYTES",
		"LLMROUTER_DEFAULTS_API_KEY", "LLMROUTER_DEFAULTS_MAX_TOKENS", "LLMROUTER_DEFAULTS_STRICT_TRANSLATION",
		"LLMROUTER_DEFAULTS_TIMEOUTS_FIRST_BYTE", "LLMROUTER_DEFAULTS_TLS_VERIFY", "LLMROUTER_DEFAULTS_TLS_CA_FILE",
		"LLMROUTER_DEFAULTS_RETRY_ATTEMPTS", "LLMROUTER_DEFAULTS_RETRY_RESPECT_RETRY_AFTER",
	} {
		if list, ok := names[name]; !ok || list {
			t.Errorf("%s: known %v, list %v; want a scalar override", name, ok, list)
		}
	}
	for _, name := range []string{"LLMROUTER_SERVER_API_KEYS", "LLMROUTER_DEFAULTS_RETRY_ON_STATUS", "LLMROUTER_DEFAULTS_HEADERS_DROP"} {
		if list, ok := names[name]; !ok || !list {
			t.Errorf("%s: known %v, list %v; want a list override", name, ok, list)
		}
	}
	for _, name := range []string{"LLMROUTER_DEFAULTS_HEADERS_ADD", "LLMROUTER_DEFAULTS_TRANSFORMS", "LLMROUTER_MODELS", "LLMROUTER_DEFAULTS_NAME"} {
		if _, ok := names[name]; ok {
			t.Errorf("%s is an override; want only scalars and lists under server, logging and defaults", name)
		}
	}
}

func TestOverrides(t *testing.T) {
	doc := `
server:
	listen: 127.0.0.1:4000
	api_keys: [file-key-0123456789]
logging:
	level: info
defaults:
	retry:
		attempts: 2
models:
	- name: inherits
		provider: openai
		endpoint: https://x/v1
	- name: own
		provider: openai
		endpoint: https://x/v1
		timeouts: {first_byte: 5s}
		retry: {on_status: [418]}
`
	type view struct {
		Listen    string
		Keys      []Secret
		Level     slog.Level
		Attempts  []int
		FirstByte []time.Duration
		Verify    []bool
		OnStatus  [][]int
	}
	base := view{
		Listen: "127.0.0.1:4000", Keys: []Secret{"file-key-0123456789"}, Level: slog.LevelInfo,
		Attempts: []int{2, 2}, FirstByte: []time.Duration{120 * time.Second, 5 * time.Second},
		Verify: []bool{true, true}, OnStatus: [][]int{{429, 500, 502, 503, 504, 529}, {418}},
	}
	tests := []struct {
		name string
		env  map[string]string
		want func(v *view)
	}{
		{"none", nil, func(*view) {}},
		{"listen", map[string]string{"LLMROUTER_SERVER_LISTEN": "0.0.0.0:8080"}, func(v *view) { v.Listen = "0.0.0.0:8080" }},
		{"level", map[string]string{"LLMROUTER_LOGGING_LEVEL": "debug"}, func(v *view) { v.Level = slog.LevelDebug }},
		{"attempts", map[string]string{"LLMROUTER_DEFAULTS_RETRY_ATTEMPTS": "7"}, func(v *view) { v.Attempts = []int{7, 7} }},
		{"first_byte under a model's own", map[string]string{"LLMROUTER_DEFAULTS_TIMEOUTS_FIRST_BYTE": "45s"}, func(v *view) {
			v.FirstByte = []time.Duration{45 * time.Second, 5 * time.Second}
		}},
		{"section absent from file", map[string]string{"LLMROUTER_DEFAULTS_TLS_VERIFY": "false"}, func(v *view) { v.Verify = []bool{false, false} }},
		{"list", map[string]string{"LLMROUTER_SERVER_API_KEYS": "k1-0123456789, k2-0123456789,"}, func(v *view) {
			v.Keys = []Secret{"k1-0123456789", "k2-0123456789"}
		}},
		{"empty list", map[string]string{"LLMROUTER_SERVER_API_KEYS": ""}, func(v *view) { v.Keys = nil }},
		{"int list", map[string]string{"LLMROUTER_DEFAULTS_RETRY_ON_STATUS": "503,529"}, func(v *view) {
			v.OnStatus = [][]int{{503, 529}, {418}}
		}},
		{"taken literally", map[string]string{"LLMROUTER_SERVER_LISTEN": "${NOPE}"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cleanEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			c, err := Parse(yamlDoc(doc), "test.yaml")
			if tt.want == nil {
				if err == nil || !strings.Contains(err.Error(), `LLMROUTER_SERVER_LISTEN: server.listen: want host:port like 127.0.0.1:4000, got "${NOPE}"`) {
					t.Fatalf("error = %v, want the literal value rejected", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			want := base
			tt.want(&want)
			got := view{Listen: c.Server.Listen, Keys: c.Server.APIKeys, Level: c.Logging.Level}
			for _, m := range c.Models {
				got.Attempts = append(got.Attempts, m.Retry.Attempts)
				got.FirstByte = append(got.FirstByte, m.Timeouts.FirstByte)
				got.Verify = append(got.Verify, m.TLS.Verify)
				got.OnStatus = append(got.OnStatus, m.Retry.OnStatus)
			}
			if diff := cmpDiff(want, got); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}
}

// TestOverrideErrors checks that a bad value names its variable, not a line.
func TestOverrideErrors(t *testing.T) {
	tests := []struct {
		name, env, value, want string
	}{
		{"bad int", "LLMROUTER_DEFAULTS_RETRY_ATTEMPTS", "many", `LLMROUTER_DEFAULTS_RETRY_ATTEMPTS: defaults.retry.attempts: want a whole number from 1 to 10 (total tries, the first included), got "many"`},
		{"bad duration", "LLMROUTER_DEFAULTS_TIMEOUTS_FIRST_BYTE", "30", `LLMROUTER_DEFAULTS_TIMEOUTS_FIRST_BYTE: defaults.timeouts.first_byte: want a duration like 250ms or 2m, got "30"`},
		{"bad bool", "LLMROUTER_DEFAULTS_TLS_VERIFY", "nope", `LLMROUTER_DEFAULTS_TLS_VERIFY: defaults.tls.verify: want true or false, got "nope"`},
		{"bad level", "LLMROUTER_LOGGING_LEVEL", "trace", `LLMROUTER_LOGGING_LEVEL: logging.level: unknown level "trace"`},
		{"bad list item", "LLMROUTER_DEFAULTS_RETRY_ON_STATUS", "429,busy", `LLMROUTER_DEFAULTS_RETRY_ON_STATUS: defaults.retry.on_status[1]: want an HTTP status code`},
		{"empty scalar", "LLMROUTER_SERVER_LISTEN", "", `LLMROUTER_SERVER_LISTEN: server.listen: want host:port`},
		{"bad size", "LLMROUTER_SERVER_MAX_REQUEST_BYTES", "lots", `LLMROUTER_SERVER_MAX_REQUEST_BYTES: server.max_request_bytes: want a size`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cleanEnv(t)
			t.Setenv(tt.env, tt.value)
			_, err := Parse(yamlDoc(minimal), "test.yaml")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "line ") {
				t.Errorf("error cites a line for an override: %v", err)
			}
		})
	}
}

// TestOverrideLeavesAnchorAlone checks that overriding through an aliased section
// changes only the section overridden.
func TestOverrideLeavesAnchorAlone(t *testing.T) {
	cleanEnv(t)
	t.Setenv("LLMROUTER_DEFAULTS_TIMEOUTS_IDLE", "5s")
	c := mustParse(t, `
defaults:
	timeouts: &t {idle: 30s}
models:
	- name: m
		provider: openai
		endpoint: https://x/v1
		timeouts: *t
`)
	if got := c.Models[0].Timeouts.Idle; got != 30*time.Second {
		t.Errorf("model idle = %v, want its own 30s", got)
	}
}
