package ollama

import (
	"github.com/tidwall/gjson"

	"github.com/llmrouter/llmrouter/internal/wire"
)

// ReadAnswer reads what a response body or one NDJSON line says of the answer,
// for traces: its "model", and the final line's "done_reason" (docs/protocols.md
// §4.3, §4.4); with a.Content, its text (message.content, or generate's response).
func (API) ReadAnswer(data []byte, a *wire.Answer) {
	r := gjson.GetManyBytes(data, "model", "done_reason", "message.content", "response")
	if r[0].Type == gjson.String {
		a.SetModel(r[0].Str)
	}
	if r[1].Type == gjson.String {
		a.AddFinish(r[1].Str)
	}
	a.AddText(r[2].Str)
	a.AddText(r[3].Str)
}
