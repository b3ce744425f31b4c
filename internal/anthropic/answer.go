package anthropic

import (
	"github.com/tidwall/gjson"

	"github.com/llmrouter/llmrouter/internal/wire"
)

// ReadAnswer reads what a Messages response body or one stream event says of the
// answer, for traces: the model (a body's "model", message_start's
// "message.model") and the stop_reason (a body's, message_delta's
// "delta.stop_reason"; docs/protocols.md §3.2, §3.3); with a.Content, the text
// of a body's text blocks or of a text_delta event. Other events say nothing.
func (API) ReadAnswer(data []byte, a *wire.Answer) {
	r := gjson.GetManyBytes(data, "model", "message.model", "stop_reason", "delta.stop_reason")
	for _, m := range r[:2] {
		if m.Type == gjson.String {
			a.SetModel(m.Str)
		}
	}
	for _, f := range r[2:] {
		if f.Type == gjson.String {
			a.AddFinish(f.Str)
		}
	}
	if a.Content {
		t := gjson.GetManyBytes(data, `content.#(type=="text")#.text`, "delta.text")
		for _, block := range t[0].Array() {
			a.AddText(block.Str)
		}
		a.AddText(t[1].Str)
	}
}
