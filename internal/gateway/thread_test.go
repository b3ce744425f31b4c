package gateway_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2"
	aoption "github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/tidwall/gjson"
)

// threadRefusal is the exact body of the 400 that answers a message thread on a
// route that cannot keep one (issue 9 item 5).
const threadRefusal = `{"type":"error","error":{"type":"invalid_request_error",` +
	`"message":"thread: thread (server-held conversation state) is not supported on this route: send the whole conversation without thread",` +
	`"details":{"error_code":"thread_unsupported_request","unsupported":["thread"]}}}`

const threadConfig = `
models:
  - name: gpt-4o
    provider: openai
    endpoint: {{UP}}/v1
    api_key: sk-route
  - name: tiny
    provider: ollama
    endpoint: {{UP}}
`

// A message thread (anthropic-sdk-go's BetaMessageThread, @anthropic-ai/sdk's
// toolRunner) keeps the conversation on the server; no translated route can. The
// client gets a 400 whose error.details makes the SDK send the turn again with the
// whole history and no thread: the upstream only ever sees the second request.
// Told to fail instead, the SDK reports the details.
func TestThreadOnTranslatedRouteIsRefusedWithDetails(t *testing.T) {
	answers := map[string][]byte{
		"/v1/chat/completions": fixture(t, "fixtures/openai-chat-response.json"),
		"/api/chat":            fixture(t, "ollama-real/api_chat_nostream.body"),
	}
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		replay(200, "application/json", answers[r.URL.Path])(w, r)
	})
	rt := newRouter(t, threadConfig, up.URL)

	resp, body := post(t, rt.URL+"/v1/messages", `{"model":"gpt-4o","max_tokens":64,"thread":{"type":"create"},`+
		`"messages":[{"role":"user","content":"Hi"}]}`, map[string]string{"Anthropic-Version": "2023-06-01"})
	if resp.StatusCode != 400 || string(body) != threadRefusal {
		t.Errorf("status %d body %s\nwant 400 %s", resp.StatusCode, body, threadRefusal)
	}
	if n := len(up.requests()); n != 0 {
		t.Fatalf("upstream received %d requests for a refused thread", n)
	}

	client := anthropic.NewClient(aoption.WithBaseURL(rt.URL), aoption.WithAPIKey("k"), aoption.WithMaxRetries(0))
	for _, model := range []string{"gpt-4o", "tiny"} {
		for _, behavior := range []anthropic.BetaMessageThreadUnsupportedRequestBehavior{
			anthropic.BetaMessageThreadUnsupportedRequestBehaviorContinueUnthreaded,
			anthropic.BetaMessageThreadUnsupportedRequestBehaviorError,
		} {
			t.Run(model+"/"+string(behavior), func(t *testing.T) {
				from := len(up.requests())
				thread := client.Beta.Messages.NewThread(anthropic.BetaMessageThreadCreateParams{
					Model: anthropic.Model(model), MaxTokens: 64, UnsupportedRequestBehavior: behavior})
				msg, err := thread.Send(context.Background(), anthropic.BetaMessageThreadSendParams{
					Messages: []anthropic.BetaMessageParam{anthropic.NewBetaUserMessage(anthropic.NewBetaTextBlock("Hi"))}})
				reqs := up.requests()[from:]
				if behavior == anthropic.BetaMessageThreadUnsupportedRequestBehaviorError {
					var apiErr *anthropic.Error
					if !errors.As(err, &apiErr) {
						t.Fatalf("err = %v, want the router's 400", err)
					}
					d := apiErr.Details.AsThreadUnsupportedRequest()
					if apiErr.StatusCode != 400 || d.ErrorCode != "thread_unsupported_request" || len(d.Unsupported) != 1 || d.Unsupported[0] != "thread" {
						t.Errorf("error %d, details %s", apiErr.StatusCode, apiErr.Details.RawJSON())
					}
					if len(reqs) != 0 {
						t.Errorf("upstream received %d requests", len(reqs))
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if len(msg.Content) == 0 || msg.Content[0].Text == "" {
					t.Errorf("answer without text: %+v", msg.Content)
				}
				if len(reqs) != 1 {
					t.Fatalf("upstream received %d requests, want the one resent without thread", len(reqs))
				}
				if msgs := gjson.GetBytes(reqs[0].Body, "messages.#.content"); !slices.ContainsFunc(msgs.Array(), func(r gjson.Result) bool { return r.String() == "Hi" }) {
					t.Errorf("the resent turn does not carry the conversation: %s", reqs[0].Body)
				}
			})
		}
	}
}
