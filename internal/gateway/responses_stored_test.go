package gateway_test

// The Responses API's calls on stored responses (retrieve, stream a retrieval,
// delete, cancel, list input items) and its token count, through the real server
// with the official SDK: passed through to the OpenAI upstream they belong to,
// routed as README "Responses API" says, and refused (400) where no upstream of
// the Responses API serves the model. Also: passthrough of a create is bytes in,
// bytes out, with only the model rewritten, unknown items and events included.

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"
	"github.com/tidwall/gjson"
)

const storedID = "resp_07592f42d0d2f1ac016a3c11f75bd081a1a99d083171a39f1f" // the recorded text response's

// storedConfig has one model on a Responses upstream and one on Anthropic
// (translated, stateless).
const storedConfig = `
defaults:
  retry: {attempts: 1}
models:
  - name: gpt-4o
    provider: openai
    endpoint: {{UP}}/v1
    api_key: sk-route-key-0123456789abcdef
    upstream_model: gpt-4o-2024-08-06
  - name: claude
    provider: anthropic
    endpoint: {{UP}}
    api_key: ant-route-key-0123456789abcdef
`

// storedUpstream answers the stored calls with recorded bodies: a response
// (retrieve, cancel), its stream (a retrieval with stream), the recorded 404
// (delete), an input item list and a token count in the SDK's shapes
// (ResponseItemList, InputTokenCountResponse) around recorded items.
func storedUpstream(t *testing.T) *upstream {
	text := fixture(t, "responses/openai-responses-response-text.json")
	stream := fixture(t, "responses/openai-responses-stream-text.sse")
	item := gjson.GetBytes(fixture(t, "responses/codex-cli-request.json"), "input.3")
	list := `{"object":"list","data":[` + item.Raw + `],"first_id":"` + item.Get("id").Str + `","last_id":"` + item.Get("id").Str + `","has_more":false}`
	return newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/v1/responses/input_tokens":
			replay(200, "application/json", []byte(`{"object":"response.input_tokens","input_tokens":20}`))(w, r)
		case strings.HasSuffix(r.URL.Path, "/input_items"):
			replay(200, "application/json", []byte(list))(w, r)
		case r.Method == http.MethodDelete:
			replay(404, "application/json", fixture(t, "fixtures/openai-error-404.json"))(w, r)
		case r.Method == http.MethodGet && (r.URL.Query().Get("stream") == "true" || gjson.GetBytes(mustRead(r), "stream").Bool()):
			replaySSE(stream)(w, r)
		default:
			replay(200, "application/json", text)(w, r)
		}
	})
}

func mustRead(r *http.Request) []byte {
	var b bytes.Buffer
	_, _ = b.ReadFrom(r.Body)
	return b.Bytes()
}

