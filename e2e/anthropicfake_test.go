package e2e

import (
	"testing"

	"github.com/tidwall/gjson"
)

// anthropicFake is an Anthropic Messages upstream (POST /v1/messages) playing a toolLoop,
// streaming or not. Its answers are the recorded transcripts
// (testdata/fixtures/anthropic-messages-{stream,response}-*) with only values changed: the
// tool_use block's id, name and input (its text block left out, the tool block renumbered
// to index 0), the text, the model.
type anthropicFake struct {
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
	f.start(t, f.sse("/v1/messages", f.tpl.notFound, f))
	return f
}

// answer decides the turn: the final text once the loop's call has its tool_result, the
// call when the loop's tool is declared, else a side answer.
func (f *anthropicFake) answer(req gjson.Result) (text string, call bool) {
	return f.loop.turn(len(f.results(req)) > 0,
		some(req.Get("tools"), func(tool gjson.Result) bool { return tool.Get("name").String() == f.loop.Tool }))
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

// events builds the stream: the recorded lifecycle with this turn's values.
func (f *anthropicFake) events(p *patcher, _ gjson.Result, model, text string, call bool) []sseEvent {
	tpl := f.tpl.textStream
	if call {
		tpl = f.tpl.callStream
	}
	return patchEach(p, tpl, func(_ int, name string) (pv []any) {
		switch name {
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
		return pv
	})
}

func (f *anthropicFake) whole(p *patcher, model, text string, call bool) string {
	if call {
		return p.set(f.tpl.callWhole, "model", model, "content.0.id", f.loop.CallID, "content.0.name", f.loop.Tool,
			"content.0.input", gjson.Parse(f.loop.arguments()).Value())
	}
	return p.set(f.tpl.textWhole, "model", model, "content.0.text", text)
}

// toolResults returns the tool_result texts answering the loop's call that reached the fake.
func (f *anthropicFake) toolResults() []string { return f.received(f.results) }
