package translate

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/tidwall/gjson"
)

// ollFuzzSeeds adds every fixture file whose name matches one of the globs.
func ollFuzzSeeds(f *testing.F, globs ...string) {
	for _, g := range globs {
		files, err := filepath.Glob(filepath.Join("..", "..", "testdata", g))
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
}

// ollFuzzRequest checks the request converter of pair on any input: no panic, a
// *RequestError or a JSON object with an explicit "stream".
func ollFuzzRequest(t *testing.T, pair string, body []byte) {
	tr := ollNew(pair)
	out, err := tr.Request(body)
	if err != nil {
		var re *RequestError
		if !errors.As(err, &re) {
			t.Fatalf("error %v is not a *RequestError", err)
		}
		return
	}
	if !gjson.ValidBytes(out) || !gjson.GetBytes(out, "stream").IsBool() {
		t.Fatalf("bad upstream body %s", out)
	}
	_ = tr.Dropped()
}

func FuzzOllamaOpenAIRequest(f *testing.F) {
	ollFuzzSeeds(f, "fixtures/openai-chat-request*.json", "ollama-real/v1_chat_*.req.json")
	f.Fuzz(func(t *testing.T, body []byte) { ollFuzzRequest(t, "openai_ollama", body) })
}

func FuzzOllamaAnthropicRequest(f *testing.F) {
	ollFuzzSeeds(f, "fixtures/anthropic-messages-request*.json", "ollama-real/v1_messages_*.req.json")
	f.Fuzz(func(t *testing.T, body []byte) { ollFuzzRequest(t, "anthropic_ollama", body) })
}

func FuzzOllamaCompletionsRequest(f *testing.F) {
	ollFuzzSeeds(f, "fixtures/openai-completions-request.json", "ollama-real/v1_completions_*.req.json")
	f.Fuzz(func(t *testing.T, body []byte) { ollFuzzRequest(t, "completions_ollama", body) })
}

// FuzzOllamaStream feeds any NDJSON body to the three stream converters (and any
// single body to Response): no panic, and every client event is JSON or [DONE].
func FuzzOllamaStream(f *testing.F) {
	ollFuzzSeeds(f, "fixtures/ollama-*.ndjson", "fixtures/ollama-*response.json", "ollama-real/api_chat_*.body", "ollama-real/api_generate_*.body")
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, pair := range ollPairs {
			for _, usage := range []bool{false, true} {
				tr := ollNew(pair)
				if _, err := tr.Request([]byte(streamRequest(goldenSets[pair].client, usage))); err != nil {
					t.Fatal(err)
				}
				out, _ := drive(tr, true, bytes.NewReader(body))
				for _, ev := range ollEvents(t, out) {
					if ev[1] != "[DONE]" && !gjson.Valid(ev[1]) {
						t.Fatalf("%s: event data is not JSON: %q", pair, ev[1])
					}
				}
			}
			if out, err := ollNew(pair).Response(body); err == nil && !gjson.ValidBytes(out) {
				t.Fatalf("%s: response is not JSON: %q", pair, out)
			}
		}
	})
}