// Every stored call reaches the one Responses upstream at its own method and
// path, with the query forwarded and the route's key, and its answer comes back
// as the SDK reads it.
func TestStoredResponseCallsPassThrough(t *testing.T) {
	up := storedUpstream(t)
	rt := newRouter(t, storedConfig, up.URL)
	client := openAIClient(rt.URL)
	ctx := context.Background()

	r, err := client.Responses.Get(ctx, storedID, responses.ResponseGetParams{
		Include: []responses.ResponseIncludable{responses.ResponseIncludableReasoningEncryptedContent}})
	if err != nil || r.ID != storedID || r.OutputText() != "Olá!" {
		t.Fatalf("Get: %v, id %s", err, r.ID)
	}
	checkStoredRequest(t, up.last(t), http.MethodGet, "/v1/responses/"+storedID, "include%5B%5D=reasoning.encrypted_content")

	s := client.Responses.GetStreaming(ctx, storedID, responses.ResponseGetParams{StartingAfter: openai.Int(0)})
	var types []string
	for s.Next() {
		types = append(types, s.Current().Type)
	}
	if err := s.Err(); err != nil || len(types) == 0 || types[len(types)-1] != "response.completed" {
		t.Errorf("GetStreaming: %v, events %v", err, types)
	}
	checkStoredRequest(t, up.last(t), http.MethodGet, "/v1/responses/"+storedID, "starting_after=0")

	if r, err := client.Responses.Cancel(ctx, storedID); err != nil || r.ID != storedID {
		t.Errorf("Cancel: %v", err)
	}
	checkStoredRequest(t, up.last(t), http.MethodPost, "/v1/responses/"+storedID+"/cancel", "")

	page, err := client.Responses.InputItems.List(ctx, storedID, responses.InputItemListParams{
		After: openai.String("msg_1"), Limit: openai.Int(2), Order: responses.InputItemListParamsOrderAsc})
	if err != nil || len(page.Data) != 1 || page.Data[0].Type != "message" {
		t.Errorf("InputItems.List: %v %+v", err, page)
	}
	checkStoredRequest(t, up.last(t), http.MethodGet, "/v1/responses/"+storedID+"/input_items", "after=msg_1&limit=2&order=asc")

	err = client.Responses.Delete(ctx, storedID)
	var e *openai.Error
	if !errors.As(err, &e) || e.StatusCode != http.StatusNotFound || !strings.Contains(e.Message, "does not exist") {
		t.Errorf("Delete of a response the upstream does not have: %v", err)
	}
	checkStoredRequest(t, up.last(t), http.MethodDelete, "/v1/responses/"+storedID, "")

	n, err := client.Responses.InputTokens.Count(ctx, responses.InputTokenCountParams{Model: openai.String("gpt-4o"),
		Input: responses.InputTokenCountParamsInputUnion{OfString: openai.String("Say hi")}})
	if err != nil || n.InputTokens != 20 {
		t.Errorf("InputTokens.Count: %v %+v", err, n)
	}
	got := up.last(t)
	checkStoredRequest(t, got, http.MethodPost, "/v1/responses/input_tokens", "")
	if m := gjson.GetBytes(got.Body, "model").String(); m != "gpt-4o-2024-08-06" {
		t.Errorf("input_tokens model upstream = %q, want the upstream_model", m)
	}
}

func checkStoredRequest(t *testing.T, got received, method, path, query string) {
	t.Helper()
	if got.Method != method || got.Path != path || got.Query != query {
		t.Errorf("upstream got %s %s?%s, want %s %s?%s", got.Method, got.Path, got.Query, method, path, query)
	}
	if a := got.Header.Get("Authorization"); a != "Bearer sk-route-key-0123456789abcdef" {
		t.Errorf("upstream Authorization %q, want the route's key", a)
	}
	if v := got.Header.Get("X-Llmrouter-Model"); v != "" {
		t.Errorf("X-Llmrouter-Model reached the upstream: %q", v)
	}
}

// How a call that names no model is routed: the X-Llmrouter-Model header, else
// the one upstream (endpoint and key) serving the Responses API; several such
// upstreams, or none, is a 400 saying what to send, and a model routed to a
// translated upstream a 400 saying the route is stateless. Nothing reaches an
// upstream then.
func TestStoredResponseRouting(t *testing.T) {
	two := storedConfig + `
  - name: gpt-4o-eu
    provider: openai
    endpoint: {{UP}}/eu/v1
    api_key: sk-route-key-0123456789abcdef
`
	sameUpstream := storedConfig + `
  - name: gpt-4.1
    provider: openai
    endpoint: {{UP}}/v1/
    api_key: sk-route-key-0123456789abcdef
`
	anthropicOnly := "models:\n  - {name: claude, provider: anthropic, endpoint: {{UP}}}\n"
	tests := []struct {
		name, config, model string // model: the X-Llmrouter-Model header
		path                string // upstream path expected; "" for a refusal
		status              int
		message             string
	}{
		{"one Responses upstream", storedConfig, "", "/v1/responses/" + storedID, 200, ""},
		{"two models on one upstream", sameUpstream, "", "/v1/responses/" + storedID, 200, ""},
		{"several upstreams need the header", two, "", "", 400, "X-Llmrouter-Model"},
		{"the header picks one", two, "gpt-4o-eu", "/eu/v1/responses/" + storedID, 200, ""},
		{"a translated route is stateless", storedConfig, "claude", "", 400, "stateless"},
		{"no Responses upstream at all", anthropicOnly, "", "", 400, "stateless"},
		{"an unknown model", storedConfig, "nope", "", 404, "not configured"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := storedUpstream(t)
			rt := newRouter(t, tt.config, up.URL)
			var opts []option.RequestOption
			if tt.model != "" {
				opts = append(opts, option.WithHeader("X-Llmrouter-Model", tt.model))
			}
			_, err := openAIClient(rt.URL).Responses.Get(context.Background(), storedID, responses.ResponseGetParams{}, opts...)
			if tt.path != "" {
				if err != nil {
					t.Fatal(err)
				}
				checkStoredPath(t, up, tt.path)
				return
			}
			var e *openai.Error
			if !errors.As(err, &e) || e.StatusCode != tt.status || !strings.Contains(e.Message, tt.message) {
				t.Fatalf("error %v, want %d saying %q", err, tt.status, tt.message)
			}
			if n := len(up.requests()); n != 0 {
				t.Errorf("the upstream got %d requests", n)
			}
		})
	}
}

