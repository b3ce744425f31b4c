package e2e

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// ollamaJSON is the content type of Ollama's JSON answers and errors (captured headers).
const ollamaJSON = "application/json; charset=utf-8"

// ollamaModels are the models the fake serves, with the capabilities /api/show reports for
// them: the two models of the captured Ollama 0.17.4 lab ("tiny" cannot think,
// "tiny-think" can, and neither is gpt-oss, so neither accepts a think level).
var ollamaModels = map[string][]string{
	"tiny":       {"completion", "tools"},
	"tiny-think": {"completion", "tools", "thinking"},
}

// ollamaFake is a native Ollama server (/api/chat, /api/show, /api/tags, /api/version)
// playing a toolLoop. It validates `think` as Ollama 0.17.4's chat handler does: a model
// without the thinking capability refuses any truthy think (400 `"tiny" does not support
// thinking`, captured as ollama-real/api_chat_think_unsupported), and a thinking model that
// is not gpt-oss refuses a level (400 `think value "high" is not supported for this model`,
// the message of ollama-real/v1_chat_reasoning_stream). A thinking model thinks unless
// told `think: false`. Answers are captured payloads with only values changed.
type ollamaFake struct {
	fake
	loop toolLoop
	tpl  ollamaTemplates
}

type ollamaTemplates struct {
	thinkChunk, toolChunk, textChunk, doneChunk string // /api/chat stream lines
	toolWhole, textWhole, thinkWhole            string // /api/chat stream:false bodies
	errBody, show, tags, version                string
}

func loadOllamaTemplates(t testing.TB) ollamaTemplates {
	think := lines(fixture(t, "ollama-real/api_chat_think_stream.body"))
	text := lines(fixture(t, "ollama-real/api_chat_toolresult_stream.body"))
	return ollamaTemplates{
		thinkChunk: pick(t, think, "thinking line", func(r gjson.Result) bool { return r.Get("message.thinking").String() != "" }),
		toolChunk:  lines(fixture(t, "ollama-real/api_chat_tools_stream.body"))[0],
		textChunk:  pick(t, text, "content line", func(r gjson.Result) bool { return r.Get("message.content").String() != "" }),
		doneChunk:  pick(t, text, "done line", func(r gjson.Result) bool { return r.Get("done").Bool() }),
		toolWhole:  string(fixture(t, "ollama-real/api_chat_tools_nostream.body")),
		textWhole:  string(fixture(t, "ollama-real/api_chat_nostream.body")),
		thinkWhole: string(fixture(t, "ollama-real/api_chat_think_nostream.body")),
		errBody:    string(fixture(t, "ollama-real/api_chat_think_unsupported.body")),
		show:       string(fixture(t, "ollama-real/api_show.body")),
		tags:       string(fixture(t, "ollama-real/api_tags.body")),
		version:    string(fixture(t, "ollama-real/api_version.body")),
	}
}

func newOllamaFake(t *testing.T, loop toolLoop) *ollamaFake {
	f := &ollamaFake{loop: loop, tpl: loadOllamaTemplates(t)}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/chat", f.chat)
	mux.HandleFunc("POST /api/show", f.showModel)
	mux.HandleFunc("GET /api/tags", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, ollamaJSON, f.tpl.tags) })
	mux.HandleFunc("GET /api/version", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, ollamaJSON, f.tpl.version) })
	f.start(t, mux)
	return f
}

// fail answers an Ollama error ({"error": msg}) with the captured envelope.
func (f *ollamaFake) fail(w http.ResponseWriter, status int, msg string) {
	var p patcher
	body := p.set(f.tpl.errBody, "error", msg)
	if p.err != nil {
		f.problem(w, p.err)
		return
	}
	writeJSON(w, status, ollamaJSON, body)
}

