package anthropic

import (
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/llmrouter/llmrouter/internal/wire"
)

func TestEstimateCountsTextNotBinary(t *testing.T) {
	count := func(body string) int64 {
		t.Helper()
		answer, ok := Messages.Estimate(wire.CountTokens, []byte(body))
		if !ok {
			t.Fatalf("no estimate for %s", body)
		}
		return gjson.GetBytes(answer, "input_tokens").Int()
	}
	text := strings.Repeat("abcd", 100) // 400 bytes: 100 tokens
	// The role and block types are strings too: "user" is 4 bytes more.
	if n := count(`{"model":"m","messages":[{"role":"user","content":"` + text + `"}]}`); n != 101 {
		t.Errorf("404 bytes of text = %d tokens, want 101", n)
	}
	if n := count(`{"model":"m","system":[{"type":"text","text":"` + text + `"}],"messages":[{"role":"user","content":[` +
		`{"type":"text","text":"` + text + `"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"` +
		strings.Repeat("A", 40000) + `"}}]}]}`); n != 205+imageTokens {
		// "text" 400 "user" "text" 400 "image": 817 bytes, 205 tokens; the image's
		// source is not text.
		t.Errorf("two texts and an image = %d tokens, want %d", n, 205+imageTokens)
	}
	if _, ok := Messages.Estimate(wire.Generate, []byte(`{}`)); ok {
		t.Error("an estimate of an answer")
	}
	if _, ok := Messages.Estimate(wire.CountTokens, []byte(`[1]`)); ok {
		t.Error("an estimate of a body that is not an object")
	}
}
