package gateway_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2"
	aoption "github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

const protocolHeadersConfig = `
models:
  - name: gpt-4o
    provider: openai
    endpoint: {{UP}}/v1
    api_key: sk-route
  - name: claude-x
    provider: anthropic
    endpoint: {{UP}}
    api_key: sk-ant-route
  - name: tiny
    provider: ollama
    endpoint: {{UP}}
`

// answeringEveryAPI answers each upstream API with its recorded non-streaming answer.
func answeringEveryAPI(t *testing.T) *upstream {
	answers := map[string][]byte{
		"/v1/chat/completions": fixture(t, "fixtures/openai-chat-response.json"),
		"/v1/messages":         fixture(t, "fixtures/anthropic-messages-response.json"),
		"/api/chat":            fixture(t, "ollama-real/api_chat_nostream.body"),
	}
	return newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		b, ok := answers[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		replay(200, "application/json", b)(w, r)
	})
}

// A client's query string and the headers of its protocol and SDK (Anthropic's
// anthropic-* and Claude Code's ?beta=true; OpenAI's OpenAI-*; X-Stainless-* of
// both SDKs) reach only an upstream of the client's own API (issue 9 item 7); an
// application's own headers (User-Agent, X-App) go everywhere.
func TestProtocolHeadersStayWithTheirProtocol(t *testing.T) {
	up := answeringEveryAPI(t)
	rt := newRouter(t, protocolHeadersConfig, up.URL)
	ant := anthropic.NewClient(aoption.WithBaseURL(rt.URL), aoption.WithAPIKey("k"), aoption.WithMaxRetries(0),
		aoption.WithQuery("beta", "true"), aoption.WithHeader("anthropic-beta", "claude-code-20250219"),
		aoption.WithHeader("anthropic-dangerous-direct-browser-access", "true"), aoption.WithHeader("X-App", "cli"))
	oai := openai.NewClient(option.WithBaseURL(rt.URL+"/v1"), option.WithAPIKey("k"), option.WithMaxRetries(0),
		option.WithQuery("trace", "1"), option.WithHeader("OpenAI-Organization", "org-1"), option.WithHeader("X-App", "cli"))
	for _, tc := range []struct {
		client, model string
		same          bool     // the upstream speaks the client's API
		kept, gone    []string // headers the upstream must have, must not have
	}{
		{"anthropic", "claude-x", true, []string{"Anthropic-Beta", "Anthropic-Dangerous-Direct-Browser-Access", "X-Stainless-Lang", "X-App", "User-Agent"}, nil},
		{"anthropic", "gpt-4o", false, []string{"X-App", "User-Agent"}, []string{"Anthropic-Beta", "Anthropic-Version", "Anthropic-Dangerous-Direct-Browser-Access", "X-Stainless-Lang", "X-Stainless-Package-Version"}},
		{"anthropic", "tiny", false, []string{"X-App", "User-Agent"}, []string{"Anthropic-Beta", "Anthropic-Version", "Anthropic-Dangerous-Direct-Browser-Access", "X-Stainless-Lang"}},
		{"openai", "gpt-4o", true, []string{"Openai-Organization", "X-Stainless-Lang", "X-App", "User-Agent"}, nil},
		{"openai", "claude-x", false, []string{"X-App", "User-Agent"}, []string{"Openai-Organization", "X-Stainless-Lang", "X-Stainless-Package-Version"}},
		{"openai", "tiny", false, []string{"X-App", "User-Agent"}, []string{"Openai-Organization", "X-Stainless-Lang"}},
	} {
		t.Run(tc.client+"/"+tc.model, func(t *testing.T) {
			var err error
			var query string
			if tc.client == "anthropic" {
				_, err = ant.Messages.New(context.Background(), anthropic.MessageNewParams{Model: anthropic.Model(tc.model), MaxTokens: 64,
					Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Hi"))}})
				query = "beta=true"
			} else {
				_, err = oai.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{Model: tc.model,
					Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hi")}})
				query = "trace=1"
			}
			if err != nil {
				t.Fatal(err)
			}
			got := up.last(t)
			if want := map[bool]string{true: query, false: ""}[tc.same]; got.Query != want {
				t.Errorf("upstream query %q, want %q", got.Query, want)
			}
			for _, h := range tc.kept {
				if got.Header.Get(h) == "" {
					t.Errorf("upstream did not receive %s", h)
				}
			}
			for _, h := range tc.gone {
				if v := got.Header.Get(h); v != "" {
					t.Errorf("upstream received %s: %q", h, v)
				}
			}
			for name := range got.Header {
				if strings.HasPrefix(name, "X-Stainless-") && !tc.same {
					t.Errorf("upstream received %s", name)
				}
			}
		})
	}
}
