package gateway

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tidwall/gjson"

	"github.com/llmrouter/llmrouter/internal/anthropic"
	"github.com/llmrouter/llmrouter/internal/ollama"
	"github.com/llmrouter/llmrouter/internal/openai"
	"github.com/llmrouter/llmrouter/internal/translate"
)

// tapped runs body through a usageTap for members, in pieces of size n (0: whole).
func tapped(body []byte, members []string, n int) []byte {
	var u usageTap
	u.start(members)
	for len(body) > 0 {
		k := len(body)
		if n > 0 {
			k = min(n, k)
		}
		u.scan(body[:k])
		body = body[k:]
	}
	if len(u.doc) == 0 {
		return nil
	}
	doc := append([]byte(nil), u.doc...)
	doc[0] = '{'
	return append(doc, '}')
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The tap keeps exactly the top-level members named, however the body is cut into
// pieces, and its meter reads the answer's usage from them.
func TestUsageTapReadsAnswers(t *testing.T) {
	tests := []struct {
		name string
		up   metered
		body []byte
		want translate.Usage
	}{
		{"openai chat", openai.Chat, readTestdata(t, "fixtures/openai-chat-response.json"), translate.Usage{Input: 19, Output: 10}},
		{"openai completions", openai.Completions, readTestdata(t, "fixtures/openai-completions-response.json"), translate.Usage{Input: 31, Output: 25}},
		{"anthropic", anthropic.Messages, readTestdata(t, "fixtures/anthropic-messages-response.json"), translate.Usage{Input: 16, Output: 34}},
		{"ollama chat", ollama.Chat, readTestdata(t, "ollama-real/api_chat_nostream.body"), translate.Usage{Input: 50, Output: 10}},
		{"ollama generate", ollama.Generate, readTestdata(t, "ollama-real/api_generate_nostream.body"), translate.Usage{Input: 29, Output: 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			whole := tapped(tt.body, tt.up.UsageMembers(), 0)
			for n := 1; n <= len(tt.body); n++ {
				if got := tapped(tt.body, tt.up.UsageMembers(), n); !bytes.Equal(got, whole) {
					t.Fatalf("in pieces of %d: %s, whole: %s", n, got, whole)
				}
			}
			var u usageTap
			u.start(tt.up.UsageMembers())
			u.scan(tt.body)
			if diff := cmp.Diff(tt.want, u.usage(tt.up)); diff != "" {
				t.Errorf("usage (-want +got):\n%s", diff)
			}
		})
	}
}

// Only a top-level member whose name is written plainly is kept; nested ones,
// string values, names spelled with escapes and values too long to be usage are not.
func TestUsageTapKeepsOnlyTopLevelMembers(t *testing.T) {
	members := []string{"usage"}
	tests := []struct {
		name, body, want string
	}{
		{"top level", `{"a":1,"usage":{"x":2}}`, `{"usage":{"x":2}}`},
		{"spaces kept as they are", `{ "usage" : {"x": 2} , "b": 1 }`, `{"usage": {"x": 2} }`},
		{"nested", `{"choices":[{"usage":{"x":1}}],"m":{"usage":1}}`, ``},
		{"a string value", `{"a":"usage","b":["usage"]}`, ``},
		{"quotes and braces in strings", `{"t":"}\"usage\":{","usage":{"s":"a\"}{b"}}`, `{"usage":{"s":"a\"}{b"}}`},
		{"escaped name", `{"us\u0061ge":{"x":1}}`, ``},
		{"escape before a name", `{"a\"usage":{"x":1}}`, ``},
		{"too long", `{"usage":"` + strings.Repeat("x", maxUsageMember) + `","u":1}`, ``},
		{"not an object", `["usage",{"usage":1}]`, ``},
		{"twice", `{"usage":1,"usage":2}`, `{"usage":1,"usage":2}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(tapped([]byte(tt.body), members, 0)); got != tt.want {
				t.Errorf("kept %s, want %s", got, tt.want)
			}
		})
	}
}

// The tap keeps what gjson reads as the body's top-level usage member, for any
// valid JSON object written without escapes in its names.
func FuzzUsageTap(f *testing.F) {
	f.Add([]byte(`{"id":"x","usage":{"prompt_tokens":1}}`), 3)
	f.Add(readFuzzSeed(f, "fixtures/openai-chat-response.json"), 7)
	f.Add(readFuzzSeed(f, "fixtures/anthropic-messages-response.json"), 1)
	f.Fuzz(func(t *testing.T, body []byte, n int) {
		if !json.Valid(body) || bytes.IndexByte(body, '\\') >= 0 {
			return
		}
		top := gjson.ParseBytes(body)
		if !top.IsObject() {
			return
		}
		want := top.Get("usage")
		count := 0
		top.ForEach(func(k, _ gjson.Result) bool {
			if k.Str == "usage" {
				count++
			}
			return true
		})
		if count > 1 || len(want.Raw) > maxUsageMember/2 {
			return
		}
		got := gjson.GetBytes(tapped(body, []string{"usage"}, max(n%64, 0)), "usage")
		if got.Raw != want.Raw {
			t.Errorf("usage %q, want %q", got.Raw, want.Raw)
		}
	})
}

func readFuzzSeed(f *testing.F, name string) []byte {
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", name))
	if err != nil {
		f.Fatal(err)
	}
	return b
}

// Relaying a body through a recycled tap costs no allocation when it carries no
// usage.
func TestUsageTapAllocations(t *testing.T) {
	body := bytes.Repeat([]byte(`{"a":"`+strings.Repeat("x", 100)+`","b":[1,2,{"c":null}]}`), 1)
	members := openai.Chat.UsageMembers()
	if n := testing.AllocsPerRun(100, func() {
		u := taps.Get().(*usageTap)
		defer taps.Put(u)
		u.start(members)
		u.scan(body)
		_ = u.usage(openai.Chat)
	}); n != 0 {
		t.Errorf("%v allocations", n)
	}
}

// BenchmarkUsageTap is what reading usage adds to relaying a 1 KB answer that
// carries it: the scan of every byte, and the meter's read of the kept members.
func BenchmarkUsageTap(b *testing.B) {
	text := strings.Repeat("lorem ipsum ", 80)
	body := []byte(`{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"` +
		text + `"},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":7,"total_tokens":17}}`)
	members := openai.Chat.UsageMembers()
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		u := taps.Get().(*usageTap)
		u.start(members)
		u.scan(body)
		_ = u.usage(openai.Chat)
		taps.Put(u)
	}
}