// thinking decides, as Ollama does, whether the model thinks, or why the request fails.
func (f *ollamaFake) thinking(req gjson.Result) (thinks bool, status int, msg string) {
	name := req.Get("model").String()
	caps := ollamaModels[strings.TrimSuffix(name, ":latest")]
	think := req.Get("think")
	on, level := false, false
	switch {
	case !think.Exists() || think.Type == gjson.Null:
		on = slices.Contains(caps, "thinking") // a thinking model thinks by default
	case think.IsBool():
		on = think.Bool()
	case think.Type == gjson.String && slices.Contains([]string{"high", "medium", "low"}, think.String()):
		on, level = true, true
	case think.Type == gjson.String:
		return false, 400, fmt.Sprintf("invalid think value: %q (must be \"high\", \"medium\", \"low\", true, or false)", think.String())
	default:
		return false, 400, "think must be a boolean or string (\"high\", \"medium\", \"low\", true, or false)"
	}
	if !slices.Contains(caps, "thinking") {
		if on {
			return false, 400, fmt.Sprintf("%q does not support thinking", name)
		}
		return false, 0, ""
	}
	if level { // only gpt-oss (harmony) models take a level; none is served here
		return false, 400, fmt.Sprintf("think value %q is not supported for this model", think.String())
	}
	return on, 0, ""
}

