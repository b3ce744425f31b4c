package policy

import (
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/llmrouter/llmrouter/internal/config"
	"github.com/llmrouter/llmrouter/internal/openai"
)

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name string
		rule config.Transform
		want string
	}{
		{"bad regex", config.Transform{Regex: "a(", Line: 7}, "transform at line 7: regex: error parsing regexp"},
		{"backtracking syntax is not RE2", config.Transform{Regex: `(?=x)`, Line: 8}, "transform at line 8: regex"},
		{"bad flag", config.Transform{Regex: "a", Flags: "x", Line: 9}, `transform at line 9: regex flags "x"`},
		{"bad drop path", config.Transform{Drop: "metadata", Line: 10}, `transform at line 10: JSONPath "metadata"`},
		{"bad set path", config.Transform{Set: "$.[", Value: 1, Line: 11}, "transform at line 11: JSONPath"},
		{"bad append path", config.Transform{Append: "$.a[?", Value: 1, Line: 12}, "transform at line 12: JSONPath"},
		{"root drop", config.Transform{Drop: "$", Line: 13}, "transform at line 13: JSONPath \"$\" selects the whole body"},
		{"root set", config.Transform{Set: "$", Value: map[string]any{}, Line: 14}, "line 14: JSONPath \"$\" selects the whole body"},
		{"value JSON cannot encode", config.Transform{Set: "$.a", Value: map[any]any{1: 2}, Line: 15}, "transform at line 15: value:"},
		{"no kind", config.Transform{Line: 16}, "transform at line 16: exactly one of"},
		{"two kinds", config.Transform{Drop: "$.a", Set: "$.b", Line: 17}, "transform at line 17: exactly one of"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compile(config.Headers{}, []config.Transform{tt.rule})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Compile error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestHasTransforms(t *testing.T) {
	var zero Policy
	if zero.HasTransforms() {
		t.Error("zero Policy HasTransforms = true")
	}
	var none *Policy
	if none.HasTransforms() {
		t.Error("nil Policy HasTransforms = true")
	}
	h := http.Header{"A": {"1"}}
	none.Headers(h)
	if out, err := none.Body([]byte("x"), openai.Chat); err != nil || string(out) != "x" || len(h) != 1 {
		t.Errorf("nil Policy changed something: %q, %v, %v", out, err, h)
	}
	p := mustCompile(t, drop("$.a"))
	if !p.HasTransforms() {
		t.Error("HasTransforms = false with a drop rule")
	}
}

// TestFastPath checks that a body no rule changes comes back as the very same
// slice, not a re-encoded copy.
func TestFastPath(t *testing.T) {
	body := `{"model":"m",  "messages":[{"role":"user","content":"hello"},{"role":"assistant","content":[{"type":"text","text":"x"}]}],"temperature":0.50}`
	tests := []struct {
		name  string
		rules []config.Transform
	}{
		{"no transforms", nil},
		{"regex without a match", []config.Transform{re("acme", "ACME")}},
		{"regex whose replacement is the match", []config.Transform{re("hel+o", "$0")}},
		{"regex matching roles the body lacks", []config.Transform{re("hello", "bye", "system")}},
		{"drop of a missing path", []config.Transform{drop("$.metadata")}},
		{"set of an array index that does not exist", []config.Transform{set("$.stop[3]", 1)}},
		{"append to a non-array", []config.Transform{appendTo("$.model", 1)}},
		{"all of them", []config.Transform{re("acme", "ACME"), drop("$.metadata"), appendTo("$.model", 1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustCompile(t, tt.rules...)
			in := []byte(body)
			out, err := p.Body(in, openai.Chat)
			if err != nil {
				t.Fatal(err)
			}
			if len(out) != len(in) || &out[0] != &in[0] {
				t.Errorf("Body returned a copy %q, want the input slice itself", out)
			}
		})
	}
}

func TestInvalidBody(t *testing.T) {
	tests := []struct{ name, body string }{
		{"empty", ``},
		{"malformed", `{"messages":[}`},
		{"array", `[{"role":"user"}]`},
		{"string", `"hi"`},
		{"null", `null`},
		{"two objects", `{} {}`},
		{"trailing garbage", `{"a":1}x`},
	}
	p := mustCompile(t, re("a", "b"))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := p.Body([]byte(tt.body), openai.Chat)
			if !errors.Is(err, ErrInvalidBody) {
				t.Errorf("Body(%q) error = %v, want ErrInvalidBody", tt.body, err)
			}
		})
	}
}

func TestBodyLeadingSpace(t *testing.T) {
	runBodyTests(t, []bodyTest{{
		name:  "whitespace around the object is kept",
		rules: []config.Transform{re("a", "b"), set("$.x", 1)},
		in:    " \n{\"messages\":[{\"role\":\"user\",\"content\":\"a\"}]}\n",
		want:  " \n{\"messages\":[{\"role\":\"user\",\"content\":\"b\"}],\"x\":1}\n",
	}})
}

// TestConcurrent runs one Policy from many goroutines; go test -race checks it.
func TestConcurrent(t *testing.T) {
	p, err := Compile(config.Headers{Drop: []string{"x-*"}, Add: map[string]string{"A": "1"}},
		[]config.Transform{re("acme", "ACME"), drop("$.metadata"), set("$.options.num_ctx", 1)})
	if err != nil {
		t.Fatal(err)
	}
	const in = `{"metadata":{},"messages":[{"role":"user","content":"acme"}]}`
	const want = `{"messages":[{"role":"user","content":"ACME"}],"options":{"num_ctx":1}}`
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				h := http.Header{"X-Y": {"z"}}
				p.Headers(h)
				if len(h) != 1 || h.Get("A") != "1" {
					t.Errorf("Headers = %v", h)
				}
				out, err := p.Body([]byte(in), openai.Chat)
				if err != nil || string(out) != want {
					t.Errorf("Body = %s, %v", out, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestHeadersAndBodyFromOneConfig(t *testing.T) {
	p, err := Compile(config.Headers{Force: map[string]string{"X-Team": "research"}}, []config.Transform{{Drop: "$.user", Line: 3}})
	if err != nil {
		t.Fatal(err)
	}
	h := map[string][]string{}
	p.Headers(h)
	out, err := p.Body([]byte(`{"user":"u","model":"m"}`), openai.Chat)
	if err != nil {
		t.Fatal(err)
	}
	got := struct {
		Headers map[string][]string
		Body    string
	}{h, string(out)}
	want := struct {
		Headers map[string][]string
		Body    string
	}{map[string][]string{"X-Team": {"research"}}, `{"model":"m"}`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
