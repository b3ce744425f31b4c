package anthropic

import (
	"bytes"

	"github.com/tidwall/gjson"
)

// Usage is Anthropic's usage object (docs/protocols.md §12). InputTokens excludes the cache
// reads and writes; OutputTokens includes thinking. The cache counts are nil when
// not known (an answer translated from an upstream that reports none), and are
// then left out rather than claimed to be 0.
type Usage struct {
	InputTokens              int64  `json:"input_tokens"`
	CacheCreationInputTokens *int64 `json:"cache_creation_input_tokens,omitempty"`
	CacheReadInputTokens     *int64 `json:"cache_read_input_tokens,omitempty"`
	OutputTokens             int64  `json:"output_tokens"`
}

// Tokens returns u in the terms every dialect shares: input counts every prompt
// token, cached or not, of which cacheRead were read from and cacheWrite written
// to the cache; output counts every generated token. Anthropic does not report
// reasoning tokens apart.
func (u Usage) Tokens() (input, output, cacheRead, cacheWrite, reasoning int64) {
	if u.CacheReadInputTokens != nil {
		cacheRead = *u.CacheReadInputTokens
	}
	if u.CacheCreationInputTokens != nil {
		cacheWrite = *u.CacheCreationInputTokens
	}
	return u.InputTokens + cacheRead + cacheWrite, u.OutputTokens, cacheRead, cacheWrite, 0
}

var usageKey = []byte(`"usage"`)

// readUsage reads into u the counts of a Messages body or of the stream event
// that carries them: message_start (message.usage, the input) or message_delta
// (usage, cumulative), as Merge does. It reports whether data carried usage.
// Events without the word "usage" are passed over without being parsed, so a
// relay may call it on every event.
func readUsage(u *Usage, data []byte) bool {
	if !bytes.Contains(data, usageKey) {
		return false
	}
	v := gjson.GetBytes(data, "usage")
	if !v.IsObject() {
		v = gjson.GetBytes(data, "message.usage")
	}
	if !v.IsObject() {
		return false
	}
	u.Merge(v.Raw)
	return true
}

// Merge reads into u the counts present in usage, a usage object's JSON text.
// Counts it leaves out keep their value, since message_delta may or may not
// repeat message_start's input counts.
func (u *Usage) Merge(usage string) {
	v := gjson.Parse(usage)
	if f := v.Get("input_tokens"); f.Type == gjson.Number {
		u.InputTokens = f.Int()
	}
	if f := v.Get("output_tokens"); f.Type == gjson.Number {
		u.OutputTokens = f.Int()
	}
	setCount(&u.CacheCreationInputTokens, v.Get("cache_creation_input_tokens"))
	setCount(&u.CacheReadInputTokens, v.Get("cache_read_input_tokens"))
}

// setCount stores a count present in f, allocating only when it changes.
func setCount(dst **int64, f gjson.Result) {
	if f.Type != gjson.Number {
		return
	}
	if n := f.Int(); *dst == nil || **dst != n {
		*dst = &n
	}
}
