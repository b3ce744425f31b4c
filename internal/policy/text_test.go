package policy

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/llmrouter/llmrouter/internal/anthropic"
	"github.com/llmrouter/llmrouter/internal/config"
	"github.com/llmrouter/llmrouter/internal/ollama"
	"github.com/llmrouter/llmrouter/internal/openai"
)

// bodyTest is one Body call: rules, a body in protocol proto, and the exact
// bytes expected back.
type bodyTest struct {
	name  string
	rules []config.Transform
	proto Dialect
	in    string
	want  string
}

func runBodyTests(t *testing.T, tests []bodyTest) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustCompile(t, tt.rules...)
			proto := tt.proto
			if proto == nil {
				proto = openai.Chat
			}
			in := []byte(tt.in)
			got, err := p.Body(in, proto)
			if err != nil {
				t.Fatalf("Body: %v", err)
			}
			if diff := cmp.Diff(tt.want, string(got)); diff != "" {
				t.Errorf("Body (-want +got):\n%s", diff)
			}
			if string(in) != tt.in {
				t.Errorf("Body modified its input: %s", in)
			}
		})
	}
}

func mustCompile(t testing.TB, rules ...config.Transform) *Policy {
	t.Helper()
	for i := range rules {
		if rules[i].Line == 0 {
			rules[i].Line = 10 + i
		}
	}
	p, err := Compile(config.Headers{}, rules)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return p
}

func re(pattern, replace string, roles ...string) config.Transform {
	return config.Transform{Regex: pattern, Replace: replace, Roles: roles}
}

func TestRegexOpenAIChat(t *testing.T) {
	runBodyTests(t, []bodyTest{
		{
			name:  "string content of every role",
			rules: []config.Transform{re("acme", "ACME")},
			in:    `{"messages":[{"role":"system","content":"acme"},{"role":"developer","content":"acme"},{"role":"user","content":"acme acme"},{"role":"assistant","content":"acme"},{"role":"tool","tool_call_id":"acme","content":"acme"}]}`,
			want:  `{"messages":[{"role":"system","content":"ACME"},{"role":"developer","content":"ACME"},{"role":"user","content":"ACME ACME"},{"role":"assistant","content":"ACME"},{"role":"tool","tool_call_id":"acme","content":"ACME"}]}`,
		},
		{
			name:  "text parts; image_url and names untouched",
			rules: []config.Transform{re("acme", "ACME")},
			in:    `{"messages":[{"role":"user","name":"acme","content":[{"type":"text","text":"acme one"},{"type":"image_url","image_url":{"url":"https://acme.example/acme.png"}},{"type":"text","text":"acme two"}]}]}`,
			want:  `{"messages":[{"role":"user","name":"acme","content":[{"type":"text","text":"ACME one"},{"type":"image_url","image_url":{"url":"https://acme.example/acme.png"}},{"type":"text","text":"ACME two"}]}]}`,
		},
		{
			name:  "tool_calls ids and arguments untouched, null content skipped",
			rules: []config.Transform{re("acme", "ACME")},
			in:    `{"messages":[{"role":"assistant","content":null,"tool_calls":[{"id":"call_acme","type":"function","function":{"name":"acme","arguments":"{\"q\":\"acme\"}"}}]},{"role":"tool","tool_call_id":"call_acme","content":"acme says hi"}]}`,
			want:  `{"messages":[{"role":"assistant","content":null,"tool_calls":[{"id":"call_acme","type":"function","function":{"name":"acme","arguments":"{\"q\":\"acme\"}"}}]},{"role":"tool","tool_call_id":"call_acme","content":"ACME says hi"}]}`,
		},
		{
			name:  "roles filter",
			rules: []config.Transform{re("acme", "ACME", "user", "system")},
			in:    `{"messages":[{"role":"system","content":"acme"},{"role":"developer","content":"acme"},{"role":"user","content":"acme"},{"role":"assistant","content":"acme"}]}`,
			want:  `{"messages":[{"role":"system","content":"ACME"},{"role":"developer","content":"acme"},{"role":"user","content":"ACME"},{"role":"assistant","content":"acme"}]}`,
		},
		{
			name:  "a message without a role only matches rules without roles",
			rules: []config.Transform{re("a", "1", "user"), re("b", "2")},
			in:    `{"messages":[{"content":"ab"}]}`,
			want:  `{"messages":[{"content":"a2"}]}`,
		},
		{
			name:  "group references $1 and ${1}",
			rules: []config.Transform{re(`(\w+)@(\w+)\.com`, "${1}_at_$2")},
			in:    `{"messages":[{"role":"user","content":"mail bob@acme.com now"}]}`,
			want:  `{"messages":[{"role":"user","content":"mail bob_at_acme now"}]}`,
		},
		{
			name:  "flag i",
			rules: []config.Transform{{Regex: "acme corp", Replace: "ACME", Flags: "i"}},
			in:    `{"messages":[{"role":"user","content":"Acme Corp and ACME CORP"}]}`,
			want:  `{"messages":[{"role":"user","content":"ACME and ACME"}]}`,
		},
		{
			name:  "flag m anchors at every line",
			rules: []config.Transform{{Regex: "^", Replace: "> ", Flags: "m"}},
			in:    `{"messages":[{"role":"user","content":"one\ntwo"}]}`,
			want:  `{"messages":[{"role":"user","content":"> one\n> two"}]}`,
		},
		{
			name:  "flag s lets dot match a newline",
			rules: []config.Transform{{Regex: "<x>.*</x>", Replace: "[redacted]", Flags: "s"}},
			in:    `{"messages":[{"role":"user","content":"a <x>1\n2</x> b"}]}`,
			want:  `{"messages":[{"role":"user","content":"a [redacted] b"}]}`,
		},
		{
			name:  "flag U makes repetition lazy",
			rules: []config.Transform{{Regex: "<.+>", Replace: "T", Flags: "U"}},
			in:    `{"messages":[{"role":"user","content":"<a>b<c>"}]}`,
			want:  `{"messages":[{"role":"user","content":"TbT"}]}`,
		},
		{
			name:  "escaped text is matched unescaped and re-escaped",
			rules: []config.Transform{re(`"quoted"`, "<q>\t&")},
			in:    `{"messages":[{"role":"user","content":"say \"quoted\" \u00e9\n"}]}`,
			want:  `{"messages":[{"role":"user","content":"say <q>\t& é\n"}]}`,
		},
		{
			name:  "other fields of the body untouched",
			rules: []config.Transform{re("acme", "ACME")},
			in:    `{"model":"acme","user":"acme","metadata":{"acme":"acme"},"messages":[{"role":"user","content":"acme"}]}`,
			want:  `{"model":"acme","user":"acme","metadata":{"acme":"acme"},"messages":[{"role":"user","content":"ACME"}]}`,
		},
	})
}

