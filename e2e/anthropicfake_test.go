package e2e

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tidwall/gjson"
)

// anthropicFake is an Anthropic Messages upstream (POST /v1/messages) playing a toolLoop,
// streaming or not. Its answers are the recorded transcripts
// (testdata/fixtures/anthropic-messages-{stream,response}-*) with only values changed: the
// tool_use block's id, name and input (its text block left out, the tool block renumbered
// to index 0), the text, the model.
type anthropicFake struct {
	*httptest.Server
	fake
	loop toolLoop
	tpl  anthropicTemplates
}

type anthropicTemplates struct {
	callStream, textStream []sseEvent // recorded streams, cut to one block with one delta
	callWhole, textWhole   string     // recorded non-stream bodies
	notFound               string     // Anthropic's error envelope
}

func loadAnthropicTemplates(t testing.TB) anthropicTemplates {
	tools := sseEvents(fixture(t, "fixtures/anthropic-messages-stream-tools.sse"))
	text := sseEvents(fixture(t, "fixtures/anthropic-messages-stream-text.sse"))
	var call, say []sseEvent
	firstDelta := true
	for _, ev := range tools {
		switch {
		case ev.Name == "content_block_start" && gjson.Get(ev.Data, "content_block.type").String() == "tool_use",
			ev.Name == "content_block_stop" && gjson.Get(ev.Data, "index").Int() == 1,
			ev.Name == "message_start", ev.Name == "message_delta", ev.Name == "message_stop":
			call = append(call, ev)
		case ev.Name == "content_block_delta" && gjson.Get(ev.Data, "delta.type").String() == "input_json_delta" && firstDelta:
			call, firstDelta = append(call, ev), false
		}
	}
	firstDelta = true
	for _, ev := range text {
		if ev.Name != "content_block_delta" || firstDelta {
			say = append(say, ev)
		}
		firstDelta = firstDelta && ev.Name != "content_block_delta"
	}
	return anthropicTemplates{
		callStream: call,
		textStream: say,
		callWhole:  string(fixture(t, "fixtures/anthropic-messages-response-tool-use.json")),
		textWhole:  string(fixture(t, "fixtures/anthropic-messages-response.json")),
		notFound:   string(fixture(t, "fixtures/anthropic-error-400.json")),
	}
}

func newAnthropicFake(t *testing.T, loop toolLoop) *anthropicFake {
	f := &anthropicFake{loop: loop, tpl: loadAnthropicTemplates(t)}
	f.Server = httptest.NewServer(f.rec.Wrap(http.HandlerFunc(f.serve)))
	t.Cleanup(f.Close)
	f.reportProblems(t)
	return f
}

func (f *anthropicFake) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/messages" {
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

// answer decides the turn: the final text once the loop's call has its tool_result, the
// call when the loop's tool is declared, else a side answer.
func (f *anthropicFake) answer(req gjson.Result) (text string, call bool) {
	if len(f.results(req)) > 0 {
		return f.loop.Final, false
	}
	for _, tool := range req.Get("tools").Array() {
		if tool.Get("name").String() == f.loop.Tool {
			return "", true
		}
	}
	return SideText, false
}

// results returns the text of the tool_result blocks answering the loop's call.
func (f *anthropicFake) results(req gjson.Result) []string {
	var out []string
	for _, m := range req.Get("messages").Array() {
		for _, b := range m.Get("content").Array() {
			if b.Get("type").String() == "tool_result" && b.Get("tool_use_id").String() == f.loop.CallID {
				out = append(out, textOf(b.Get("content")))
			}
		}
	}
	return out
}

func (f *anthropicFake) events(p *patcher, model, text string, call bool) []sseEvent {
	tpl := f.tpl.textStream
	if call {
		tpl = f.tpl.callStream
	}
	out := make([]sseEvent, 0, len(tpl))
	for _, ev := range tpl {
		var pv []any
		switch ev.Name {
		case "message_start":
			pv = []any{"message.model", model}
		case "content_block_start":
			if call {
				pv = []any{"index", 0, "content_block.id", f.loop.CallID, "content_block.name", f.loop.Tool}
			}
		case "content_block_delta":
			pv = []any{"delta.text", text}
			if call {
				pv = []any{"index", 0, "delta.partial_json", f.loop.arguments()}
			}
		case "content_block_stop":
			pv = []any{"index", 0}
		}
		out = append(out, sseEvent{ev.Name, p.set(ev.Data, pv...)})
	}
	return out
}

func (f *anthropicFake) whole(p *patcher, model, text string, call bool) string {
	if call {
		return p.set(f.tpl.callWhole, "model", model, "content.0.id", f.loop.CallID, "content.0.name", f.loop.Tool,
			"content.0.input", gjson.Parse(f.loop.arguments()).Value())
	}
	return p.set(f.tpl.textWhole, "model", model, "content.0.text", text)
}

// toolResults returns the tool_result texts answering the loop's call that reached the fake.
func (f *anthropicFake) toolResults() []string {
	var out []string
	for _, ex := range f.rec.Exchanges() {
		out = append(out, f.results(gjson.ParseBytes(ex.Body))...)
	}
	return out
}
