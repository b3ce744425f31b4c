package config

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// cleanEnv unsets, for the test's duration, every variable the package reads, so
// that a developer's environment cannot change the results.
func cleanEnv(t *testing.T) {
	t.Helper()
	names := []string{"OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OLLAMA_HOST", "LLMROUTER_CONFIG"}
	for _, o := range overrides() {
		names = append(names, o.name)
	}
	for _, n := range names {
		t.Setenv(n, "") // restores the old value at cleanup
		os.Unsetenv(n)
	}
}

// yamlDoc turns a test's indented raw string into YAML: tabs become two spaces.
func yamlDoc(s string) []byte {
	return []byte(strings.ReplaceAll(strings.TrimPrefix(s, "\n"), "\t", "  "))
}

func mustParse(t *testing.T, s string) *Config {
	t.Helper()
	c, err := Parse(yamlDoc(s), "test.yaml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c
}

// minimal is a valid document to which tests add one section.
const minimal = `
models:
	- name: m
		provider: openai
		endpoint: https://example.com/v1
`

func cmpDiff(want, got any, opts ...cmp.Option) string { return cmp.Diff(want, got, opts...) }
