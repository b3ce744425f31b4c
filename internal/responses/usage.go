package responses

import (
	"bytes"

	"github.com/tidwall/gjson"
)

// Usage is a response's usage (README §15.2): InputTokens includes the cached
// tokens, OutputTokens the reasoning tokens. It is null until the terminal event.
type Usage struct {
	InputTokens         int64               `json:"input_tokens"`
	InputTokensDetails  InputTokensDetails  `json:"input_tokens_details"`
	OutputTokens        int64               `json:"output_tokens"`
	OutputTokensDetails OutputTokensDetails `json:"output_tokens_details"`
	TotalTokens         int64               `json:"total_tokens"`
}

// InputTokensDetails splits the input tokens. CacheWriteTokens is in the spec
// [SDK ResponseUsageInputTokensDetails] but in no recording: written only when
// non-zero.
type InputTokensDetails struct {
	CachedTokens     int64 `json:"cached_tokens"`
	CacheWriteTokens int64 `json:"cache_write_tokens,omitempty"`
}

// OutputTokensDetails splits the output tokens.
type OutputTokensDetails struct {
	ReasoningTokens int64 `json:"reasoning_tokens"`
}

// Tokens returns u in the terms every dialect shares: input counts every prompt
// token, cached or not, of which cacheRead were read from and cacheWrite written
// to the cache; output counts every generated token, of which reasoning were
// reasoning.
func (u Usage) Tokens() (input, output, cacheRead, cacheWrite, reasoning int64) {
	return u.InputTokens, u.OutputTokens, u.InputTokensDetails.CachedTokens,
		u.InputTokensDetails.CacheWriteTokens, u.OutputTokensDetails.ReasoningTokens
}

var usageKey = []byte(`"usage"`)

// ReadUsage reads the usage of a response body or of the stream event that
// carries it (the terminal event's response.usage; "usage": null on created and
// in_progress). ok is false when data carries none. Events without the word
// "usage" are passed over without being parsed, so a relay may call it on every
// event.
func ReadUsage(data []byte) (u Usage, ok bool) {
	if !bytes.Contains(data, usageKey) {
		return u, false
	}
	v := gjson.GetBytes(data, "usage")
	if !v.IsObject() {
		v = gjson.GetBytes(data, "response.usage")
	}
	if !v.IsObject() {
		return u, false
	}
	return ParseUsage(v.Raw), true
}

// ParseUsage reads a usage object's JSON text.
func ParseUsage(usage string) Usage {
	v := gjson.Parse(usage)
	return Usage{
		InputTokens: v.Get("input_tokens").Int(),
		InputTokensDetails: InputTokensDetails{
			CachedTokens:     v.Get("input_tokens_details.cached_tokens").Int(),
			CacheWriteTokens: v.Get("input_tokens_details.cache_write_tokens").Int(),
		},
		OutputTokens:        v.Get("output_tokens").Int(),
		OutputTokensDetails: OutputTokensDetails{ReasoningTokens: v.Get("output_tokens_details.reasoning_tokens").Int()},
		TotalTokens:         v.Get("total_tokens").Int(),
	}
}
