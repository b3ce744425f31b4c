package gateway_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2"
	aoption "github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/tidwall/gjson"

	"github.com/llmrouter/llmrouter/internal/openai"
	"github.com/llmrouter/llmrouter/internal/responses"
)

const countConfig = `
models:
  - name: gpt-4o
    provider: openai
    endpoint: {{UP}}/v1
    api_key: sk-route
    transforms:
      - regex: 'hunter2'
        replace: '[redacted]'
  - name: codex-model
    provider: openai
    endpoint: {{UP}}/v1
    apis: [responses]
    transforms:
      - regex: 'hunter2'
        replace: '[redacted]'
  - name: vllm-model
    provider: openai
    endpoint: {{UP}}/v1
    apis: [chat, completions]
  - name: tiny
    provider: ollama
    endpoint: {{UP}}
`

// countingOpenAI answers POST /v1/responses/input_tokens with a count in the shape
// of openai-go's InputTokenCountResponse (no recording holds one), 400 for a
// request the count does not take, and nothing else.
func countingOpenAI(t *testing.T) *upstream {
	return newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/responses/input_tokens" {
			http.NotFound(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		if gjson.GetBytes(body, "model").Str == "refused" {
			replay(400, "application/json", fixture(t, "fixtures/openai-error-400.json"))(w, r)
			return
		}
		replay(200, "application/json", []byte(`{"object":"response.input_tokens","input_tokens":42}`))(w, r)
	})
}

// count_tokens on a model whose upstream is not Anthropic (issue 9 item 12): an
// openai endpoint that serves the Responses API counts with
// /v1/responses/input_tokens, the request translated (and transformed) as for an
// answer; where no upstream can count (Ollama, an endpoint without the Responses
// API) the router estimates, and says so in X-Llmrouter-Estimate.
func TestCountTokensOnEveryProvider(t *testing.T) {
	up := countingOpenAI(t)
	rt := newRouter(t, countConfig, up.URL)
	client := anthropic.NewClient(aoption.WithBaseURL(rt.URL), aoption.WithAPIKey("k"), aoption.WithMaxRetries(0),
		aoption.WithQuery("beta", "true"))
	params := func(model string) anthropic.MessageCountTokensParams {
		return anthropic.MessageCountTokensParams{
			Model:  anthropic.Model(model),
			System: anthropic.MessageCountTokensParamsSystemUnion{OfString: anthropic.String("Be brief.")},
			Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(
				"My password is hunter2. " + strings.Repeat("Count these words please. ", 40)))},
			Tools: []anthropic.MessageCountTokensToolUnionParam{{OfTool: &anthropic.ToolParam{Name: "get_weather",
				Description: anthropic.String("Weather of a city"),
				InputSchema: anthropic.ToolInputSchemaParam{Properties: map[string]any{"city": map[string]any{"type": "string"}}}}}},
		}
	}

	var resp *http.Response
	// A Responses-only model (its Anthropic clients translated to Responses)
	// counts there too.
	res, err := client.Messages.CountTokens(context.Background(), params("codex-model"), aoption.WithResponseInto(&resp))
	if err != nil {
		t.Fatal(err)
	}
	if got := up.last(t); res.InputTokens != 42 || got.Path != "/v1/responses/input_tokens" || gjson.GetBytes(got.Body, "model").Str != "codex-model" ||
		gjson.GetBytes(got.Body, "max_output_tokens").Exists() || !strings.Contains(gjson.GetBytes(got.Body, "input").Raw, "[redacted]") {
		t.Errorf("responses-only count = %d, upstream got %s %s", res.InputTokens, got.Path, got.Body)
	}
	res, err = client.Messages.CountTokens(context.Background(), params("gpt-4o"), aoption.WithResponseInto(&resp))
	if err != nil {
		t.Fatal(err)
	}
	if res.InputTokens != 42 || resp.Header.Get("X-Llmrouter-Estimate") != "" {
		t.Errorf("openai count = %d (estimate header %q), want the upstream's 42", res.InputTokens, resp.Header.Get("X-Llmrouter-Estimate"))
	}
	got := up.last(t)
	if got.Path != "/v1/responses/input_tokens" || got.Query != "" || got.Header.Get("Authorization") != "Bearer sk-route" {
		t.Errorf("upstream got %s?%s, Authorization %q", got.Path, got.Query, got.Header.Get("Authorization"))
	}
	var keys []string
	gjson.ParseBytes(got.Body).ForEach(func(k, _ gjson.Result) bool { keys = append(keys, k.Str); return true })
	if strings.Join(keys, ",") != "model,input,tools" {
		t.Errorf("count request members %q, want only what the count takes: %s", keys, got.Body)
	}
	if in := gjson.GetBytes(got.Body, "input").Raw; strings.Contains(in, "hunter2") || !strings.Contains(in, "[redacted]") ||
		!strings.Contains(in, "Be brief.") || gjson.GetBytes(got.Body, "tools.0.name").Str != "get_weather" {
		t.Errorf("count request is not the transformed request: %s", got.Body)
	}
	if responses.InputTokensPath != openai.InputTokensPath {
		t.Errorf("openai counts at %s, the Responses API at %s", openai.InputTokensPath, responses.InputTokensPath)
	}

	n := len(up.requests())
	for _, model := range []string{"vllm-model", "tiny"} {
		res, err := client.Messages.CountTokens(context.Background(), params(model), aoption.WithResponseInto(&resp))
		if err != nil {
			t.Fatal(err)
		}
		if resp.Header.Get("X-Llmrouter-Estimate") != "true" {
			t.Errorf("%s: no X-Llmrouter-Estimate on an estimate", model)
		}
		// About 1,100 bytes of text and tool: about 280 tokens by the rule of thumb.
		if res.InputTokens < 250 || res.InputTokens > 350 {
			t.Errorf("%s: estimate %d, want about 280", model, res.InputTokens)
		}
	}
	if len(up.requests()) != n {
		t.Error("an estimate called the upstream")
	}
}

// The count's upstream errors reach the client in Anthropic's envelope.
func TestCountTokensUpstreamErrorInClientEnvelope(t *testing.T) {
	up := countingOpenAI(t)
	rt := newRouter(t, strings.Replace(countConfig, "api_key: sk-route", "api_key: sk-route\n    upstream_model: refused", 1), up.URL)
	client := anthropic.NewClient(aoption.WithBaseURL(rt.URL), aoption.WithAPIKey("k"), aoption.WithMaxRetries(0))
	_, err := client.Messages.CountTokens(context.Background(), anthropic.MessageCountTokensParams{Model: "gpt-4o",
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Hi"))}})
	var apiErr *anthropic.Error
	want := gjson.GetBytes(fixture(t, "fixtures/openai-error-400.json"), "error.message").Str
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || gjson.Get(apiErr.RawJSON(), "error.message").Str != want ||
		gjson.Get(apiErr.RawJSON(), "type").Str != "error" {
		t.Errorf("err = %v, want the upstream's 400 in Anthropic's envelope", err)
	}
}
