package policy

import (
	"testing"

	"github.com/llmrouter/llmrouter/internal/anthropic"
	"github.com/llmrouter/llmrouter/internal/config"
	"github.com/llmrouter/llmrouter/internal/ollama"
	"github.com/llmrouter/llmrouter/internal/openai"
)

func drop(path string) config.Transform { return config.Transform{Drop: path} }

func set(path string, v any) config.Transform { return config.Transform{Set: path, Value: v} }

func appendTo(path string, v any) config.Transform { return config.Transform{Append: path, Value: v} }

func TestDrop(t *testing.T) {
	runBodyTests(t, []bodyTest{
		{
			name:  "object member in the middle",
			rules: []config.Transform{drop("$.metadata")},
			in:    `{"model":"m", "metadata": {"user":"u"}, "stream":true}`,
			want:  `{"model":"m", "stream":true}`,
		},
		{
			name:  "first member",
			rules: []config.Transform{drop("$.model")},
			in:    `{"model":"m", "stream":true}`,
			want:  `{"stream":true}`,
		},
		{
			name:  "only member",
			rules: []config.Transform{drop("$.model")},
			in:    `{ "model" : "m" }`,
			want:  `{}`,
		},
		{
			name:  "indented body keeps its layout",
			rules: []config.Transform{drop("$.b")},
			in:    "{\n  \"a\": 1,\n  \"b\": 2\n}",
			want:  "{\n  \"a\": 1\n}",
		},
		{
			name:  "nested member",
			rules: []config.Transform{drop("$.options.seed")},
			in:    `{"options":{"seed":1,"num_ctx":2}}`,
			want:  `{"options":{"num_ctx":2}}`,
		},
		{
			name:  "missing path changes nothing",
			rules: []config.Transform{drop("$.metadata.user")},
			in:    `{"model":"m"}`,
			want:  `{"model":"m"}`,
		},
		{
			name:  "array element",
			rules: []config.Transform{drop("$.stop[1]")},
			in:    `{"stop":["a","b","c"]}`,
			want:  `{"stop":["a","c"]}`,
		},
		{
			name:  "several elements of one array, highest index first",
			rules: []config.Transform{drop("$.stop[0,2,3]")},
			in:    `{"stop":["a","b","c","d","e"]}`,
			want:  `{"stop":["b","e"]}`,
		},
		{
			name:  "negative index",
			rules: []config.Transform{drop("$.stop[-1]")},
			in:    `{"stop":["a","b"]}`,
			want:  `{"stop":["a"]}`,
		},
		{
			name:  "filter selects messages",
			rules: []config.Transform{drop("$.messages[?@.role=='system']")},
			in:    `{"messages":[{"role":"system","content":"s1"},{"role":"user","content":"u"},{"role":"system","content":"s2"}]}`,
			want:  `{"messages":[{"role":"user","content":"u"}]}`,
		},
		{
			name:  "descendant matches at every depth",
			rules: []config.Transform{drop("$..cache_control")},
			in:    `{"system":[{"type":"text","text":"s","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":[{"type":"text","text":"u","cache_control":{"type":"ephemeral","cache_control":1}}]}]}`,
			want:  `{"system":[{"type":"text","text":"s"}],"messages":[{"role":"user","content":[{"type":"text","text":"u"}]}]}`,
		},
		{
			name:  "wildcard empties an object",
			rules: []config.Transform{drop("$.metadata.*")},
			in:    `{"metadata":{"a":1,"b":[2],"c":{}}}`,
			want:  `{"metadata":{}}`,
		},
		{
			name:  "duplicate keys all go",
			rules: []config.Transform{drop("$.a")},
			in:    `{"a":1,"b":2,"a":3}`,
			want:  `{"b":2}`,
		},
		{
			name:  "numbers elsewhere keep their spelling",
			rules: []config.Transform{drop("$.x")},
			in:    `{"x":1,"temperature":1.50,"seed":12345678901234567890,"top_p":1e-3}`,
			want:  `{"temperature":1.50,"seed":12345678901234567890,"top_p":1e-3}`,
		},
	})
}

