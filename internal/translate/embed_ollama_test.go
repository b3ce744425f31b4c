package translate

import (
	"errors"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/llmrouter/llmrouter/internal/wire"
)

// The captured request of ollama-real/api_embed is what an OpenAI embeddings
// request for the same input becomes; the captured answer reads as a list whose
// usage is its prompt_eval_count.
func TestEmbeddingsToOllama(t *testing.T) {
	tr := New(wire.OpenAIChat, wire.OllamaChat, Options{Op: wire.Embed, Model: "tiny"})
	if tr == nil {
		t.Fatal("no embeddings translator to Ollama")
	}
	got, err := tr.Request([]byte(`{"model":"text-embedding-3-small","input":["hello","world"],"encoding_format":"float","user":"u"}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := string(readTestdata(t, "ollama-real/api_embed.req.json")); string(got) != want {
		t.Errorf("request %s, want the captured %s", got, want)
	}
	if d := tr.Dropped(); len(d) != 1 || d[0] != "user" {
		t.Errorf("dropped %q", d)
	}
	out, err := tr.Response(readTestdata(t, "ollama-real/api_embed.body"))
	if err != nil {
		t.Fatal(err)
	}
	r := gjson.ParseBytes(out)
	if r.Get("object").Str != "list" || r.Get("data.#").Int() != 2 || r.Get("data.1.index").Int() != 1 ||
		r.Get("usage.prompt_tokens").Int() != 14 || r.Get("model").Str != "tiny" || tr.Usage().Input != 14 {
		t.Errorf("answer %.300s, usage %+v", out, tr.Usage())
	}
	// The same input through Ollama's own OpenAI layer (v1_embeddings) has the
	// same first vector.
	if a, b := r.Get("data.0.embedding").Raw, gjson.GetBytes(readTestdata(t, "ollama-real/v1_embeddings.body"), "data.0.embedding").Raw; a != b {
		t.Errorf("first vector differs from Ollama's own OpenAI answer")
	}
	for _, body := range []string{`{"error":"model 'x' not found"}`, `{"model":"tiny"}`, `[1]`, `not json`} {
		_, err := tr.Response([]byte(body))
		var se *StreamError
		var sh *ShapeError
		if !errors.As(err, &se) && !errors.As(err, &sh) {
			t.Errorf("Response(%s) = %v, want a StreamError or ShapeError", body, err)
		}
	}
	if New(wire.OpenAIChat, wire.AnthropicMessages, Options{Op: wire.Embed}) != nil {
		t.Error("an embeddings translator to Anthropic, which has no embeddings")
	}
}
