package config

import (
	"strings"
	"testing"
)

// server.gc_heap_floor takes a size like the other size fields, 0 turning the floor
// off; unset, it is the built-in 64MiB; LLMROUTER_SERVER_GC_HEAP_FLOOR sets it too.
func TestGCHeapFloor(t *testing.T) {
	tests := []struct {
		name, doc, env string
		want           int64
	}{
		{"unset", minimal, "", DefaultGCHeapFloor},
		{"MiB", "server:\n\tgc_heap_floor: 32MiB\n" + minimal, "", 32 << 20},
		{"GiB", "server:\n\tgc_heap_floor: 1GiB\n" + minimal, "", 1 << 30},
		{"bytes", "server:\n\tgc_heap_floor: 50000000\n" + minimal, "", 50_000_000},
		{"the bound", "server:\n\tgc_heap_floor: 4GiB\n" + minimal, "", 4 << 30},
		{"off", "server:\n\tgc_heap_floor: 0\n" + minimal, "", 0},
		{"override", "server:\n\tgc_heap_floor: 32MiB\n" + minimal, "16MiB", 16 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cleanEnv(t)
			if tt.env != "" {
				t.Setenv("LLMROUTER_SERVER_GC_HEAP_FLOOR", tt.env)
			}
			if got := mustParse(t, tt.doc).Server.GCHeapFloor; got != tt.want {
				t.Errorf("GCHeapFloor = %d, want %d", got, tt.want)
			}
		})
	}
}

// A bad LLMROUTER_SERVER_GC_HEAP_FLOOR is refused under its name.
func TestGCHeapFloorOverrideRefused(t *testing.T) {
	cleanEnv(t)
	t.Setenv("LLMROUTER_SERVER_GC_HEAP_FLOOR", "lots")
	_, err := Parse(yamlDoc(minimal), "test.yaml")
	want := `LLMROUTER_SERVER_GC_HEAP_FLOOR: server.gc_heap_floor: want a size like 1024, 64KiB or 32MiB, got "lots"`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error = %v, want %q", err, want)
	}
}

// check's summary says when the floor is off or not the built-in one, and says
// nothing of the built-in one (the summary of other configs is unchanged).
func TestSummaryOfGCHeapFloor(t *testing.T) {
	cleanEnv(t)
	for doc, want := range map[string]string{
		minimal: "",
		"server:\n\tgc_heap_floor: 64MiB\n" + minimal:  "",
		"server:\n\tgc_heap_floor: 0\n" + minimal:      "gc heap floor: off (GOGC alone paces the garbage collector)\n",
		"server:\n\tgc_heap_floor: 128MiB\n" + minimal: "gc heap floor: 128MiB (unless GOGC is set)\n",
	} {
		s := Summary(mustParse(t, doc))
		got := ""
		if i := strings.Index(s, "gc heap floor"); i >= 0 {
			got = s[i:]
		}
		if got != want {
			t.Errorf("%q: summary ends with %q, want %q", doc, got, want)
		}
	}
}
