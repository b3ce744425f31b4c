package openai

import (
	"github.com/tidwall/gjson"

	"github.com/llmrouter/llmrouter/internal/wire"
)

// ReadAnswer reads what a response body or one stream chunk says of the answer,
// for traces: its "model", and the finish_reason of each choice that has one
// (docs/protocols.md §1.2, §1.3, §2: a chunk carries it once per choice, when the
// choice ends); with a.Content, the first choice's text (message.content,
// delta.content, or a legacy completion's text). [DONE] and anything that is not
// a JSON object say nothing.
func (API) ReadAnswer(data []byte, a *wire.Answer) {
	r := gjson.GetManyBytes(data, "model", "choices.#.finish_reason")
	if r[0].Type == gjson.String {
		a.SetModel(r[0].Str)
	}
	for _, f := range r[1].Array() {
		if f.Type == gjson.String {
			a.AddFinish(f.Str)
		}
	}
	if a.Content {
		for _, t := range gjson.GetManyBytes(data, "choices.0.message.content", "choices.0.delta.content", "choices.0.text") {
			if t.Type == gjson.String {
				a.AddText(t.Str)
			}
		}
	}
}
