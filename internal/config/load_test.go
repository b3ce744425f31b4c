package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestDefault(t *testing.T) {
	type route struct {
		Name     string
		Provider Provider
		Endpoint string
		Key      Secret
	}
	const anthropic, openai = "https://api.anthropic.com", "https://api.openai.com/v1"
	routes := func(ak, ok Secret, ollama string) []route {
		r := []route{{"claude-*", ProviderAnthropic, anthropic, ak}}
		for _, n := range []string{"gpt-*", "o1*", "o3*", "o4*", "chatgpt-*", "text-*"} {
			r = append(r, route{n, ProviderOpenAI, openai, ok})
		}
		return append(r, route{"*", ProviderOllama, ollama, ""})
	}
	tests := []struct {
		name string
		env  map[string]string
		want []route
	}{
		{"no keys: passthrough", nil, routes("", "", "http://127.0.0.1:11434")},
		{"keys from env", map[string]string{"ANTHROPIC_API_KEY": "sk-ant-0123456789", "OPENAI_API_KEY": "sk-oai-0123456789"},
			routes("sk-ant-0123456789", "sk-oai-0123456789", "http://127.0.0.1:11434")},
		{"empty key: passthrough", map[string]string{"OPENAI_API_KEY": ""}, routes("", "", "http://127.0.0.1:11434")},
		{"OLLAMA_HOST URL", map[string]string{"OLLAMA_HOST": "https://ollama.lan/"}, routes("", "", "https://ollama.lan")},
		{"OLLAMA_HOST host:port", map[string]string{"OLLAMA_HOST": "gpu-box:11500"}, routes("", "", "http://gpu-box:11500")},
		{"OLLAMA_HOST host", map[string]string{"OLLAMA_HOST": "0.0.0.0"}, routes("", "", "http://0.0.0.0:11434")},
		{"OLLAMA_HOST port", map[string]string{"OLLAMA_HOST": ":11500"}, routes("", "", "http://127.0.0.1:11500")},
		{"OLLAMA_HOST IPv6", map[string]string{"OLLAMA_HOST": "::1"}, routes("", "", "http://[::1]:11434")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cleanEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			c, err := Default()
			if err != nil {
				t.Fatalf("Default: %v", err)
			}
			var got []route
			for _, m := range c.Models {
				got = append(got, route{m.Name, m.Provider, m.Endpoint, m.APIKey})
				if m.Line != 0 || m.UpstreamModel != "" {
					t.Errorf("%s: Line %d, UpstreamModel %q; want 0 and empty", m.Name, m.Line, m.UpstreamModel)
				}
			}
			if diff := cmpDiff(tt.want, got); diff != "" {
				t.Errorf("routes (-want +got):\n%s", diff)
			}
			if c.Source != "embedded default" || c.Server.Listen != "127.0.0.1:4000" {
				t.Errorf("Source %q, Listen %q", c.Source, c.Server.Listen)
			}
		})
	}
}

func TestDefaultOverrides(t *testing.T) {
	cleanEnv(t)
	t.Setenv("LLMROUTER_SERVER_LISTEN", "0.0.0.0:4000")
	t.Setenv("LLMROUTER_DEFAULTS_RETRY_ATTEMPTS", "1")
	c, err := Default()
	if err != nil {
		t.Fatalf("Default: %v", err)
	}
	if c.Server.Listen != "0.0.0.0:4000" || c.Models[0].Retry.Attempts != 1 {
		t.Errorf("Listen %q, Attempts %d; want the overrides", c.Server.Listen, c.Models[0].Retry.Attempts)
	}
	t.Setenv("LLMROUTER_DEFAULTS_RETRY_ATTEMPTS", "0")
	if _, err := Default(); err == nil || !strings.Contains(err.Error(), "LLMROUTER_DEFAULTS_RETRY_ATTEMPTS") {
		t.Errorf("Default with a bad override: error %v, want it named", err)
	}
}

// TestFileKeyUnset checks that, unlike the embedded default, a file's unset key
// variable is an error.
func TestFileKeyUnset(t *testing.T) {
	cleanEnv(t)
	_, err := Parse(yamlDoc(head+"\t\tapi_key: ${OPENAI_API_KEY}\n"), "test.yaml")
	if err == nil || !strings.Contains(err.Error(), "line 5: models[0].api_key: environment variable OPENAI_API_KEY is not set") {
		t.Errorf("error = %v", err)
	}
}

