package config

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// A valid file of 50,000 models (what the YAML alias guard used to refuse as
// "YAML aliases?", counting the values a file holds rather than those its
// aliases add) loads, also with default transforms copied into every model.
func TestLargeFileLoads(t *testing.T) {
	cleanEnv(t)
	var b strings.Builder
	b.WriteString("defaults:\n  transforms:\n    - drop: $.metadata\n    - set: $.temperature\n      value: 0.2\nmodels:\n")
	for i := range 50_000 {
		fmt.Fprintf(&b, "  - name: model-%d\n    provider: openai\n    endpoint: https://api%d.example.com/v1\n    upstream_model: up-%d\n", i, i%7, i)
	}
	c, err := Parse([]byte(b.String()), "big.yaml")
	if err != nil {
		t.Fatalf("Parse: %.300v", err)
	}
	if len(c.Models) != 50_000 || len(c.Models[49_999].Transforms) != 2 || c.Models[49_999].UpstreamModel != "up-49999" {
		t.Errorf("%d models, the last %+v", len(c.Models), c.Models[len(c.Models)-1])
	}
}

// Alias bombs (a billion laughs: each anchor names ten of the one before) are
// refused with a clear error at the line where the expansion overflows, after
// decoding a bounded number of values.
func TestAliasBombsRefused(t *testing.T) {
	cleanEnv(t)
	laughs := func(item func(level int) string) string {
		var b strings.Builder
		for level := range 9 {
			b.WriteString(item(level))
		}
		return b.String()
	}
	ten := func(level int) string {
		if level == 0 {
			return "[x, x, x, x, x, x, x, x, x, x]"
		}
		return "[" + strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*l%d, ", level-1), 10), ", ") + "]"
	}
	tests := []struct{ name, doc string }{
		{"in transform values", head + "\t\ttransforms:\n" + laughs(func(level int) string {
			return fmt.Sprintf("\t\t\t- set: $.a%d\n\t\t\t\tvalue: &l%d %s\n", level, level, ten(level))
		})},
		{"in header rules", "defaults:\n\theaders:\n\t\tadd: &h {" + headerNames(5000) + "}\nmodels:\n" + strings.Repeat("\t- {name: m, provider: openai, endpoint: https://x/v1, headers: {add: *h}}\n", 1) +
			strings.Repeat("\t- {provider: openai, endpoint: https://x/v1, headers: {force: *h}}\n", 200)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, err := Parse(yamlDoc(tt.doc), "bomb.yaml")
			runtime.ReadMemStats(&after)
			if err == nil || !strings.Contains(err.Error(), "YAML aliases expand the document to over 100000 values more than it holds (an alias bomb?)") {
				t.Fatalf("error %.500v", err)
			}
			if !strings.HasPrefix(err.Error(), "line ") {
				t.Errorf("the error has no line: %.200v", err)
			}
			if n := after.TotalAlloc - before.TotalAlloc; n > 256<<20 {
				t.Errorf("refusing the bomb allocated %d MiB", n>>20)
			}
		})
	}
}

func headerNames(n int) string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("X-H%d: v", i)
	}
	return strings.Join(names, ", ")
}
