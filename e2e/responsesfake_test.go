package e2e

import (
	"io"
	"net/http"
	"net/http/httptest"
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
	*httptest.Server
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
	f.Server = httptest.NewServer(f.rec.Wrap(http.HandlerFunc(f.serve)))
	t.Cleanup(f.Close)
	f.reportProblems(t)
	return f
}

func (f *responsesFake) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/responses" {
		writeJSON(w, http.StatusNotFound, "application/json", f.tpl.notFound)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		f.problem(w, err)
		return
	}
	req := gjson.ParseBytes(body)
	model := req.Get("model").String()
	text, call := f.answer(req)
	var p patcher
	if !req.Get("stream").Bool() {
		resp := f.whole(&p, model, text, call)
		if p.err != nil {
			f.problem(w, p.err)
			return
		}
		writeJSON(w, http.StatusOK, "application/json", resp)
		return
	}
	evs := f.events(&p, model, text, call)
	if p.err != nil {
		f.problem(w, p.err)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	for _, ev := range evs {
		writeEvent(w, ev.Name, ev.Data)
	}
}

// answer decides the turn: the final text, a function call, or a side answer.
func (f *responsesFake) answer(req gjson.Result) (text string, call bool) {
	for _, item := range req.Get("input").Array() {
		if item.Get("type").String() == "function_call_output" && item.Get("call_id").String() == f.loop.CallID {
			return f.loop.Final, false
		}
	}
	for _, tool := range req.Get("tools").Array() {
		if tool.Get("type").String() == "function" && tool.Get("name").String() == f.loop.Tool {
			return "", true
		}
	}
	return SideText, false
}

// events builds the stream: the recorded lifecycle with this turn's values.
func (f *responsesFake) events(p *patcher, model, text string, call bool) []sseEvent {
	tpl, args := f.tpl.textStream, f.loop.arguments()
	if call {
		tpl = f.tpl.callStream
	}
	out := make([]sseEvent, 0, len(tpl))
	for i, ev := range tpl {
		var pv []any
		switch ev.Name {
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
		out = append(out, sseEvent{ev.Name, p.set(ev.Data, append(pv, "sequence_number", i)...)})
	}
	return out
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
func (f *responsesFake) callOutputs() []string {
	var out []string
	for _, ex := range f.rec.Exchanges() {
		for _, item := range gjson.GetBytes(ex.Body, "input").Array() {
			if item.Get("type").String() == "function_call_output" && item.Get("call_id").String() == f.loop.CallID {
				out = append(out, item.Get("output").String())
			}
		}
	}
	return out
}
