package responses

import (
	"strings"

	"github.com/llmrouter/llmrouter/internal/wire"
	"github.com/tidwall/gjson"
)

// ReadAnswer reads what a response body, or one stream event, says of the answer,
// for traces: the response's model, and why it stopped (README §15.2: the API has
// no finish reason; "why did it stop" is derived): incomplete_details.reason for
// an incomplete response, else its final status ("completed", "failed"); a
// response still in progress has no reason yet. The events that carry the
// response (response.created, .completed, .incomplete, .failed) say both. With
// content, text is the answer's text: a body's output_text parts, or an
// output_text delta event's piece (a terminal event's copy of the output is not
// read again).
func ReadAnswer(data []byte, content bool) (model, finish, text string) {
	root := gjson.ParseBytes(data)
	event := root.Get("response")
	if content {
		switch {
		case event.IsObject():
		case root.Get("type").Str == "response.output_text.delta":
			text = root.Get("delta").Str
		default:
			text = outputText(root)
		}
	}
	if event.IsObject() {
		root = event
	}
	model = root.Get("model").Str
	switch status := root.Get("status").Str; status {
	case "", StatusInProgress, "queued":
	case StatusIncomplete:
		finish = status
		if reason := root.Get("incomplete_details.reason").Str; reason != "" {
			finish = reason
		}
	default:
		finish = status
	}
	return model, finish, text
}

// outputText joins the output_text parts of a response's message items.
func outputText(r gjson.Result) string {
	var b strings.Builder
	r.Get("output").ForEach(func(_, item gjson.Result) bool {
		item.Get("content").ForEach(func(_, part gjson.Result) bool {
			if part.Get("type").Str == "output_text" {
				b.WriteString(part.Get("text").Str)
			}
			return true
		})
		return true
	})
	return b.String()
}

// ReadAnswer is the dialect's form of the function ReadAnswer: what data says
// of the answer, added to a (the gateway's traces read every dialect so).
func (API) ReadAnswer(data []byte, a *wire.Answer) {
	model, finish, text := ReadAnswer(data, a.Content)
	a.SetModel(model)
	a.AddFinish(finish)
	a.AddText(text)
}