func TestSummary(t *testing.T) {
	cleanEnv(t)
	const canary = "sk-canary-0123456789abcdef"
	t.Setenv("LLMROUTER_TEST_KEY", canary)
	c := mustParse(t, `
server:
	listen: 0.0.0.0:4000
	api_keys: ["${LLMROUTER_TEST_KEY}", router-key-2-wxyz]
models:
	- name: gpt-4o
		provider: openai
		endpoint: https://api.openai.com/v1
		upstream_model: gpt-4o-2024-08-06
		api_key: ${LLMROUTER_TEST_KEY}
		tls: {verify: false}
	- name: "*"
		provider: ollama
		endpoint: http://127.0.0.1:11434
`)
	got := Summary(c)
	if strings.Contains(got, canary) || strings.Contains(got, "0123456789") || strings.Contains(got, "router-key") {
		t.Fatalf("summary shows a key:\n%s", got)
	}
	for _, want := range []string{
		"config: test.yaml", "listen: 0.0.0.0:4000", "server api_keys: 2 (****cdef, ****wxyz)", "models: 2",
		"gpt-4o", "openai", "https://api.openai.com/v1", "gpt-4o-2024-08-06", "****cdef", "TLS NOT VERIFIED",
		"passthrough", "(as requested)",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q:\n%s", want, got)
		}
	}
}

func TestResolve(t *testing.T) {
	tests := []struct {
		name  string
		flag  string
		env   string
		local bool // ./llmrouter.yaml exists
		want  string
	}{
		{name: "nothing", want: ""},
		{name: "local file", local: true, want: "llmrouter.yaml"},
		{name: "env over local", env: "/etc/env.yaml", local: true, want: "/etc/env.yaml"},
		{name: "flag over all", flag: "flag.yaml", env: "/etc/env.yaml", local: true, want: "flag.yaml"},
		{name: "missing flag file still wins", flag: "missing.yaml", want: "missing.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cleanEnv(t)
			t.Chdir(t.TempDir())
			if tt.env != "" {
				t.Setenv("LLMROUTER_CONFIG", tt.env)
			}
			if tt.local {
				if err := os.WriteFile("llmrouter.yaml", yamlDoc(minimal), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if got := Resolve(tt.flag); got != tt.want {
				t.Errorf("Resolve(%q) = %q, want %q", tt.flag, got, tt.want)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	cleanEnv(t)
	path := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(path, yamlDoc(minimal), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.Source != path {
		t.Errorf("Source = %q, want %q", c.Source, path)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(missing) error = %v, want not-exist", err)
	}
}

// TestExample checks that the documented example loads on a fresh machine.
func TestExample(t *testing.T) {
	cleanEnv(t)
	c, err := Load("../../config.example.yaml")
	if err != nil {
		t.Fatalf("config.example.yaml: %v", err)
	}
	var kinds []string
	for _, tr := range c.Models[0].Transforms {
		switch {
		case tr.Regex != "":
			kinds = append(kinds, "regex")
		case tr.Drop != "":
			kinds = append(kinds, "drop")
		case tr.Set != "":
			kinds = append(kinds, "set")
		case tr.Append != "":
			kinds = append(kinds, "append")
		}
	}
	if diff := cmpDiff([]string{"regex", "drop", "set", "append"}, kinds); diff != "" {
		t.Errorf("example transform kinds (-want +got):\n%s", diff)
	}
	providers := map[Provider]bool{}
	for _, m := range c.Models {
		providers[m.Provider] = true
	}
	if len(providers) != 3 {
		t.Errorf("example providers = %v, want all three", providers)
	}
}

// TestExampleDocumentsEveryKey checks that every key of the schema appears in the
// example.
func TestExampleDocumentsEveryKey(t *testing.T) {
	data, err := os.ReadFile("../../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var models *yaml.Node
	var walk func(prefix string, fields []field)
	walk = func(prefix string, fields []field) {
		for _, f := range fields {
			if !strings.Contains(string(data), f.key+":") {
				t.Errorf("config.example.yaml does not document %s%s", prefix, f.key)
			}
			walk(prefix+f.key+".", f.sub)
		}
	}
	walk("", rootFields(new(Config), new(Model), &models))
	walk("models[].", modelFields(new(Model)))
	walk("models[].price.", priceFields(new(Price)))
	walk("server.api_keys[].", keyFields(new(Key)))
	walk("transforms[].", transformFields(new(Transform)))
}
