package anthropic

import (
	"encoding/json"

	"github.com/tidwall/gjson"

	"github.com/llmrouter/llmrouter/internal/wire"
)

// Estimating a count_tokens answer where no upstream can count (issue 9 item 12:
// Ollama has no count, nor have OpenAI-compatible servers without the Responses
// API). The estimate is the usual rule of thumb for English text and BPE
// tokenizers, one token per four bytes of text, over the request's texts: the
// system prompt, every string in the messages (text, tool inputs and results,
// thinking), and each tool's name, description and schema as JSON. An image or
// document counts imageTokens, Anthropic's figure for an image at its largest
// size before it is scaled down; binary data (base64 sources, signatures) counts
// nothing else. Code and languages other than English take more tokens per byte
// than the rule says. The gateway marks the answer as an estimate
// (X-Llmrouter-Estimate: true).

// Estimate bounds: bytes per token, and the tokens of one image or document.
const (
	bytesPerToken = 4
	imageTokens   = 1600
)

// Estimate returns, for a count_tokens request (op CountTokens), its answer
// with an estimate of the request's input tokens; ok is false for another
// operation, or a body that is not a JSON object.
func (API) Estimate(op wire.Operation, body []byte) (answer []byte, ok bool) {
	if op != wire.CountTokens || !json.Valid(body) || !gjson.ParseBytes(body).IsObject() {
		return nil, false
	}
	r := gjson.GetManyBytes(body, "system", "messages", "tools")
	n := textBytes(r[0]) + textBytes(r[1]) + int64(len(r[2].Raw))
	tokens := (n+bytesPerToken-1)/bytesPerToken + images(r[1])*imageTokens
	answer, _ = json.Marshal(TokenCount{InputTokens: tokens})
	return answer, true
}

// textBytes sums the lengths of the strings in v, at any depth, but those of
// binary members (a source's data, a thinking signature, redacted thinking).
func textBytes(v gjson.Result) int64 {
	switch {
	case v.Type == gjson.String:
		return int64(len(v.Str))
	case !v.IsObject() && !v.IsArray():
		return 0
	}
	var n int64
	v.ForEach(func(k, e gjson.Result) bool {
		switch k.Str {
		case "source", "signature", "data":
		default:
			n += textBytes(e)
		}
		return true
	})
	return n
}

// images counts the image and document blocks of the messages.
func images(messages gjson.Result) int64 {
	var n int64
	messages.ForEach(func(_, m gjson.Result) bool {
		m.Get("content").ForEach(func(_, b gjson.Result) bool {
			if t := b.Get("type").Str; t == "image" || t == "document" {
				n++
			}
			return true
		})
		return true
	})
	return n
}
