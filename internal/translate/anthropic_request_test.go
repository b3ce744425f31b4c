package translate

import (
	"encoding/hex"
	"errors"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tidwall/gjson"

	"github.com/llmrouter/llmrouter/internal/anthropic"
	"github.com/llmrouter/llmrouter/internal/openai"
	"github.com/llmrouter/llmrouter/internal/wire"
)

// anthropicClientPairs are the translated routes of an Anthropic client.
var anthropicClientPairs = []struct {
	name     string
	upstream wire.Protocol
}{{"openai", wire.OpenAIChat}, {"ollama", wire.OllamaChat}}

// thread cannot be kept by another upstream: the request is refused with the
// details the SDKs act on (issue 9 item 5); a null thread is no thread.
func TestThreadIsRefusedWithDetails(t *testing.T) {
	want := &RequestError{Param: "thread",
		Message: "thread (server-held conversation state) is not supported on this route: send the whole conversation without thread",
		Details: &anthropic.ErrorDetails{ErrorCode: "thread_unsupported_request", Unsupported: []string{"thread"}}}
	for _, p := range anthropicClientPairs {
		for _, thread := range []string{`{"type":"create"}`, `{"type":"continue","previous_message_id":"msg_1"}`} {
			t.Run(p.name+"/"+thread, func(t *testing.T) {
				_, err := New(wire.AnthropicMessages, p.upstream, Options{Model: "m"}).Request([]byte(
					`{"model":"m","max_tokens":64,"thread":` + thread + `,"messages":[{"role":"user","content":"Hi"}]}`))
				var re *RequestError
				if !errors.As(err, &re) {
					t.Fatalf("err = %v, want a *RequestError", err)
				}
				if diff := cmp.Diff(want, re); diff != "" {
					t.Errorf("error (-want +got):\n%s", diff)
				}
			})
		}
		t.Run(p.name+"/null", func(t *testing.T) {
			_, err := New(wire.AnthropicMessages, p.upstream, Options{Model: "m"}).Request([]byte(
				`{"model":"m","max_tokens":64,"thread":null,"messages":[{"role":"user","content":"Hi"}]}`))
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// claudeCode converts the captured Claude Code request for the route to
// upstream with opt, and returns the upstream body and Dropped.
func claudeCode(t *testing.T, upstream wire.Protocol, opt Options) (gjson.Result, []string) {
	t.Helper()
	tr := New(wire.AnthropicMessages, upstream, opt)
	out, err := tr.Request(readTestdata(t, "claude-code/messages-request-adaptive.json"))
	if err != nil {
		t.Fatal(err)
	}
	return gjson.ParseBytes(out), tr.Dropped()
}

// toolNames lists the function names of an OpenAI or Ollama tools array.
func toolNames(tools gjson.Result) []string {
	var names []string
	for _, tool := range tools.Array() {
		names = append(names, tool.Get("function.name").String())
	}
	return names
}

// Claude Code's request reaches every other upstream without its deferred tool
// (DeferredToolPlaceholder: loaded only by Anthropic's tool search, which no
// other upstream has), and with everything it cannot carry listed.
func TestClaudeCodeRequestOnOtherUpstreams(t *testing.T) {
	wantTools := []string{"Agent", "Bash", "Edit", "ListAgents", "Read", "ReportFindings", "ScheduleWakeup",
		"Skill", "ToolSearch", "Workflow", "Write"}
	for _, p := range anthropicClientPairs {
		t.Run(p.name, func(t *testing.T) {
			req, dropped := claudeCode(t, p.upstream, Options{Model: "qwen3:0.6b"})
			if diff := cmp.Diff(wantTools, toolNames(req.Get("tools"))); diff != "" {
				t.Errorf("tools (-want +got):\n%s", diff)
			}
			for _, path := range []string{"tools[10]", "thinking.display", "context_management", "output_config.effort"} {
				if p.upstream == wire.OpenAIChat && path == "thinking.display" {
					path = "thinking"
				}
				if !slices.Contains(dropped, path) {
					t.Errorf("Dropped lacks %s: %q", path, dropped)
				}
			}
		})
	}
}

// On native Ollama, Claude Code's adaptive thinking with effort high is think
// true for a model that takes no level (issue 9 item 1), a level for gpt-oss.
func TestClaudeCodeThinkingOnOllama(t *testing.T) {
	for model, want := range map[string]string{"qwen3:0.6b": "true", "tiny": "true", "gpt-oss:20b": `"high"`} {
		req, dropped := claudeCode(t, wire.OllamaChat, Options{Model: model})
		if got := req.Get("think").Raw; got != want {
			t.Errorf("%s: think = %s, want %s", model, got, want)
		}
		if effortDropped := slices.Contains(dropped, "output_config.effort"); effortDropped != (want == "true") {
			t.Errorf("%s: output_config.effort dropped = %v", model, effortDropped)
		}
		if n := req.Get("options.num_predict").Int(); n != 32000 {
			t.Errorf("%s: num_predict = %d, want Claude Code's max_tokens 32000", model, n)
		}
	}
}

// Towards OpenAI, Claude Code's metadata.user_id (a JSON object of ids, longer
// than OpenAI wants a user id) is sent as its SHA-256; a short id unchanged.
func TestUserIDToOpenAIUser(t *testing.T) {
	req, _ := claudeCode(t, wire.OpenAIChat, Options{Model: "m", MaxTokensField: openai.MaxTokens})
	user := req.Get("user").String()
	if b, err := hex.DecodeString(user); err != nil || len(b) != 32 {
		t.Errorf("user = %q, want a SHA-256 in hex", user)
	}
	if again, _ := claudeCode(t, wire.OpenAIChat, Options{Model: "m"}); again.Get("user").String() != user {
		t.Errorf("the same user_id gave another user")
	}
	if n := req.Get("max_tokens").Int(); n != 32000 || req.Get("max_completion_tokens").Exists() {
		t.Errorf("max_tokens = %d, max_completion_tokens %s; want max_tokens 32000 only", n, req.Get("max_completion_tokens").Raw)
	}
	out, err := New(wire.AnthropicMessages, wire.OpenAIChat, Options{}).Request([]byte(
		`{"model":"m","max_tokens":8,"metadata":{"user_id":"user-42"},"messages":[{"role":"user","content":"Hi"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := gjson.GetBytes(out, "user").String(); got != "user-42" {
		t.Errorf("user = %q, want the short id unchanged", got)
	}
}

// output_config.format becomes a json_schema response_format (issue 9 item 9).
func TestOutputFormatToResponseFormat(t *testing.T) {
	tr := New(wire.AnthropicMessages, wire.OpenAIChat, Options{Model: "gpt-x"})
	out, err := tr.Request([]byte(`{"model":"m","max_tokens":8,"messages":[{"role":"user","content":"Hi"}],
		"output_config":{"effort":"low","format":{"type":"json_schema","schema":{"type":"object","properties":{"a":{"type":"string"}}}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"type":"json_schema","json_schema":{"name":"response","schema":{"type":"object","properties":{"a":{"type":"string"}}}}}`
	if diff := cmp.Diff(decodeJSON(t, []byte(want)), decodeJSON(t, []byte(gjson.GetBytes(out, "response_format").Raw))); diff != "" {
		t.Errorf("response_format (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"output_config.effort"}, tr.Dropped()); diff != "" {
		t.Errorf("Dropped (-want +got):\n%s", diff)
	}
	for _, p := range anthropicClientPairs {
		_, err := New(wire.AnthropicMessages, p.upstream, Options{Model: "m"}).Request([]byte(
			`{"model":"m","max_tokens":8,"messages":[],"output_config":{"format":{"type":"json_object"}}}`))
		if param := requestErrorParam(t, err); param != "output_config.format" {
			t.Errorf("%s: param %q, want output_config.format", p.name, param)
		}
	}
}

// A reasoning effort keeps its level only for gpt-oss, the one Ollama model
// family that takes levels; others get think true.
func TestReasoningEffortLevelsOnlyForGptOss(t *testing.T) {
	for _, tt := range []struct{ model, effort, want string }{
		{"gpt-oss:20b", "minimal", `"low"`}, {"gpt-oss:120b", "xhigh", `"max"`}, {"gpt-oss:20b", "none", "false"},
		{"qwen3", "high", "true"}, {"qwen3", "none", "false"},
	} {
		out, err := New(wire.OpenAIChat, wire.OllamaChat, Options{Model: tt.model}).Request([]byte(
			`{"model":"m","reasoning_effort":"` + tt.effort + `","messages":[]}`))
		if err != nil {
			t.Fatal(err)
		}
		if got := gjson.GetBytes(out, "think").Raw; got != tt.want {
			t.Errorf("%s %s: think = %s, want %s", tt.model, tt.effort, got, tt.want)
		}
	}
}
