package gateway_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2"
	aoption "github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/tidwall/gjson"
)

// The fake's endpoint is not OpenAI's, so by default the router takes it for an
// OpenAI-compatible server, which reads max_tokens; "openai-like" is configured
// as reading max_completion_tokens, as OpenAI does.
const limitFieldConfig = `
models:
  - name: compatible
    provider: openai
    endpoint: {{UP}}/v1
  - name: openai-like
    provider: openai
    endpoint: {{UP}}/v1
    max_tokens_field: max_completion_tokens
`

// An output limit reaches an openai endpoint in the member it reads (issue 9
// item 2): an OpenAI-compatible server ignores max_completion_tokens and answers
// past the cap, OpenAI's reasoning models refuse max_tokens. A translated
// request is written with that member; a passed-through one has its
// max_completion_tokens renamed for a server that reads max_tokens. Nothing is
// lost, so nothing is listed as dropped.
func TestOutputLimitReachesTheMemberTheEndpointReads(t *testing.T) {
	up := newUpstream(t, replay(200, "application/json", fixture(t, "fixtures/openai-chat-response.json")))
	rt := newRouter(t, limitFieldConfig, up.URL)
	oai := openai.NewClient(option.WithBaseURL(rt.URL+"/v1"), option.WithAPIKey("k"), option.WithMaxRetries(0))
	ant := anthropic.NewClient(aoption.WithBaseURL(rt.URL), aoption.WithAPIKey("k"), aoption.WithMaxRetries(0))
	for _, tc := range []struct{ client, model, want, not string }{
		{"openai", "compatible", "max_tokens", "max_completion_tokens"},
		{"openai", "openai-like", "max_completion_tokens", "max_tokens"},
		{"anthropic", "compatible", "max_tokens", "max_completion_tokens"},
		{"anthropic", "openai-like", "max_completion_tokens", "max_tokens"},
	} {
		t.Run(tc.client+"/"+tc.model, func(t *testing.T) {
			var resp *http.Response
			var err error
			if tc.client == "openai" {
				_, err = oai.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{Model: tc.model,
					MaxCompletionTokens: openai.Int(5), Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hi")}},
					option.WithResponseInto(&resp))
			} else {
				_, err = ant.Messages.New(context.Background(), anthropic.MessageNewParams{Model: anthropic.Model(tc.model), MaxTokens: 5,
					Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Hi"))}},
					aoption.WithResponseInto(&resp))
			}
			if err != nil {
				t.Fatal(err)
			}
			body := up.last(t).Body
			if got := gjson.GetBytes(body, tc.want); got.Raw != "5" {
				t.Errorf("upstream %s = %s, want 5: %s", tc.want, got.Raw, body)
			}
			if gjson.GetBytes(body, tc.not).Exists() {
				t.Errorf("upstream also got %s: %s", tc.not, body)
			}
			if d := resp.Header.Get("X-Llmrouter-Dropped"); d != "" {
				t.Errorf("X-Llmrouter-Dropped %q: nothing was lost", d)
			}
		})
	}
}
