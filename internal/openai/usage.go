package openai

import (
	"bytes"
	"slices"

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

// ParseUsage reads a usage object's JSON text, in one pass over its members (a
// gjson Get per member would walk the object again for each one it lacks). Of a
// member written twice, the first counts, as gjson's Get reads it.
func ParseUsage(usage string) Usage {
	var u Usage
	var seen [len(usageNames)]bool
	gjson.Parse(usage).ForEach(func(k, v gjson.Result) bool {
		i := slices.Index(usageNames[:], k.Str)
		if i < 0 || seen[i] {
			return true
		}
		seen[i] = true
		switch i {
		case 0:
			u.PromptTokens = v.Int()
		case 1:
			u.CompletionTokens = v.Int()
		case 2:
			u.TotalTokens = v.Int()
		case 3:
			if v.IsObject() {
				u.PromptTokensDetails = &PromptTokensDetails{
					CachedTokens:     v.Get("cached_tokens").Int(),
					CacheWriteTokens: v.Get("cache_write_tokens").Int(),
				}
			}
		case 4:
			if v.IsObject() {
				u.CompletionTokensDetails = &CompletionTokensDetails{ReasoningTokens: v.Get("reasoning_tokens").Int()}
			}
		}
		return true
	})
	return u
}

// usageNames are the members ParseUsage reads, in the order of its cases.
var usageNames = [...]string{"prompt_tokens", "completion_tokens", "total_tokens", "prompt_tokens_details", "completion_tokens_details"}
