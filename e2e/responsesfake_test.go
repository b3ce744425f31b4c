package e2e

import (
	"testing"

	"github.com/tidwall/gjson"
)

// responsesFake is an OpenAI Responses upstream (POST /v1/responses) playing a toolLoop with
// a function tool. Its answers are the recorded OpenAI transcripts
// (testdata/responses/openai-responses-{stream,response}-{function-call,text}*) with only
// values changed: the function call's call_id, name and arguments, the text, the model,
// and sequence_number renumbered after the recording's repeated deltas are merged into
// one.
type responsesFake struct {
	fake
	loop toolLoop
	tpl  responsesTemplates
}

type responsesTemplates struct {
	callStream, textStream []sseEvent // recorded streams, one delta each
	callWhole, textWhole   string     // recorded non-stream bodies
	notFound               string     // OpenAI's 404 envelope
}

func loadResponsesTemplates(t testing.TB) responsesTemplates {
	return responsesTemplates{
		callStream: oneDelta(sseEvents(fixture(t, "responses/openai-responses-stream-function-call.sse"))),
		textStream: oneDelta(sseEvents(fixture(t, "responses/openai-responses-stream-text.sse"))),
		callWhole:  string(fixture(t, "responses/openai-responses-response-function-call.json")),
		textWhole:  string(fixture(t, "responses/openai-responses-response-text.json")),
		notFound:   string(fixture(t, "fixtures/openai-error-404.json")),
	}
}

// oneDelta keeps the first of each run of delta events: the fake sends its whole text or
// arguments in one delta, as Ollama's /v1/responses does for tool calls.
func oneDelta(evs []sseEvent) []sseEvent {
	var out []sseEvent
	for i, ev := range evs {
		if i > 0 && ev.Name == evs[i-1].Name && gjson.Get(ev.Data, "delta").Exists() {
			continue
		}
		out = append(out, ev)
	}
	return out
}

func newResponsesFake(t *testing.T, loop toolLoop) *responsesFake {
	f := &responsesFake{loop: loop, tpl: loadResponsesTemplates(t)}
	f.start(t, f.sse("/v1/responses", f.tpl.notFound, f))
	return f
}

// answer decides the turn: the final text, a function call, or a side answer.
func (f *responsesFake) answer(req gjson.Result) (text string, call bool) {
	return f.loop.turn(len(f.outputs(req)) > 0, some(req.Get("tools"), func(tool gjson.Result) bool {
		return tool.Get("type").String() == "function" && tool.Get("name").String() == f.loop.Tool
	}))
}

// outputs returns the output of the function_call_output items answering the loop's call.
func (f *responsesFake) outputs(req gjson.Result) []string {
	var out []string
	for _, item := range req.Get("input").Array() {
		if item.Get("type").String() == "function_call_output" && item.Get("call_id").String() == f.loop.CallID {
			out = append(out, item.Get("output").String())
		}
	}
	return out
}

// events builds the stream: the recorded lifecycle with this turn's values.
func (f *responsesFake) events(p *patcher, _ gjson.Result, model, text string, call bool) []sseEvent {
	tpl, args := f.tpl.textStream, f.loop.arguments()
	if call {
		tpl = f.tpl.callStream
	}
	return patchEach(p, tpl, func(i int, name string) (pv []any) {
		switch name {
		case "response.created", "response.in_progress":
			pv = []any{"response.model", model}
		case "response.output_item.added":
			if call {
				pv = []any{"item.call_id", f.loop.CallID, "item.name", f.loop.Tool}
			}
		case "response.function_call_arguments.delta", "response.output_text.delta":
			pv = []any{"delta", text}
			if call {
				pv = []any{"delta", args}
			}
		case "response.function_call_arguments.done":
			pv = []any{"arguments", args}
		case "response.output_text.done":
			pv = []any{"text", text}
		case "response.content_part.done":
			pv = []any{"part.text", text}
		case "response.output_item.done":
			pv = []any{"item.content.0.text", text}
			if call {
				pv = []any{"item.call_id", f.loop.CallID, "item.name", f.loop.Tool, "item.arguments", args}
			}
		case "response.completed":
			pv = []any{"response.model", model, "response.output.0.content.0.text", text}
			if call {
				pv = []any{"response.model", model, "response.output.0.call_id", f.loop.CallID,
					"response.output.0.name", f.loop.Tool, "response.output.0.arguments", args}
			}
		}
		return append(pv, "sequence_number", i)
	})
}

func (f *responsesFake) whole(p *patcher, model, text string, call bool) string {
	if call {
		return p.set(f.tpl.callWhole, "model", model, "output.0.call_id", f.loop.CallID,
			"output.0.name", f.loop.Tool, "output.0.arguments", f.loop.arguments())
	}
	return p.set(f.tpl.textWhole, "model", model, "output.0.content.0.text", text)
}

// callOutputs returns the function_call_output items answering the loop's call that
// reached the fake.
func (f *responsesFake) callOutputs() []string { return f.received(f.outputs) }
