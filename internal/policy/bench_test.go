package policy

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/llmrouter/llmrouter/internal/config"
	"github.com/llmrouter/llmrouter/internal/openai"
)

// chatBody returns an OpenAI chat request of about 5 KB: a system prompt, a
// 16 turns of text (one mentioning "Acme Corp"), a tool call and its result.
func chatBody(b *testing.B) []byte {
	b.Helper()
	const para = "The quick brown fox jumps over the lazy dog while the committee reviews the quarterly figures in detail. "
	msgs := []map[string]any{{"role": "system", "content": "You are a careful assistant. " + para}}
	for i := range 16 {
		role := []string{"user", "assistant"}[i%2]
		text := fmt.Sprintf("Turn %d. %s%s%s", i, para, para, para[:i*5])
		if i == 6 {
			text += " Send it to Acme Corp."
		}
		msgs = append(msgs, map[string]any{"role": role, "content": []any{map[string]any{"type": "text", "text": text}}})
	}
	msgs = append(msgs,
		map[string]any{"role": "assistant", "content": nil, "tool_calls": []any{map[string]any{
			"id": "call_1", "type": "function",
			"function": map[string]any{"name": "lookup", "arguments": `{"q":"figures"}`}}}},
		map[string]any{"role": "tool", "tool_call_id": "call_1", "content": "42 units"},
	)
	body, err := json.Marshal(map[string]any{"model": "gpt-4o", "temperature": 0.7, "stream": true, "messages": msgs})
	if err != nil {
		b.Fatal(err)
	}
	if n := len(body); n < 4500 || n > 5500 {
		b.Fatalf("body is %d bytes, want about 5 KB", n)
	}
	return body
}

func BenchmarkBody(b *testing.B) {
	body := chatBody(b)
	tests := []struct {
		name  string
		rules []config.Transform
	}{
		{"no-match", []config.Transform{re(`(?i)globex corp`, "GLOBEX"), re(`\bsecret-\w+`, "[redacted]", "user")}},
		{"no-match-literal", []config.Transform{re(`Globex`, "GLOBEX")}},
		{"regex-match", []config.Transform{re(`(?i)acme corp`, "ACME")}},
		{"regex-every-text", []config.Transform{re(`fox`, "cat")}},
		{"set-new-key", []config.Transform{set("$.metadata.user_id", "router")}},
		{"drop-missing", []config.Transform{drop("$.metadata")}},
		{"set-filter", []config.Transform{set("$.messages[?@.role=='tool'].name", "lookup")}},
		{"drop-descendant", []config.Transform{drop("$..tool_call_id")}},
		{"set-descendant-wildcards", []config.Transform{set("$..*..*.arguments", "{}")}},
	}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			p := mustCompile(b, tt.rules...)
			out, err := p.Body(body, openai.Chat)
			if err != nil {
				b.Fatal(err)
			}
			changed := !strings.HasPrefix(tt.name, "no-match") && tt.name != "drop-missing"
			if changed == (&out[0] == &body[0]) {
				b.Fatalf("changed = %v, but Body returned %s", changed, out)
			}
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.Body(body, openai.Chat); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