func (f *ollamaFake) chat(w http.ResponseWriter, r *http.Request) {
	req, ok := f.readJSON(w, r)
	if !ok {
		return
	}
	model := req.Get("model").String()
	if _, ok := ollamaModels[strings.TrimSuffix(model, ":latest")]; !ok {
		f.fail(w, http.StatusNotFound, fmt.Sprintf("model '%s' not found", model))
		return
	}
	thinks, status, msg := f.thinking(req)
	if status != 0 {
		f.fail(w, status, msg)
		return
	}
	text, call := f.answer(req)
	var p patcher
	var out []string
	if s := req.Get("stream"); s.Exists() && !s.Bool() {
		out = []string{f.whole(&p, model, text, call, thinks)}
	} else {
		out = f.stream(&p, model, text, call, thinks)
	}
	if p.err != nil {
		f.problem(w, p.err)
		return
	}
	if len(out) == 1 {
		writeJSON(w, http.StatusOK, ollamaJSON, out[0])
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	for _, line := range out {
		_, _ = io.WriteString(w, line+"\n")
		w.(http.Flusher).Flush()
	}
}

// answer decides the turn: the final text, a tool call, or a side answer.
func (f *ollamaFake) answer(req gjson.Result) (text string, call bool) {
	return f.loop.turn(
		some(req.Get("messages"), func(m gjson.Result) bool {
			return m.Get("role").String() == "tool" &&
				(m.Get("tool_call_id").String() == f.loop.CallID || m.Get("tool_name").String() == f.loop.Tool)
		}),
		some(req.Get("tools"), func(tool gjson.Result) bool { return tool.Get("function.name").String() == f.loop.Tool }))
}

func (f *ollamaFake) stream(p *patcher, model, text string, call, thinks bool) []string {
	var out []string
	if thinks {
		out = append(out, p.set(f.tpl.thinkChunk, "model", model, "message.thinking", "Thinking about the task."))
	}
	if call {
		out = append(out, p.set(f.tpl.toolChunk, "model", model,
			"message.tool_calls.0.id", f.loop.CallID,
			"message.tool_calls.0.function.name", f.loop.Tool,
			"message.tool_calls.0.function.arguments", map[string]string{f.loop.Arg: f.loop.Command}))
	} else {
		out = append(out, p.set(f.tpl.textChunk, "model", model, "message.content", text))
	}
	return append(out, p.set(f.tpl.doneChunk, "model", model))
}

// whole is a stream:false answer. No capture holds thinking and a tool call in one
// message, so a tool call comes without thinking.
func (f *ollamaFake) whole(p *patcher, model, text string, call, thinks bool) string {
	switch {
	case call:
		return p.set(f.tpl.toolWhole, "model", model,
			"message.tool_calls.0.id", f.loop.CallID,
			"message.tool_calls.0.function.name", f.loop.Tool,
			"message.tool_calls.0.function.arguments", map[string]string{f.loop.Arg: f.loop.Command})
	case thinks:
		return p.set(f.tpl.thinkWhole, "model", model, "message.content", text, "message.thinking", "Thinking about the task.")
	default:
		return p.set(f.tpl.textWhole, "model", model, "message.content", text)
	}
}

// showModel answers /api/show with the captured body and the model's capabilities.
func (f *ollamaFake) showModel(w http.ResponseWriter, r *http.Request) {
	req, ok := f.readJSON(w, r)
	if !ok {
		return
	}
	name := req.Get("model").String()
	if name == "" {
		name = req.Get("name").String() // the older spelling Ollama still accepts
	}
	caps, ok := ollamaModels[strings.TrimSuffix(name, ":latest")]
	if !ok {
		f.fail(w, http.StatusNotFound, fmt.Sprintf("model '%s' not found", name))
		return
	}
	var p patcher
	out := p.set(f.tpl.show, "capabilities", caps)
	if p.err != nil {
		f.problem(w, p.err)
		return
	}
	writeJSON(w, http.StatusOK, ollamaJSON, out)
}

// toolResults returns the contents of the tool messages that reached the fake.
func (f *ollamaFake) toolResults() []string {
	return f.received(func(req gjson.Result) []string {
		var out []string
		for _, m := range req.Get("messages").Array() {
			if m.Get("role").String() == "tool" {
				out = append(out, m.Get("content").String())
			}
		}
		return out
	})
}

// capturedStatus reads the status code of a captured Ollama exchange.
func capturedStatus(t *testing.T, name string) int {
	t.Helper()
	var code int
	if _, err := fmt.Sscanf(string(fixture(t, "ollama-real/"+name+".headers")), "HTTP/1.1 %d", &code); err != nil {
		t.Fatalf("%s.headers: %v", name, err)
	}
	return code
}

// TestOllamaFakeAnswersAsCapturedOllama replays captured requests to the fake native Ollama
// and compares its answers with what Ollama 0.17.4 answered, so that a client test against
// the fake fails for the reasons a real Ollama would give, and for no other.
func TestOllamaFakeAnswersAsCapturedOllama(t *testing.T) {
	loop, _ := bashLoop(t)
	f := newOllamaFake(t, loop)
	levelMsg := gjson.GetBytes(fixture(t, "ollama-real/v1_chat_reasoning_stream.body"), "error.message").String()
	for _, tc := range []struct {
		name, path, req string
		status          int
		body            string // the exact body, or "" to check the fields in check
		check           map[string]string
	}{
		{name: "think on a model without the capability", path: "/api/chat",
			req: string(fixture(t, "ollama-real/api_chat_think_unsupported.req.json")), status: capturedStatus(t, "api_chat_think_unsupported"),
			body: string(fixture(t, "ollama-real/api_chat_think_unsupported.body"))},
		{name: "think level on a thinking model that is not gpt-oss", path: "/api/chat",
			req:    `{"model":"tiny-think","think":"high","stream":true,"messages":[{"role":"user","content":"Hi there"}]}`,
			status: capturedStatus(t, "v1_chat_reasoning_stream"), body: `{"error":` + strconv.Quote(levelMsg) + `}`},
		{name: "unknown model", path: "/api/chat",
			req: string(fixture(t, "ollama-real/api_chat_unknown_model.req.json")), status: capturedStatus(t, "api_chat_unknown_model"),
			body: string(fixture(t, "ollama-real/api_chat_unknown_model.body"))},
		{name: "a thinking model thinks by default", path: "/api/chat",
			req: string(fixture(t, "ollama-real/api_chat_think_default.req.json")), status: capturedStatus(t, "api_chat_think_default"),
			check: map[string]string{"done": "true", "message.role": "assistant", "message.thinking": "Thinking about the task."}},
		{name: "think true on a thinking model", path: "/api/chat",
			req: string(fixture(t, "ollama-real/api_chat_think_nostream.req.json")), status: capturedStatus(t, "api_chat_think_nostream"),
			check: map[string]string{"done": "true", "message.thinking": "Thinking about the task."}},
		{name: "show reports the captured capabilities", path: "/api/show",
			req: string(fixture(t, "ollama-real/api_show.req.json")), status: capturedStatus(t, "api_show"),
			check: map[string]string{"capabilities": gjson.GetBytes(fixture(t, "ollama-real/api_show.body"), "capabilities").Raw}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.Post(f.URL+tc.path, "application/json", strings.NewReader(tc.req))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d (body %s)", resp.StatusCode, tc.status, got)
			}
			if tc.body != "" && strings.TrimSpace(string(got)) != strings.TrimSpace(tc.body) {
				t.Errorf("body %s, want the captured %s", got, tc.body)
			}
			for path, want := range tc.check {
				if v := gjson.GetBytes(got, path); v.Raw != want && v.String() != want {
					t.Errorf("%s = %s, want %s (body %s)", path, v.Raw, want, got)
				}
			}
		})
	}
}