func TestSet(t *testing.T) {
	runBodyTests(t, []bodyTest{
		{
			name:  "existing key",
			rules: []config.Transform{set("$.temperature", 0.2)},
			in:    `{"temperature":1,"model":"m"}`,
			want:  `{"temperature":0.2,"model":"m"}`,
		},
		{
			name:  "new key is added last",
			rules: []config.Transform{set("$.temperature", 0.2)},
			in:    `{"model":"m"}`,
			want:  `{"model":"m","temperature":0.2}`,
		},
		{
			name:  "new key in an empty object",
			rules: []config.Transform{set("$.temperature", 0.2)},
			in:    `{}`,
			want:  `{"temperature":0.2}`,
		},
		{
			name:  "nested key in an existing object",
			rules: []config.Transform{set("$.options.num_ctx", 8192)},
			in:    `{"options":{"temperature":0}}`,
			want:  `{"options":{"temperature":0,"num_ctx":8192}}`,
		},
		{
			name:  "missing parents of a name path are created",
			rules: []config.Transform{set("$.options.num_ctx", 8192)},
			in:    `{"model":"m"}`,
			want:  `{"model":"m","options":{"num_ctx":8192}}`,
		},
		{
			name:  "deeper missing parents are created below the deepest existing object",
			rules: []config.Transform{set("$.a.b.c.d", true)},
			in:    `{"a":{"x":1}}`,
			want:  `{"a":{"x":1,"b":{"c":{"d":true}}}}`,
		},
		{
			name:  "a parent that is not an object is left alone",
			rules: []config.Transform{set("$.options.num_ctx", 8192)},
			in:    `{"options":"fast"}`,
			want:  `{"options":"fast"}`,
		},
		{
			name:  "a name on every selected object",
			rules: []config.Transform{set("$.messages[*].name", "bob")},
			in:    `{"messages":[{"role":"user"},{"role":"user","name":"al"},"odd"]}`,
			want:  `{"messages":[{"role":"user","name":"bob"},{"role":"user","name":"bob"},"odd"]}`,
		},
		{
			name:  "trailing names are set on every selected object, missing ones created",
			rules: []config.Transform{set("$.messages[*].metadata.user_id", "u")},
			in:    `{"messages":[{"role":"user"},{"role":"user","metadata":{"a":1}},{"metadata":"x"},[]]}`,
			want:  `{"messages":[{"role":"user","metadata":{"user_id":"u"}},{"role":"user","metadata":{"a":1,"user_id":"u"}},{"metadata":"x"},[]]}`,
		},
		{
			name:  "a name after an index",
			rules: []config.Transform{set("$.messages[1].name", "bob")},
			in:    `{"messages":[{"role":"user"},{"role":"user"}]}`,
			want:  `{"messages":[{"role":"user"},{"role":"user","name":"bob"}]}`,
		},
		{
			name:  "two inserts into one object are joined",
			rules: []config.Transform{set("$..*.x.y", 1)},
			in:    `{"a":{"x":{}}}`,
			want:  `{"a":{"x":{"y":1,"x":{"y":1}}}}`,
		},
		{
			name:  "a replaced member's inner edits are dropped",
			rules: []config.Transform{set("$..*.x", 1)},
			in:    `{"a":{"x":{"b":{}}}}`,
			want:  `{"a":{"x":1}}`,
		},
		{
			name:  "array element is replaced, not created",
			rules: []config.Transform{set("$.stop[1]", "x"), set("$.stop[5]", "y")},
			in:    `{"stop":["a","b"]}`,
			want:  `{"stop":["a","x"]}`,
		},
		{
			name:  "a missing path that is not all names creates nothing",
			rules: []config.Transform{set("$.messages[0].name", "x")},
			in:    `{"model":"m"}`,
			want:  `{"model":"m"}`,
		},
		{
			name:  "object value, written with its keys sorted",
			rules: []config.Transform{set("$.metadata", map[string]any{"user_id": "u", "tag": "<a&b>"})},
			in:    `{"metadata":null}`,
			want:  `{"metadata":{"tag":"<a&b>","user_id":"u"}}`,
		},
		{
			name:  "descendant matches are replaced",
			rules: []config.Transform{set("$..cache_control", nil)},
			in:    `{"system":[{"text":"s","cache_control":{"type":"ephemeral"}}],"cache_control":1}`,
			want:  `{"system":[{"text":"s","cache_control":null}],"cache_control":null}`,
		},
		{
			name:  "duplicate keys: the last, the one decoders keep, is set",
			rules: []config.Transform{set("$.a", 9)},
			in:    `{"a":1,"a":2}`,
			want:  `{"a":1,"a":9}`,
		},
		{
			name:  "key needing escapes",
			rules: []config.Transform{set(`$["a.b\"c"]`, 1)},
			in:    `{}`,
			want:  `{"a.b\"c":1}`,
		},
	})
}

