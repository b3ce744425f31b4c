package ollama

import (
	"bytes"

	"github.com/tidwall/gjson"
)

// Metrics are the token counters of a final answer (done:true). Ollama reports
// no cache or reasoning counts, and its counts come from the model's tokenizer.
type Metrics struct {
	PromptEvalCount int64 `json:"prompt_eval_count"`
	EvalCount       int64 `json:"eval_count"`
}

// Tokens returns m in the terms every dialect shares: input counts every prompt
// token, output every generated one; Ollama reports no cache or reasoning counts.
func (m Metrics) Tokens() (input, output, cacheRead, cacheWrite, reasoning int64) {
	return m.PromptEvalCount, m.EvalCount, 0, 0, 0
}

var countKey = []byte(`eval_count"`)

// readUsage reads the counters of a body or NDJSON line that ends an answer
// (done:true); ok is false for any other. Lines without the counters' names are
// passed over without being parsed, so a relay may call it on every line.
func readUsage(data []byte) (m Metrics, ok bool) {
	if !bytes.Contains(data, countKey) {
		return m, false
	}
	r := gjson.GetManyBytes(data, "done", "prompt_eval_count", "eval_count")
	if r[0].Type != gjson.True {
		return m, false
	}
	return Metrics{PromptEvalCount: r[1].Int(), EvalCount: r[2].Int()}, true
}
