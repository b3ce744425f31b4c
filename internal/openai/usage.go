package openai

import (
	"bytes"

	"github.com/tidwall/gjson"
)

// Usage is the usage object of Chat and legacy Completions (docs/protocols.md §12):
// PromptTokens includes the cached tokens, CompletionTokens the reasoning tokens.
type Usage struct {
	PromptTokens            int64                    `json:"prompt_tokens"`
	CompletionTokens        int64                    `json:"completion_tokens"`
	TotalTokens             int64                    `json:"total_tokens"`
	PromptTokensDetails     *PromptTokensDetails     `json:"prompt_tokens_details,omitempty"`
	CompletionTokensDetails *CompletionTokensDetails `json:"completion_tokens_details,omitempty"`
}

// PromptTokensDetails splits the prompt tokens. CacheWriteTokens is new in the
// spec and absent from most answers.
type PromptTokensDetails struct {
	CachedTokens     int64 `json:"cached_tokens"`
	CacheWriteTokens int64 `json:"cache_write_tokens,omitempty"`
}

// CompletionTokensDetails splits the completion tokens.
type CompletionTokensDetails struct {
	ReasoningTokens int64 `json:"reasoning_tokens"`
}

// Tokens returns u in the terms every dialect shares: input counts every prompt
// token, cached or not, of which cacheRead were read from and cacheWrite written
// to the cache; output counts every generated token, of which reasoning were
// reasoning.
func (u Usage) Tokens() (input, output, cacheRead, cacheWrite, reasoning int64) {
	if d := u.PromptTokensDetails; d != nil {
		cacheRead, cacheWrite = d.CachedTokens, d.CacheWriteTokens
	}
	if d := u.CompletionTokensDetails; d != nil {
		reasoning = d.ReasoningTokens
	}
	return u.PromptTokens, u.CompletionTokens, cacheRead, cacheWrite, reasoning
}

var usageKey = []byte(`"usage"`)

// readUsage reads the usage object of a chat completion, a text completion or a
// stream chunk (the include_usage chunk; "usage": null on the others), as
// ParseUsage does. ok is false when data carries none. Chunks without the word
// "usage" are passed over without being parsed, so a relay may call it on every
// event.
func readUsage(data []byte) (u Usage, ok bool) {
	if !bytes.Contains(data, usageKey) {
		return u, false
	}
	v := gjson.GetBytes(data, "usage")
	if !v.IsObject() {
		return u, false
	}
	return ParseUsage(v.Raw), true
}

// ParseUsage reads a usage object's JSON text.
func ParseUsage(usage string) Usage {
	v := gjson.Parse(usage)
	u := Usage{
		PromptTokens:     v.Get("prompt_tokens").Int(),
		CompletionTokens: v.Get("completion_tokens").Int(),
		TotalTokens:      v.Get("total_tokens").Int(),
	}
	if d := v.Get("prompt_tokens_details"); d.IsObject() {
		u.PromptTokensDetails = &PromptTokensDetails{
			CachedTokens:     d.Get("cached_tokens").Int(),
			CacheWriteTokens: d.Get("cache_write_tokens").Int(),
		}
	}
	if d := v.Get("completion_tokens_details"); d.IsObject() {
		u.CompletionTokensDetails = &CompletionTokensDetails{ReasoningTokens: d.Get("reasoning_tokens").Int()}
	}
	return u
}
