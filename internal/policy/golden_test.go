package policy

import (
	"bytes"
	"encoding/json"
	"flag"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/llmrouter/llmrouter/internal/anthropic"
	"github.com/llmrouter/llmrouter/internal/config"
	"github.com/llmrouter/llmrouter/internal/ollama"
	"github.com/llmrouter/llmrouter/internal/openai"
	"github.com/llmrouter/llmrouter/internal/responses"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the current output")

// goldenRules touch every kind of node: texts (a word that also appears in ids,
// tool inputs and thinking, which must not change), cache markers, a new nested key.
var goldenRules = []config.Transform{
	{Regex: `\b(weather|the)\b`, Replace: "[$1]", Flags: "i", Line: 1},
	{Drop: "$..cache_control", Line: 2},
	{Set: "$.metadata.user_id", Value: "router", Line: 3},
}

// protoOf returns the protocol a testdata/requests file is in, from its name.
func protoOf(t testing.TB, name string) Dialect {
	for prefix, p := range map[string]Dialect{
		"openai-chat-":        openai.Chat,
		"openai-completions-": openai.Completions,
		"anthropic-messages-": anthropic.Messages,
		"ollama-chat-":        ollama.Chat,
		"ollama-generate-":    ollama.Generate,
		"openai-responses-":   responses.Responses,
	} {
		if strings.HasPrefix(name, prefix) {
			return p
		}
	}
	t.Fatalf("%s: no protocol prefix", name)
	return nil
}

func requestFiles(t testing.TB) []string {
	files, err := filepath.Glob(filepath.Join("testdata", "requests", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no request files: %v", err)
	}
	return files
}

func TestGolden(t *testing.T) {
	p := mustCompile(t, goldenRules...)
	for _, file := range requestFiles(t) {
		name := filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			in, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			got, err := p.Body(in, protoOf(t, name))
			if err != nil {
				t.Fatal(err)
			}
			if !json.Valid(got) {
				t.Fatalf("output is not JSON:\n%s", got)
			}
			golden := filepath.Join("testdata", "golden", name)
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("Body (-want +got):\n%s", diff)
			}
			checkUntouched(t, in, got)
		})
	}
}

// checkUntouched compares what must never change: ids, tool arguments and
// inputs, thinking signatures, reasoning and image data. (A Responses request's
// top-level input holds its texts: collect looks at nested inputs only.)
func checkUntouched(t *testing.T, in, out []byte) {
	t.Helper()
	keys := []string{"id", "tool_use_id", "tool_call_id", "call_id", "arguments", "input", "signature", "thinking",
		"encrypted_content", "summary", "data", "url", "image_url", "images"}
	for _, k := range keys {
		a, b := collect(t, in, k), collect(t, out, k)
		if diff := cmp.Diff(a, b); diff != "" {
			t.Errorf("values of %q changed (-in +out):\n%s", k, diff)
		}
	}
}

// collect returns every value of key anywhere in body, in document order.
func collect(t *testing.T, body []byte, key string) []any {
	t.Helper()
	var v any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	var out []any
	var walk func(v any, nested bool)
	walk = func(v any, nested bool) {
		switch v := v.(type) {
		case map[string]any:
			if x, ok := v[key]; ok && (nested || key != "input") {
				out = append(out, x)
			}
			for _, k := range slices.Sorted(maps.Keys(v)) {
				walk(v[k], true)
			}
		case []any:
			for _, x := range v {
				walk(x, true)
			}
		}
	}
	walk(v, false)
	return out
}
