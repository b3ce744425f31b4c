package e2e

import (
	"testing"

	"github.com/tidwall/gjson"
)

// chatFake is an OpenAI Chat Completions upstream playing a toolLoop, streaming or not. Its
// answers are recorded payloads (testdata/fixtures/openai-chat-*) with only values changed.
type chatFake struct {
	fake
	loop toolLoop
	tpl  chatTemplates
}

// chatTemplates are the recorded payloads the fake answers with.
type chatTemplates struct {
	role, text, stop, usage          string // stream chunks of a text answer
	toolStart, toolArgs, toolStop    string // stream chunks of a tool call
	response, toolResponse, notFound string // non-stream bodies and the 404 error
}

func loadChatTemplates(t testing.TB) chatTemplates {
	text := ssePayloads(fixture(t, "fixtures/openai-chat-stream-usage.sse"))
	tools := ssePayloads(fixture(t, "fixtures/openai-chat-stream-tools.sse"))
	return chatTemplates{
		role: pick(t, text, "role chunk", func(r gjson.Result) bool { return r.Get("choices.0.delta.role").Exists() }),
		text: pick(t, text, "content chunk", func(r gjson.Result) bool {
			return r.Get("choices.0.delta.content").String() != "" && !r.Get("choices.0.delta.role").Exists()
		}),
		stop:  pick(t, text, "stop chunk", func(r gjson.Result) bool { return r.Get("choices.0.finish_reason").String() == "stop" }),
		usage: pick(t, text, "usage chunk", func(r gjson.Result) bool { return r.Get("usage.total_tokens").Exists() }),
		toolStart: pick(t, tools, "tool call start", func(r gjson.Result) bool {
			return r.Get("choices.0.delta.tool_calls.0.id").Exists()
		}),
		toolArgs: pick(t, tools, "tool arguments", func(r gjson.Result) bool {
			c := r.Get("choices.0.delta.tool_calls.0")
			return c.Exists() && !c.Get("id").Exists() && c.Get("function.arguments").String() != ""
		}),
		toolStop: pick(t, tools, "tool_calls finish", func(r gjson.Result) bool {
			return r.Get("choices.0.finish_reason").String() == "tool_calls"
		}),
		response:     string(fixture(t, "fixtures/openai-chat-response.json")),
		toolResponse: string(fixture(t, "fixtures/openai-chat-response-tools.json")),
		notFound:     string(fixture(t, "fixtures/openai-error-404.json")),
	}
}

func newChatFake(t *testing.T, loop toolLoop) *chatFake {
	f := &chatFake{loop: loop, tpl: loadChatTemplates(t)}
	f.start(t, f.sse("/v1/chat/completions", f.tpl.notFound, f))
	return f
}

// answer decides the turn: the final text, a tool call, or a side answer.
func (f *chatFake) answer(req gjson.Result) (text string, call bool) {
	return f.loop.turn(len(f.results(req)) > 0,
		some(req.Get("tools"), func(tool gjson.Result) bool { return tool.Get("function.name").String() == f.loop.Tool }))
}

// results returns the contents of the tool messages answering the loop's call.
func (f *chatFake) results(req gjson.Result) []string {
	var out []string
	for _, m := range req.Get("messages").Array() {
		if m.Get("role").String() == "tool" && m.Get("tool_call_id").String() == f.loop.CallID {
			out = append(out, textOf(m.Get("content")))
		}
	}
	return out
}

// events builds the stream: the recorded chunks with this turn's values, the usage chunk
// when the request asks for it, then [DONE].
func (f *chatFake) events(p *patcher, req gjson.Result, model, text string, call bool) []sseEvent {
	t := f.tpl
	chunks := []string{p.set(t.role, "model", model)}
	if call {
		chunks = append(chunks,
			p.set(t.toolStart, "model", model, "choices.0.delta.tool_calls.0.id", f.loop.CallID,
				"choices.0.delta.tool_calls.0.function.name", f.loop.Tool),
			p.set(t.toolArgs, "model", model, "choices.0.delta.tool_calls.0.function.arguments", f.loop.arguments()),
			p.set(t.toolStop, "model", model))
	} else {
		chunks = append(chunks,
			p.set(t.text, "model", model, "choices.0.delta.content", text),
			p.set(t.stop, "model", model))
	}
	if req.Get("stream_options.include_usage").Bool() {
		chunks = append(chunks, p.set(t.usage, "model", model))
	}
	out := make([]sseEvent, 0, len(chunks)+1)
	for _, c := range chunks {
		out = append(out, sseEvent{Data: c})
	}
	return append(out, sseEvent{Data: "[DONE]"})
}

func (f *chatFake) whole(p *patcher, model, text string, call bool) string {
	if call {
		return p.set(f.tpl.toolResponse, "model", model,
			"choices.0.message.tool_calls.0.id", f.loop.CallID,
			"choices.0.message.tool_calls.0.function.name", f.loop.Tool,
			"choices.0.message.tool_calls.0.function.arguments", f.loop.arguments())
	}
	return p.set(f.tpl.response, "model", model, "choices.0.message.content", text)
}

// toolResults returns the contents of the tool messages answering the loop's call that
// reached the fake.
func (f *chatFake) toolResults() []string { return f.received(f.results) }