func TestAppend(t *testing.T) {
	brief := map[string]any{"role": "system", "content": "Answer briefly."}
	runBodyTests(t, []bodyTest{
		{
			name:  "contract example: a system message appended to messages",
			rules: []config.Transform{appendTo("$.messages", brief)},
			in:    `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`,
			want:  `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"},{"content":"Answer briefly.","role":"system"}]}`,
		},
		{
			name:  "empty array",
			rules: []config.Transform{appendTo("$.stop", "END")},
			in:    `{"stop":[ ]}`,
			want:  `{"stop":["END" ]}`,
		},
		{
			name:  "every array matched",
			rules: []config.Transform{appendTo("$..stop", "END")},
			in:    `{"stop":["a"],"options":{"stop":[]}}`,
			want:  `{"stop":["a","END"],"options":{"stop":["END"]}}`,
		},
		{
			name:  "non-array match is a no-op",
			rules: []config.Transform{appendTo("$.stop", "END")},
			in:    `{"stop":"a"}`,
			want:  `{"stop":"a"}`,
		},
		{
			name:  "missing array is not created",
			rules: []config.Transform{appendTo("$.stop", "END")},
			in:    `{}`,
			want:  `{}`,
		},
		{
			name:  "nested arrays matched together",
			rules: []config.Transform{appendTo("$..*", 7)},
			in:    `{"a":[[1],"s"]}`,
			want:  `{"a":[[1,7],"s",7]}`,
		},
	})
}

func TestRuleOrder(t *testing.T) {
	runBodyTests(t, []bodyTest{
		{
			name:  "set then drop of the same path drops it",
			rules: []config.Transform{set("$.temperature", 0.2), drop("$.temperature")},
			in:    `{"model":"m"}`,
			want:  `{"model":"m"}`,
		},
		{
			name:  "drop then set of the same path sets it",
			rules: []config.Transform{drop("$.temperature"), set("$.temperature", 0.2)},
			in:    `{"temperature":1,"model":"m"}`,
			want:  `{"model":"m","temperature":0.2}`,
		},
		{
			name:  "a later JSONPath sees an earlier edit",
			rules: []config.Transform{appendTo("$.messages", map[string]any{"role": "system", "content": "x"}), drop("$.messages[?@.role=='system']")},
			in:    `{"messages":[{"role":"user","content":"u"}]}`,
			want:  `{"messages":[{"role":"user","content":"u"}]}`,
		},
		{
			name:  "a regex after an append rewrites the appended text",
			rules: []config.Transform{appendTo("$.messages", map[string]any{"role": "system", "content": "Answer briefly."}), re("briefly", "at length", "system")},
			in:    `{"messages":[]}`,
			want:  `{"messages":[{"content":"Answer at length.","role":"system"}]}`,
		},
		{
			name: "regex, then set, then drop",
			rules: []config.Transform{
				re("secret", "[x]"),
				set("$.metadata.user_id", "router"),
				drop("$.user"),
			},
			in:   `{"user":"u","messages":[{"role":"user","content":"a secret"}]}`,
			want: `{"messages":[{"role":"user","content":"a [x]"}],"metadata":{"user_id":"router"}}`,
		},
	})
}

func TestPathOnEveryProtocol(t *testing.T) {
	// JSONPath rules ignore the protocol: paths are written in the upstream's format.
	for name, proto := range map[string]Dialect{"openai-chat": openai.Chat, "openai-completions": openai.Completions,
		"anthropic-messages": anthropic.Messages, "ollama-chat": ollama.Chat, "ollama-generate": ollama.Generate} {
		runBodyTests(t, []bodyTest{{
			name:  name,
			rules: []config.Transform{set("$.options.num_ctx", 1)},
			proto: proto,
			in:    `{}`,
			want:  `{"options":{"num_ctx":1}}`,
		}})
	}
}
