package translate

// Anthropic's signed thinking through a Responses client, and back.
//
// Anthropic wants the thinking blocks of a tool loop's last assistant turn sent
// back unchanged, signature included (README §10, §14 item 6). A Responses client
// keeps reasoning across turns only as reasoning items, whose encrypted_content it
// sends back verbatim when it asked for it (include reasoning.encrypted_content;
// Codex always does, README §15.5). So on a route to Anthropic the encoder puts
// each thinking block, signature and all, in its reasoning item's
// encrypted_content, marked as ours; the next request's converter turns a marked
// item back into the block. Anything else found there (OpenAI's own encrypted
// reasoning, or ours on a route to another provider) means nothing to the
// upstream and is dropped and recorded: a signature is never made up.

import (
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/llmrouter/llmrouter/internal/anthropic"
)

// carryPrefix marks encrypted_content made by carryThinking: a thinking block of
// an Anthropic upstream, as base64 (URL alphabet, no padding) of its JSON.
const carryPrefix = "llmrouter.anthropic.thinking.v1:"

// carriedBlock is a thinking or redacted_thinking block, as carried.
type carriedBlock struct {
	Type      string `json:"type"`
	Thinking  string `json:"thinking,omitempty"`
	Signature string `json:"signature,omitempty"`
	Data      string `json:"data,omitempty"`
}

// carryThinking returns the encrypted_content that carries a thinking block
// (redacted false: text and signature) or a redacted_thinking block (redacted
// true: text is its data).
func carryThinking(text, signature string, redacted bool) string {
	b := carriedBlock{Type: "thinking", Thinking: text, Signature: signature}
	if redacted {
		b = carriedBlock{Type: "redacted_thinking", Data: text}
	}
	j, _ := json.Marshal(b) // strings always encode
	return carryPrefix + base64.RawURLEncoding.EncodeToString(j)
}

// carriedThinking returns the Anthropic block an encrypted_content carries, and
// false when it is not one of ours (or is damaged).
func carriedThinking(s string) (any, bool) {
	enc, ok := strings.CutPrefix(s, carryPrefix)
	if !ok {
		return nil, false
	}
	j, err := base64.RawURLEncoding.DecodeString(enc)
	var b carriedBlock
	if err != nil || json.Unmarshal(j, &b) != nil {
		return nil, false
	}
	switch {
	case b.Type == "thinking" && b.Signature != "":
		return anthropic.ThinkingBlock{Type: b.Type, Thinking: b.Thinking, Signature: b.Signature}, true
	case b.Type == "redacted_thinking" && b.Data != "":
		return anthropic.RedactedThinkingBlock{Type: b.Type, Data: b.Data}, true
	}
	return nil, false
}
