package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// toolLoop is the conversation a fake upstream plays with an agent: asked with Tool among
// the declared tools, it calls Tool with {Arg: Command} under CallID; given that call's
// result, it answers Final. A request without Tool (a client's side task) gets SideText.
type toolLoop struct {
	Tool    string
	Arg     string
	Command string
	CallID  string
	Final   string
}

// SideText answers requests that do not declare the loop's tool.
const SideText = "side answer from the fake upstream"

// arguments is the tool call's JSON arguments.
func (l toolLoop) arguments() string {
	b, _ := json.Marshal(map[string]string{l.Arg: l.Command})
	return string(b)
}

// textOf reads a message content that is a string or an array of text parts.
func textOf(content gjson.Result) string {
	if !content.IsArray() {
		return content.String()
	}
	var b strings.Builder
	for _, part := range content.Array() {
		b.WriteString(part.Get("text").String())
	}
	return b.String()
}

// chatFake is an OpenAI Chat Completions upstream playing a toolLoop, streaming or not. Its
// answers are recorded payloads (testdata/fixtures/openai-chat-*) with only values changed.
type chatFake struct {
	*httptest.Server
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
	f.Server = httptest.NewServer(f.rec.Wrap(http.HandlerFunc(f.serve)))
	t.Cleanup(f.Close)
	f.reportProblems(t)
	return f
}

func (f *chatFake) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
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
	chunks := f.chunks(&p, model, text, call, req.Get("stream_options.include_usage").Bool())
	if p.err != nil {
		f.problem(w, p.err)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	for _, chunk := range chunks {
		writeEvent(w, "", chunk)
	}
	writeEvent(w, "", "[DONE]")
}

// answer decides the turn: the final text, a tool call, or a side answer.
func (f *chatFake) answer(req gjson.Result) (text string, call bool) {
	for _, m := range req.Get("messages").Array() {
		if m.Get("role").String() == "tool" && m.Get("tool_call_id").String() == f.loop.CallID {
			return f.loop.Final, false
		}
	}
	for _, tool := range req.Get("tools").Array() {
		if tool.Get("function.name").String() == f.loop.Tool {
			return "", true
		}
	}
	return SideText, false
}

func (f *chatFake) chunks(p *patcher, model, text string, call, usage bool) []string {
	t := f.tpl
	out := []string{p.set(t.role, "model", model)}
	if call {
		out = append(out,
			p.set(t.toolStart, "model", model, "choices.0.delta.tool_calls.0.id", f.loop.CallID,
				"choices.0.delta.tool_calls.0.function.name", f.loop.Tool),
			p.set(t.toolArgs, "model", model, "choices.0.delta.tool_calls.0.function.arguments", f.loop.arguments()),
			p.set(t.toolStop, "model", model))
	} else {
		out = append(out,
			p.set(t.text, "model", model, "choices.0.delta.content", text),
			p.set(t.stop, "model", model))
	}
	if usage {
		out = append(out, p.set(t.usage, "model", model))
	}
	return out
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
func (f *chatFake) toolResults() []string {
	var out []string
	for _, ex := range f.rec.Exchanges() {
		for _, m := range gjson.GetBytes(ex.Body, "messages").Array() {
			if m.Get("role").String() == "tool" && m.Get("tool_call_id").String() == f.loop.CallID {
				out = append(out, textOf(m.Get("content")))
			}
		}
	}
	return out
}
