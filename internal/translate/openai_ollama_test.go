package translate

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tidwall/gjson"

	"github.com/llmrouter/llmrouter/internal/wire"
)

func TestOllamaRegistered(t *testing.T) {
	tests := []struct {
		name             string
		client, upstream wire.Protocol
		want             string
	}{
		{"openai chat", wire.OpenAIChat, wire.OllamaChat, "*translate.openAIToOllama"},
		{"anthropic", wire.AnthropicMessages, wire.OllamaChat, "*translate.anthropicToOllama"},
		{"completions", wire.OpenAICompletions, wire.OllamaGenerate, "*translate.completionsToOllama"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := New(tt.client, tt.upstream, Options{Model: "tiny"})
			if diff := cmp.Diff(tt.want, fmt.Sprintf("%T", got)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestOllamaOpenAIRequestGolden(t *testing.T) { goldenRequests(t, goldenSets["openai_ollama"]) }

// ollJSONEqual compares two JSON texts semantically.
func ollJSONEqual(t *testing.T, want string, got []byte) {
	t.Helper()
	var w, g any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want JSON: %v", err)
	}
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, got)
	}
	if diff := cmp.Diff(w, g); diff != "" {
		t.Errorf("body mismatch (-want +got):\n%s", diff)
	}
}

// ollRequestCase is one table case for Request: want is the whole Ollama body
// (compared semantically), or wantParam names the RequestError's field.
type ollRequestCase struct {
	name        string
	in          string
	want        string
	wantDropped []string
	wantParam   string
	wantMsg     string // substring of the RequestError message
}

func ollRunRequestCases(t *testing.T, pair string, tests []ollRequestCase) {
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := ollNew(pair)
			out, err := tr.Request([]byte(tt.in))
			if tt.wantParam != "" || tt.wantMsg != "" {
				var re *RequestError
				if !errors.As(err, &re) {
					t.Fatalf("error = %v, want *RequestError", err)
				}
				if diff := cmp.Diff(tt.wantParam, re.Param); diff != "" {
					t.Errorf("param (-want +got):\n%s", diff)
				}
				if !strings.Contains(re.Message, tt.wantMsg) {
					t.Errorf("message %q does not contain %q", re.Message, tt.wantMsg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			ollCheckDocumentedFields(t, out)
			ollJSONEqual(t, tt.want, out)
			if diff := cmp.Diff(tt.wantDropped, tr.Dropped()); diff != "" {
				t.Errorf("dropped (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOllamaOpenAIRequest(t *testing.T) {
	ollRunRequestCases(t, "openai_ollama", []ollRequestCase{{
		name: "sampling options and explicit stream false",
		in: `{"model":"gpt","messages":[{"role":"user","content":"Hi"}],"temperature":0.5,"top_p":0.9,"seed":7,
			"stop":"END","frequency_penalty":0.1,"presence_penalty":0.2,"max_tokens":10,"n":1}`,
		want: `{"model":"tiny","messages":[{"role":"user","content":"Hi"}],"options":{"num_predict":10,"temperature":0.5,
			"top_p":0.9,"seed":7,"stop":["END"],"frequency_penalty":0.1,"presence_penalty":0.2},"stream":false}`,
	}, {
		name: "max_completion_tokens wins over max_tokens",
		in:   `{"messages":[],"max_completion_tokens":5,"max_tokens":9,"stream":true,"stop":["a","b"]}`,
		want: `{"model":"tiny","messages":[],"options":{"num_predict":5,"stop":["a","b"]},"stream":true}`,
	}, {
		name: "system and developer anywhere, text parts joined",
		in: `{"messages":[{"role":"developer","content":"Be brief."},{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},
			{"role":"system","content":[{"type":"text","text":"late"}]}]}`,
		want: `{"model":"tiny","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"a\nb"},
			{"role":"system","content":"late"}],"stream":false}`,
	}, {
		name: "reasoning effort levels are think true for a model that takes no level",
		in:   `{"messages":[],"reasoning_effort":"minimal"}`,
		want: `{"model":"tiny","messages":[],"think":true,"stream":false}`,
	}, {
		name: "reasoning effort none is think false",
		in:   `{"messages":[],"reasoning_effort":"none"}`,
		want: `{"model":"tiny","messages":[],"think":false,"stream":false}`,
	}, {
		name: "reasoning effort xhigh",
		in:   `{"messages":[],"reasoning_effort":"xhigh"}`,
		want: `{"model":"tiny","messages":[],"think":true,"stream":false}`,
	}, {
		name: "json_object format",
		in:   `{"messages":[],"response_format":{"type":"json_object"}}`,
		want: `{"model":"tiny","messages":[],"format":"json","stream":false}`,
	}, {
		name: "json_schema format",
		in:   `{"messages":[],"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"object"}}}}`,
		want: `{"model":"tiny","messages":[],"format":{"type":"object"},"stream":false}`,
	}, {
		name: "logprobs pass",
		in:   `{"messages":[],"logprobs":true,"top_logprobs":3}`,
		want: `{"model":"tiny","messages":[],"logprobs":true,"top_logprobs":3,"stream":false}`,
	}, {
		name: "fields without equivalent are dropped and recorded",
		in: `{"messages":[{"role":"user","name":"bob","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA","detail":"low"}}]}],
			"logit_bias":{"1":2},"user":"u","metadata":{"a":"b"},"service_tier":"auto","store":true,"parallel_tool_calls":false,
			"stream":true,"stream_options":{"include_usage":true,"include_obfuscation":false},"tool_choice":"required",
			"tools":[{"type":"function","function":{"name":"f","strict":true,"parameters":{"type":"object"}}},{"type":"custom","custom":{"name":"g"}}],
			"prompt_cache_key":"k","user_ignored_null":null}`,
		want: `{"model":"tiny","messages":[{"role":"user","content":"","images":["AAAA"]}],
			"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}],"stream":true}`,
		wantDropped: []string{"messages[0].content[0].image_url.detail", "messages[0].name", "logit_bias", "user", "metadata",
			"service_tier", "store", "parallel_tool_calls", "stream_options.include_obfuscation", "tool_choice",
			"tools[0].function.strict", "tools[1]", "prompt_cache_key"},
	}, {
		name: "tool_choice none sends no tools",
		in:   `{"messages":[],"tool_choice":"none","tools":[{"type":"function","function":{"name":"f"}}]}`,
		want: `{"model":"tiny","messages":[],"stream":false}`,
	}, {
		name: "assistant history: reasoning_content back to thinking, arguments parsed, tool name resolved",
		in: `{"messages":[{"role":"assistant","content":null,"reasoning_content":"hmm","tool_calls":[
			{"id":"c1","type":"function","function":{"name":"get_weather","arguments":"{\"city\": \"Paris\"}"}},
			{"id":"c2","type":"function","function":{"name":"noargs","arguments":""}}]},
			{"role":"tool","tool_call_id":"c2","content":[{"type":"text","text":"ok"}]},
			{"role":"tool","tool_call_id":"c1","content":"sunny"},
			{"role":"tool","tool_call_id":"unknown","content":"?"}]}`,
		want: `{"model":"tiny","messages":[{"role":"assistant","content":"","thinking":"hmm","tool_calls":[
			{"id":"c1","function":{"index":0,"name":"get_weather","arguments":{"city":"Paris"}}},
			{"id":"c2","function":{"index":1,"name":"noargs","arguments":{}}}]},
			{"role":"tool","content":"ok","tool_name":"noargs","tool_call_id":"c2"},
			{"role":"tool","content":"sunny","tool_name":"get_weather","tool_call_id":"c1"},
			{"role":"tool","content":"?","tool_call_id":"unknown"}],"stream":false}`,
	}, {
		name: "assistant history: reasoning, the other name, back to thinking",
		in:   `{"messages":[{"role":"assistant","content":"Hello","reasoning":"Let me think"}]}`,
		want: `{"model":"tiny","messages":[{"role":"assistant","content":"Hello","thinking":"Let me think"}],"stream":false}`,
	}, {
		name: "deprecated function message becomes a tool message",
		in:   `{"messages":[{"role":"function","name":"f","content":"42"}]}`,
		want: `{"model":"tiny","messages":[{"role":"tool","content":"42","tool_name":"f"}],"stream":false}`,
	}, {
		name:      "image URL is rejected",
		in:        `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://x/y.png"}}]}]}`,
		wantParam: "messages[0].content[0].image_url.url",
		wantMsg:   "image URLs are not supported by ollama upstreams; send base64 data",
	}, {
		name:      "n above 1",
		in:        `{"messages":[],"n":2}`,
		wantParam: "n",
	}, {
		name:      "arguments that are not an object",
		in:        `{"messages":[{"role":"assistant","tool_calls":[{"id":"a","type":"function","function":{"name":"f","arguments":"[1"}}]}]}`,
		wantParam: "messages[0].tool_calls[0].function.arguments",
	}, {
		name:      "audio input",
		in:        `{"messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"x","format":"wav"}}]}]}`,
		wantParam: "messages[0].content[0].type",
	}, {
		name:      "unknown role",
		in:        `{"messages":[{"role":"robot","content":"x"}]}`,
		wantParam: "messages[0].role",
	}, {
		name:      "unknown reasoning effort",
		in:        `{"messages":[],"reasoning_effort":"extreme"}`,
		wantParam: "reasoning_effort",
	}, {
		name:      "temperature not a number",
		in:        `{"messages":[],"temperature":"hot"}`,
		wantParam: "temperature",
	}, {
		name:    "not JSON",
		in:      `{"messages":`,
		wantMsg: "not valid JSON",
	}})
}

// ollResponseBodies are the non-streaming bodies under test, by upstream API.
func TestOllamaOpenAIResponseGolden(t *testing.T) { goldenResponses(t, goldenSets["openai_ollama"]) }

func TestOllamaOpenAIResponseFacts(t *testing.T) {
	out, err := ollNew("openai_ollama").Response(readTestdata(t, "ollama-real/api_chat_tools_nostream.body"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]any{
		"arguments":     gjson.GetBytes(out, "choices.0.message.tool_calls.0.function.arguments").Value(),
		"id":            gjson.GetBytes(out, "choices.0.message.tool_calls.0.id").String(),
		"content":       gjson.GetBytes(out, "choices.0.message.content").Raw,
		"finish_reason": gjson.GetBytes(out, "choices.0.finish_reason").String(),
		"usage":         gjson.GetBytes(out, "usage").Raw,
		"created":       gjson.GetBytes(out, "created").Int(),
	}
	want := map[string]any{
		"arguments":     `{"city":"Paris"}`, // a JSON string, not an object
		"id":            "call_ehdreejx",
		"content":       "null",
		"finish_reason": "tool_calls", // although done_reason is "stop"
		"usage":         `{"prompt_tokens":534,"completion_tokens":10,"total_tokens":544}`,
		"created":       int64(1795753921), // 2026-11-27T04:32:01Z
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestOllamaOpenAIResponseEdges(t *testing.T) {
	tests := []struct {
		name, body string
		want       map[string]string // gjson path → raw JSON
		wantSE     string
	}{{
		name: "logprobs keep OpenAI's token-logprob shape",
		body: `{"model":"m","message":{"role":"assistant","content":"Hi"},"done":true,"done_reason":"stop",
			"logprobs":[{"token":"Hi","logprob":-0.1,"top_logprobs":[{"token":"Hi","logprob":-0.1}]}]}`,
		want: map[string]string{
			// OpenAI requires bytes (null allowed) in both levels.
			"choices.0.logprobs": `{"content":[{"token":"Hi","logprob":-0.1,"top_logprobs":[{"token":"Hi","logprob":-0.1,"bytes":null}],"bytes":null}]}`,
		},
	}, {
		name: "missing done_reason in a whole body is stop, missing counts are 0, missing id generated",
		body: `{"model":"m","message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"f"}}]},"done":true}`,
		want: map[string]string{
			"choices.0.finish_reason":      `"tool_calls"`,
			"choices.0.message.tool_calls": `[{"id":"call_test1","type":"function","function":{"name":"f","arguments":"{}"}}]`,
			"usage":                        `{"prompt_tokens":0,"completion_tokens":0,"total_tokens":0}`,
			"created":                      `1700000000`,
		},
	}, {
		name:   "an error body is a StreamError",
		body:   `{"error":"model 'nope' not found"}`,
		wantSE: "model 'nope' not found",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := ollNew("openai_ollama").Response([]byte(tt.body))
			if tt.wantSE != "" {
				ollCheckErr(t, err, nil, tt.wantSE)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for k := range tt.want {
				got[k] = gjson.GetBytes(out, k).Raw
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestOllamaOpenAIStreamFacts(t *testing.T) {
	tests := []struct {
		name   string
		file   string
		usage  bool
		checks func(t *testing.T, chunks []gjson.Result)
	}{{
		name: "tool call chunk carries the whole arguments string and finish is tool_calls",
		file: "ollama-real/api_chat_tools_stream.body",
		checks: func(t *testing.T, chunks []gjson.Result) {
			got := []string{
				chunks[1].Get("choices.0.delta.tool_calls.0.function.arguments").String(),
				chunks[1].Get("choices.0.delta.tool_calls.0.index").Raw,
				chunks[len(chunks)-1].Get("choices.0.finish_reason").String(),
			}
			if diff := cmp.Diff([]string{`{"city":"Paris"}`, "0", "tool_calls"}, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		},
	}, {
		name: "without include_usage no chunk has a usage key",
		file: "ollama-real/api_chat_stream.body",
		checks: func(t *testing.T, chunks []gjson.Result) {
			for i, c := range chunks {
				if c.Get("usage").Exists() {
					t.Errorf("chunk %d has usage: %s", i, c.Raw)
				}
			}
		},
	}, {
		name:  "with include_usage the last chunk has empty choices and Ollama's counts",
		file:  "ollama-real/api_chat_stream.body",
		usage: true,
		checks: func(t *testing.T, chunks []gjson.Result) {
			last := chunks[len(chunks)-1]
			got := []string{last.Get("choices").Raw, last.Get("usage").Raw, chunks[0].Get("usage").Raw}
			want := []string{"[]", `{"prompt_tokens":29,"completion_tokens":10,"total_tokens":39}`, "null"}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		},
	}, {
		name: "thinking becomes reasoning_content before content",
		file: "ollama-real/api_chat_think_stream.body",
		checks: func(t *testing.T, chunks []gjson.Result) {
			got := []string{chunks[1].Get("choices.0.delta.reasoning_content").String(), chunks[7].Get("choices.0.delta.content").String()}
			if diff := cmp.Diff([]string{"Let", "Hello"}, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := ollStreamOf(t, "openai_ollama", tt.usage, readTestdata(t, tt.file), nil)
			evs := ollEvents(t, out)
			if evs[len(evs)-1][1] != "[DONE]" {
				t.Fatalf("last event %q, want [DONE]", evs[len(evs)-1][1])
			}
			var chunks []gjson.Result
			first := gjson.GetBytes(readTestdata(t, tt.file), "@this")
			created := ollFirstCreated(t, tt.file)
			for _, ev := range evs[:len(evs)-1] {
				c := gjson.Parse(ev[1])
				if c.Get("id").String() != "chatcmpl-test1" || c.Get("created").Int() != created ||
					c.Get("model").String() != first.Get("model").String() {
					t.Errorf("chunk does not share id/created/model: %s", ev[1])
				}
				chunks = append(chunks, c)
			}
			tt.checks(t, chunks)
		})
	}
}

// ollFirstCreated is the Unix time of the first NDJSON line's created_at.
func ollFirstCreated(t *testing.T, file string) int64 {
	t.Helper()
	line, _, _ := strings.Cut(string(readTestdata(t, file)), "\n")
	ts, err := time.Parse(time.RFC3339Nano, gjson.Get(line, "created_at").String())
	if err != nil {
		t.Fatal(err)
	}
	return ts.Unix()
}

// TestOllamaReproducesRealRequests converts client requests into the bodies of the
// real Ollama exchanges under testdata/ollama-real: every field of the real request
// must be present with the same value (the translator may add documented fields
// such as tool call ids, "stream", or the legacy default num_predict).
func TestOllamaReproducesRealRequests(t *testing.T) {
	weather := `{"name":"get_weather","description":"Get the current weather for a city","parameters":{"type":"object","properties":{"city":{"type":"string","description":"City name"}},"required":["city"]}}`
	antWeather := `{"name":"get_weather","description":"Get the current weather for a city","input_schema":{"type":"object","properties":{"city":{"type":"string","description":"City name"}},"required":["city"]}}`
	tests := []struct {
		name, pair, in, real string
	}{
		{"chat stream", "openai_ollama", `{"model":"m","stream":true,"messages":[{"role":"user","content":"Hi there"}]}`, "api_chat_stream"},
		{"chat nostream", "openai_ollama", `{"model":"m","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi there"}]}`, "api_chat_nostream"},
		{"chat tools", "openai_ollama", `{"model":"m","stream":true,"tools":[{"type":"function","function":` + weather + `}],"messages":[{"role":"user","content":"Weather in Paris?"}]}`, "api_chat_tools_stream"},
		{"chat tools nostream", "openai_ollama", `{"model":"m","tools":[{"type":"function","function":` + weather + `}],"messages":[{"role":"user","content":"Weather in Paris?"}]}`, "api_chat_tools_nostream"},
		{"chat length", "openai_ollama", `{"model":"m","stream":true,"max_tokens":3,"messages":[{"role":"user","content":"Hi"}]}`, "api_chat_length_stream"},
		{"chat format json", "openai_ollama", `{"model":"m","max_completion_tokens":8,"response_format":{"type":"json_object"},"messages":[{"role":"user","content":"Hi"}]}`, "api_chat_format_json"},
		{"openai tool result", "openai_ollama", `{"model":"m","stream":true,"tools":[{"type":"function","function":` + weather + `}],"messages":[{"role":"user","content":"Weather in Paris?"},
			{"role":"assistant","content":"","tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
			{"role":"tool","tool_call_id":"call_1","content":"{\"temp_c\": 21, \"sky\": \"sunny\"}"}]}`, "api_chat_toolresult_stream"},
		{"anthropic tool result", "anthropic_ollama", `{"model":"m","max_tokens":64,"stream":true,"tools":[` + antWeather + `],"messages":[{"role":"user","content":"Weather in Paris?"},
			{"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris"}}]},
			{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"{\"temp_c\": 21, \"sky\": \"sunny\"}"}]}]}`, "api_chat_toolresult_stream"},
		{"anthropic think", "anthropic_ollama", `{"model":"m","max_tokens":64,"stream":true,"thinking":{"type":"enabled","budget_tokens":1024},"messages":[{"role":"user","content":"Hi there"}]}`, "api_chat_think_stream"},
		{"anthropic think nostream", "anthropic_ollama", `{"model":"m","max_tokens":64,"thinking":{"type":"adaptive"},"messages":[{"role":"user","content":[{"type":"text","text":"Hi there"}]}]}`, "api_chat_think_nostream"},
		{"generate stream", "completions_ollama", `{"model":"m","stream":true,"prompt":"Hi there"}`, "api_generate_stream"},
		{"generate nostream", "completions_ollama", `{"model":"m","prompt":["Hi there"]}`, "api_generate_nostream"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			real := readTestdata(t, filepath.Join("ollama-real", tt.real+".req.json"))
			opt := Options{Model: gjson.GetBytes(real, "model").String()}
			out, err := ollNewWith(tt.pair, opt).Request([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			ollCheckDocumentedFields(t, out)
			var want, got any
			if err := json.Unmarshal(real, &want); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatal(err)
			}
			if diff := ollSubsetDiff("$", want, got); diff != "" {
				t.Errorf("real request not reproduced:\n%s\ngot %s", diff, out)
			}
		})
	}
}

// ollSubsetDiff describes where want is not contained in got: objects may have
// extra members, arrays must have the same length.
func ollSubsetDiff(path string, want, got any) string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return path + ": not an object\n"
		}
		var diffs strings.Builder
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				diffs.WriteString(path + "." + k + ": missing\n")
				continue
			}
			diffs.WriteString(ollSubsetDiff(path+"."+k, wv, gv))
		}
		return diffs.String()
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return path + ": arrays differ in length or type\n"
		}
		var diffs strings.Builder
		for i := range w {
			diffs.WriteString(ollSubsetDiff(path+"["+strconv.Itoa(i)+"]", w[i], g[i]))
		}
		return diffs.String()
	}
	if diff := cmp.Diff(want, got); diff != "" {
		return path + ": " + diff
	}
	return ""
}

// ollDocumented lists the request members docs/protocols.md §4.1-4.2 documents, by position.
var ollDocumented = map[string][]string{
	"":                       {"model", "messages", "tools", "think", "format", "options", "stream", "keep_alive", "logprobs", "top_logprobs", "prompt", "suffix", "system", "images", "raw"},
	"messages":               {"role", "content", "thinking", "images", "tool_calls", "tool_name", "tool_call_id"},
	"messages.tool_calls":    {"id", "function"},
	"messages.tool_calls.fn": {"index", "name", "arguments"},
	"tools":                  {"type", "function"},
	"options":                {"temperature", "top_p", "top_k", "seed", "stop", "num_predict", "num_ctx", "frequency_penalty", "presence_penalty"},
}

// ollCheckDocumentedFields fails when an Ollama request uses a member the digest
// does not document: the translators must never invent fields.
func ollCheckDocumentedFields(t *testing.T, body []byte) {
	t.Helper()
	r := gjson.ParseBytes(body)
	check := func(where string, obj gjson.Result) {
		obj.ForEach(func(k, _ gjson.Result) bool {
			if !slices.Contains(ollDocumented[where], k.String()) {
				t.Errorf("undocumented Ollama field %q in %q", k.String(), where)
			}
			return true
		})
	}
	check("", r)
	check("options", r.Get("options"))
	for _, tool := range r.Get("tools").Array() {
		check("tools", tool)
	}
	for _, m := range r.Get("messages").Array() {
		check("messages", m)
		for _, tc := range m.Get("tool_calls").Array() {
			check("messages.tool_calls", tc)
			check("messages.tool_calls.fn", tc.Get("function"))
		}
	}
}