func checkStoredPath(t *testing.T, up *upstream, path string) {
	t.Helper()
	if got := up.last(t); got.Path != path {
		t.Errorf("upstream path %s, want %s", got.Path, path)
	}
}

// The token count of a model on a translated route, and ids that are not plain
// tokens, are refused before any upstream request.
func TestStoredResponseRefusals(t *testing.T) {
	up := storedUpstream(t)
	rt := newRouter(t, storedConfig, up.URL)
	_, err := openAIClient(rt.URL).Responses.InputTokens.Count(context.Background(), responses.InputTokenCountParams{
		Model: openai.String("claude"), Input: responses.InputTokenCountParamsInputUnion{OfString: openai.String("Say hi")}})
	var e *openai.Error
	if !errors.As(err, &e) || e.StatusCode != 400 || e.Param != "model" || !strings.Contains(e.Message, "input_tokens") {
		t.Errorf("input_tokens on a translated route: %v", err)
	}
	for _, path := range []string{"/v1/responses/resp%2F..%2Fx", "/v1/responses/resp.1/cancel", "/v1/responses/resp%20x"} {
		method := http.MethodGet
		if strings.HasSuffix(path, "/cancel") {
			method = http.MethodPost
		}
		req, _ := http.NewRequest(method, rt.URL+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s %s: %d, want 404", method, path, resp.StatusCode)
		}
	}
	if n := len(up.requests()); n != 0 {
		t.Errorf("the upstream got %d requests", n)
	}
}

// A Responses create on a Responses upstream passes through as bytes: the
// upstream gets the client's body with only the model rewritten (an item type
// and a member the router does not know included), and the client gets the
// upstream's bytes, events the router does not know (web search calls,
// annotations) included.
func TestResponsesPassthroughIsBytes(t *testing.T) {
	stream := fixture(t, "responses/openai-responses-stream-web-search.sse")
	for _, tt := range []struct {
		name   string
		stream bool
		answer []byte
	}{{"stream", true, stream}, {"nonstream", false, fixture(t, "responses/openai-responses-response-text.json")}} {
		t.Run(tt.name, func(t *testing.T) {
			handler := replay(200, "application/json", tt.answer)
			if tt.stream {
				handler = replaySSE(tt.answer)
			}
			up := newUpstream(t, handler)
			rt := newRouter(t, storedConfig, up.URL)
			body := `{"model":"gpt-4o","input":[{"type":"message","role":"user","content":"hi"},` +
				`{"type":"future_item","x":{"y":[1,2]}}],"future_member":{"a":1},"stream":` + map[bool]string{true: "true", false: "false"}[tt.stream] + `}`
			resp, got := post(t, rt.URL+"/v1/responses", body, map[string]string{"Authorization": "Bearer sk-client"})
			if resp.StatusCode != 200 || !bytes.Equal(got, tt.answer) {
				t.Errorf("client got %d, %d bytes; want the upstream's %d bytes as they were", resp.StatusCode, len(got), len(tt.answer))
			}
			want := strings.Replace(body, `"model":"gpt-4o"`, `"model":"gpt-4o-2024-08-06"`, 1)
			if sent := string(up.last(t).Body); sent != want {
				t.Errorf("upstream body\n got %s\nwant %s", sent, want)
			}
		})
	}
}