func TestRegexAnthropic(t *testing.T) {
	rules := []config.Transform{re("acme", "ACME")}
	runBodyTests(t, []bodyTest{
		{
			name:  "system string",
			rules: rules, proto: anthropic.Messages,
			in:   `{"system":"acme","messages":[]}`,
			want: `{"system":"ACME","messages":[]}`,
		},
		{
			name:  "system blocks, cache_control untouched",
			rules: rules, proto: anthropic.Messages,
			in:   `{"system":[{"type":"text","text":"acme","cache_control":{"type":"ephemeral"}},{"type":"text","text":"more acme"}]}`,
			want: `{"system":[{"type":"text","text":"ACME","cache_control":{"type":"ephemeral"}},{"type":"text","text":"more ACME"}]}`,
		},
		{
			name:  "roles [system] matches the top-level system only",
			rules: []config.Transform{re("acme", "ACME", "system")}, proto: anthropic.Messages,
			in:   `{"messages":[{"role":"user","content":"acme"}],"system":"acme"}`,
			want: `{"messages":[{"role":"user","content":"acme"}],"system":"ACME"}`,
		},
		{
			name:  "string content and text blocks",
			rules: rules, proto: anthropic.Messages,
			in:   `{"messages":[{"role":"user","content":"acme"},{"role":"assistant","content":[{"type":"text","text":"acme"}]}]}`,
			want: `{"messages":[{"role":"user","content":"ACME"},{"role":"assistant","content":[{"type":"text","text":"ACME"}]}]}`,
		},
		{
			name:  "thinking, tool_use, image and document blocks untouched",
			rules: rules, proto: anthropic.Messages,
			in:   `{"messages":[{"role":"assistant","content":[{"type":"thinking","thinking":"acme","signature":"acme=="},{"type":"redacted_thinking","data":"acme"},{"type":"tool_use","id":"toolu_acme","name":"acme","input":{"q":"acme"}},{"type":"text","text":"acme"}]},{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"acme"}},{"type":"document","source":{"type":"text","data":"acme"}}]}]}`,
			want: `{"messages":[{"role":"assistant","content":[{"type":"thinking","thinking":"acme","signature":"acme=="},{"type":"redacted_thinking","data":"acme"},{"type":"tool_use","id":"toolu_acme","name":"acme","input":{"q":"acme"}},{"type":"text","text":"ACME"}]},{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"acme"}},{"type":"document","source":{"type":"text","data":"acme"}}]}]}`,
		},
		{
			name:  "tool_result string and text blocks; ids and images untouched",
			rules: rules, proto: anthropic.Messages,
			in:   `{"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_acme","content":"acme"},{"type":"tool_result","tool_use_id":"toolu_acme2","content":[{"type":"text","text":"acme"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"acme"}}]}]}]}`,
			want: `{"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_acme","content":"ACME"},{"type":"tool_result","tool_use_id":"toolu_acme2","content":[{"type":"text","text":"ACME"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"acme"}}]}]}]}`,
		},
		{
			name:  "roles [tool] matches tool_result text only",
			rules: []config.Transform{re("acme", "ACME", "tool")}, proto: anthropic.Messages,
			in:   `{"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":"acme"},{"type":"text","text":"acme"}]}]}`,
			want: `{"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":"ACME"},{"type":"text","text":"acme"}]}]}`,
		},
		{
			name:  "roles [user] matches tool_result text too",
			rules: []config.Transform{re("acme", "ACME", "user")}, proto: anthropic.Messages,
			in:   `{"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":[{"type":"text","text":"acme"}]}]},{"role":"assistant","content":"acme"}]}`,
			want: `{"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":[{"type":"text","text":"ACME"}]}]},{"role":"assistant","content":"acme"}]}`,
		},
		{
			name:  "OpenAI chat has no tool_result blocks",
			rules: rules, proto: openai.Chat,
			in:   `{"messages":[{"role":"user","content":[{"type":"tool_result","content":"acme"}]}],"system":"acme"}`,
			want: `{"messages":[{"role":"user","content":[{"type":"tool_result","content":"acme"}]}],"system":"acme"}`,
		},
	})
}

