package gateway_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/tidwall/gjson"
)

const embeddingsConfig = `
models:
  - name: text-embedding-3-small
    provider: openai
    endpoint: {{UP}}/v1
    api_key: sk-route
    upstream_model: tiny
  - name: tiny
    provider: ollama
    endpoint: {{UP}}
  - name: claude-x
    provider: anthropic
    endpoint: {{UP}}
`

// embeddingUpstream answers /api/embed and /v1/embeddings with Ollama's captured
// answers (ollama-real/api_embed, v1_embeddings).
func embeddingUpstream(t *testing.T) *upstream {
	native, compat := fixture(t, "ollama-real/api_embed.body"), fixture(t, "ollama-real/v1_embeddings.body")
	return newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/embed":
			replay(200, "application/json; charset=utf-8", native)(w, r)
		case "/v1/embeddings":
			replay(200, "application/json", compat)(w, r)
		default:
			http.NotFound(w, r)
		}
	})
}

// POST /v1/embeddings (issue 9 item 13): passed through to an openai upstream
// (bytes, model rewritten), translated to Ollama's native /api/embed, a 400 for
// Anthropic, which has no embeddings.
func TestEmbeddingsThroughEveryProvider(t *testing.T) {
	up := embeddingUpstream(t)
	rt := newRouter(t, embeddingsConfig, up.URL)
	client := openai.NewClient(option.WithBaseURL(rt.URL+"/v1"), option.WithAPIKey("k"), option.WithMaxRetries(0))
	ctx := context.Background()

	t.Run("openai passthrough", func(t *testing.T) {
		var resp *http.Response
		res, err := client.Embeddings.New(ctx, openai.EmbeddingNewParams{Model: "text-embedding-3-small",
			Input: openai.EmbeddingNewParamsInputUnion{OfString: openai.String("hello")}}, option.WithResponseInto(&resp))
		if err != nil {
			t.Fatal(err)
		}
		got := up.last(t)
		if got.Path != "/v1/embeddings" || gjson.GetBytes(got.Body, "model").Str != "tiny" || gjson.GetBytes(got.Body, "input").Str != "hello" {
			t.Errorf("upstream got %s %s", got.Path, got.Body)
		}
		if got.Header.Get("Authorization") != "Bearer sk-route" {
			t.Errorf("upstream credential %q", got.Header.Get("Authorization"))
		}
		if want := fixture(t, "ollama-real/v1_embeddings.body"); res.RawJSON() != strings.TrimSpace(string(want)) {
			t.Errorf("client got %.200s, want the upstream's bytes", res.RawJSON())
		}
		if len(res.Data) != 1 || len(res.Data[0].Embedding) != 128 || res.Usage.PromptTokens != 7 {
			t.Errorf("answer: %d embeddings, usage %+v", len(res.Data), res.Usage)
		}
	})

	captured := gjson.GetBytes(fixture(t, "ollama-real/api_embed.body"), "embeddings").Array()
	t.Run("ollama float", func(t *testing.T) {
		var resp *http.Response
		res, err := client.Embeddings.New(ctx, openai.EmbeddingNewParams{Model: "tiny", Dimensions: openai.Int(128),
			User: openai.String("u-1"), Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"hello", "world"}}},
			option.WithResponseInto(&resp))
		if err != nil {
			t.Fatal(err)
		}
		if d := resp.Header.Get("X-Llmrouter-Dropped"); d != "user" {
			t.Errorf("X-Llmrouter-Dropped %q, want user (Ollama has no end-user id)", d)
		}
		got := up.last(t)
		if got.Path != "/api/embed" || string(got.Body) != `{"model":"tiny","input":["hello","world"],"dimensions":128}` {
			t.Errorf("upstream got %s %s", got.Path, got.Body)
		}
		if res.Object != "list" || res.Model != "tiny" || len(res.Data) != 2 || res.Usage.PromptTokens != 14 || res.Usage.TotalTokens != 14 {
			t.Fatalf("answer %.300s", res.RawJSON())
		}
		for i, e := range res.Data {
			if e.Index != int64(i) || e.Object != "embedding" || len(e.Embedding) != len(captured[i].Array()) {
				t.Fatalf("embedding %d: index %d object %q, %d values", i, e.Index, e.Object, len(e.Embedding))
			}
			for j, v := range captured[i].Array() {
				if e.Embedding[j] != v.Float() {
					t.Fatalf("embedding %d value %d = %v, want the captured %v", i, j, e.Embedding[j], v.Float())
				}
			}
		}
	})

	t.Run("ollama base64", func(t *testing.T) {
		resp, body := post(t, rt.URL+"/v1/embeddings", `{"model":"tiny","input":["hello","world"],"encoding_format":"base64"}`, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		for i, e := range gjson.GetBytes(body, "data").Array() {
			raw, err := base64.StdEncoding.DecodeString(e.Get("embedding").Str)
			if err != nil || len(raw) != 4*len(captured[i].Array()) {
				t.Fatalf("embedding %d: %d bytes, %v", i, len(raw), err)
			}
			for j, v := range captured[i].Array() {
				if got := math.Float32frombits(binary.LittleEndian.Uint32(raw[4*j:])); got != float32(v.Float()) {
					t.Fatalf("embedding %d value %d = %v, want %v", i, j, got, float32(v.Float()))
				}
			}
		}
		if !bytes.Contains(body, []byte(`"index":1`)) {
			t.Errorf("answer: %.200s", body)
		}
	})

	for _, tc := range []struct{ name, body, param, message string }{
		{"token arrays", `{"model":"tiny","input":[[1,2,3]]}`, "input[0]", "token arrays are not supported"},
		{"unknown encoding", `{"model":"tiny","input":"a","encoding_format":"int8"}`, "encoding_format", "float or base64"},
		{"stream", `{"model":"tiny","input":"a","stream":true}`, "stream", "never streamed"},
		{"no input", `{"model":"tiny"}`, "input", "missing required field: input"},
		{"anthropic", `{"model":"claude-x","input":"a"}`, "", "embeddings is only available for models on openai or ollama upstreams"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := len(up.requests())
			_, err := client.Embeddings.New(ctx, openai.EmbeddingNewParams{}, option.WithRequestBody("application/json", []byte(tc.body)))
			var apiErr *openai.Error
			if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.Param != tc.param || !strings.Contains(apiErr.Message, tc.message) {
				t.Errorf("err = %v, want a 400 on %q saying %q", err, tc.param, tc.message)
			}
			if len(up.requests()) != n {
				t.Error("the upstream was called")
			}
		})
	}
}
