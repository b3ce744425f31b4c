package route

import (
	"fmt"
	"testing"

	"github.com/llmrouter/llmrouter/internal/config"
)

func table(names ...string) *Table {
	models := make([]config.Model, len(names))
	for i, n := range names {
		models[i] = config.Model{Name: n}
	}
	return New(models)
}

func TestLookup(t *testing.T) {
	tb := table("gpt-*", "gpt-4o", "claude-*", "*-mini", "claude-3-*", "*")
	tests := []struct {
		name, model string
		want        int
	}{
		{"exact beats earlier glob", "gpt-4o", 1},
		{"glob in file order", "gpt-4o-mini", 0},
		{"first matching glob wins over a more specific later one", "claude-3-opus", 2},
		{"suffix glob", "o4-mini", 3},
		{"slash and colon in ollama names", "library/llama3:8b", 5},
		{"catch-all", "anything", 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tb.Lookup(tt.model)
			if !ok || got != tt.want {
				t.Errorf("Lookup(%q) = %d, %v; want %d", tt.model, got, ok, tt.want)
			}
		})
	}
	if _, ok := table("gpt-*").Lookup("claude"); ok {
		t.Error("unmatched name found")
	}
	if got := tb.Names(); len(got) != 1 || got[0] != "gpt-4o" {
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
	}
	for _, tt := range tests {
		if got := Match(tt.pattern, tt.name); got != tt.want {
			t.Errorf("Match(%q, %q) = %v", tt.pattern, tt.name, got)
		}
	}
}

func BenchmarkLookup(b *testing.B) {
	names := []string{"claude-*", "gpt-*", "o1*", "o3*", "o4*", "chatgpt-*", "text-*", "*"}
	for i := range 50 {
		names = append([]string{fmt.Sprintf("model-%d", i)}, names...)
	}
	tb := table(names...)
	for _, model := range []string{"model-25", "gpt-4o-mini", "llama3:8b"} {
		b.Run(model, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := tb.Lookup(model); !ok {
					b.Fatal("not found")
				}
			}
		})
	}
}
