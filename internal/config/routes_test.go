package config

import (
	"fmt"
	"strings"
	"testing"
)

// routesOf compiles a models list of the given names (one openai deployment each).
func routesOf(t testing.TB, names ...string) *Routes {
	t.Helper()
	var b strings.Builder
	b.WriteString("models:\n")
	for _, n := range names {
		fmt.Fprintf(&b, "  - {name: %q, provider: openai, endpoint: https://example.com/v1}\n", n)
	}
	c, err := Parse([]byte(b.String()), "test.yaml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return &c.Routes
}

// An exact name wins over every glob; among globs the first in file order wins,
// however specific a later one is.
func TestRoutesLookupOrder(t *testing.T) {
	cleanEnv(t)
	r := routesOf(t, "gpt-*", "gpt-4o", "claude-*", "*-mini", "claude-3-*", "*")
	tests := []struct {
		name, model string
		want        string
	}{
		{"exact beats earlier glob", "gpt-4o", "gpt-4o"},
		{"glob in file order", "gpt-4o-mini", "gpt-*"},
		{"first matching glob wins over a more specific later one", "claude-3-opus", "claude-*"},
		{"suffix glob", "o4-mini", "*-mini"},
		{"slash and colon in ollama names", "library/llama3:8b", "*"},
		{"catch-all", "anything", "*"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, ok := r.Lookup(tt.model)
			if !ok || g.Name != tt.want {
				t.Errorf("Lookup(%q) = %v, %v; want %s", tt.model, g, ok, tt.want)
			}
		})
	}
	if g, ok := routesOf(t, "gpt-*").Lookup("claude"); ok {
		t.Errorf("unmatched name found: %s", g.Name)
	}
	if got := r.Names(); len(got) != 1 || got[0] != "gpt-4o" {
		t.Errorf("Names = %v, want only exact names", got)
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"a*b*c", "aXbYc", true},
		{"a*b*c", "aXbY", false},
		{"*", "", true},
		{"ab*ba", "aba", false},
		{"o1*", "o1", true},
		{"exact", "exact", true},
		{"exact", "exactly", false},
		{"*a*", "bab", true},
		{"a**b", "ab", true},
	}
	for _, tt := range tests {
		if got := match(tt.pattern, tt.name); got != tt.want {
			t.Errorf("match(%q, %q) = %v", tt.pattern, tt.name, got)
		}
	}
	if n := testing.AllocsPerRun(100, func() { match("claude-*-x*", "claude-3-x-opus") }); n != 0 {
		t.Errorf("match allocates %v times", n)
	}
}

func BenchmarkRoutesLookup(b *testing.B) {
	names := []string{"claude-*", "gpt-*", "o1*", "o3*", "o4*", "chatgpt-*", "text-*", "*"}
	for i := range 50 {
		names = append([]string{fmt.Sprintf("model-%d", i)}, names...)
	}
	r := routesOf(b, names...)
	for _, model := range []string{"model-25", "gpt-4o-mini", "llama3:8b"} {
		b.Run(model, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := r.Lookup(model); !ok {
					b.Fatal("not found")
				}
			}
		})
	}
}