func TestRegexOllamaAndCompletions(t *testing.T) {
	rules := []config.Transform{re("acme", "ACME")}
	runBodyTests(t, []bodyTest{
		{
			name:  "ollama chat content; images and tool_calls untouched",
			rules: rules, proto: ollama.Chat,
			in:   `{"messages":[{"role":"system","content":"acme"},{"role":"user","content":"acme","images":["acme"]},{"role":"assistant","content":"","tool_calls":[{"function":{"name":"acme","arguments":{"q":"acme"}}}]},{"role":"tool","tool_name":"acme","content":"acme"}]}`,
			want: `{"messages":[{"role":"system","content":"ACME"},{"role":"user","content":"ACME","images":["acme"]},{"role":"assistant","content":"","tool_calls":[{"function":{"name":"acme","arguments":{"q":"acme"}}}]},{"role":"tool","tool_name":"acme","content":"ACME"}]}`,
		},
		{
			name:  "ollama chat ignores content arrays",
			rules: rules, proto: ollama.Chat,
			in:   `{"messages":[{"role":"user","content":[{"type":"text","text":"acme"}]}]}`,
			want: `{"messages":[{"role":"user","content":[{"type":"text","text":"acme"}]}]}`,
		},
		{
			name:  "completions prompt string",
			rules: rules, proto: openai.Completions,
			in:   `{"prompt":"acme","suffix":"acme"}`,
			want: `{"prompt":"ACME","suffix":"acme"}`,
		},
		{
			name:  "completions prompt array of strings; token arrays untouched",
			rules: rules, proto: openai.Completions,
			in:   `{"prompt":["acme",[1,2],"an acme"]}`,
			want: `{"prompt":["ACME",[1,2],"an ACME"]}`,
		},
		{
			name:  "completions prompt counts as role user",
			rules: []config.Transform{re("acme", "ACME", "user")}, proto: openai.Completions,
			in:   `{"prompt":"acme"}`,
			want: `{"prompt":"ACME"}`,
		},
		{
			name:  "completions prompt skipped by roles without user",
			rules: []config.Transform{re("acme", "ACME", "system")}, proto: openai.Completions,
			in:   `{"prompt":"acme"}`,
			want: `{"prompt":"acme"}`,
		},
		{
			name:  "ollama generate prompt and system",
			rules: rules, proto: ollama.Generate,
			in:   `{"prompt":"acme","system":"acme","images":["acme"]}`,
			want: `{"prompt":"ACME","system":"ACME","images":["acme"]}`,
		},
		{
			name:  "ollama generate roles [system]",
			rules: []config.Transform{re("acme", "ACME", "system")}, proto: ollama.Generate,
			in:   `{"prompt":"acme","system":"acme"}`,
			want: `{"prompt":"acme","system":"ACME"}`,
		},
	})
}

func TestRegexWithoutProtocol(t *testing.T) {
	p := mustCompile(t, re("a", "b"))
	_, err := p.Body([]byte(`{}`), nil)
	if err == nil || errors.Is(err, ErrInvalidBody) {
		t.Errorf("Body with no protocol: err = %v, want an internal error", err)
	}
}
