package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2"
	aoption "github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/google/go-cmp/cmp"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/tidwall/gjson"
)

const passthroughConfig = `
models:
  - name: gpt-4o
    provider: openai
    endpoint: {{UP}}/v1
    upstream_model: gpt-4o-2024-08-06
    api_key: sk-model-key-0123456789abcdef
  - name: babbage-*
    provider: openai
    endpoint: {{UP}}/v1
    api_key: sk-model-key-0123456789abcdef
  - name: claude-sonnet-4
    provider: anthropic
    endpoint: {{UP}}
    upstream_model: claude-sonnet-4-20250514
    api_key: ant-model-key-0123456789abcdef
`

func openAIClient(base string) *openai.Client {
	c := openai.NewClient(option.WithBaseURL(base+"/v1"), option.WithAPIKey("sk-client-key-ffffffffffff"), option.WithMaxRetries(0))
	return &c
}

func anthropicClient(base string, opts ...aoption.RequestOption) *anthropic.Client {
	opts = append([]aoption.RequestOption{aoption.WithBaseURL(base), aoption.WithAPIKey("ant-client-key-ffffffffffff"), aoption.WithMaxRetries(0)}, opts...)
	c := anthropic.NewClient(opts...)
	return &c
}

func TestOpenAIChatPassthrough(t *testing.T) {
	up := newUpstream(t, replay(200, "application/json", fixture(t, "fixtures/openai-chat-response.json")))
	rt := newRouter(t, passthroughConfig, up.URL)
	client := openAIClient(rt.URL)
	resp, err := client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model:    "gpt-4o",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hello!")},
	}, option.WithJSONSet("x_unknown_field", map[string]any{"keep": []int{1, 2}}))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := resp.Choices[0].Message.Content, "Hello! How can I assist you today?"; got != want {
		t.Errorf("content = %q, want %q", got, want)
	}
	got := up.last(t)
	if got.Path != "/v1/chat/completions" {
		t.Errorf("upstream path = %q", got.Path)
	}
	if m := gjson.GetBytes(got.Body, "model").String(); m != "gpt-4o-2024-08-06" {
		t.Errorf("upstream model = %q, want the upstream_model rename", m)
	}
	if raw := gjson.GetBytes(got.Body, "x_unknown_field").Raw; raw != `{"keep":[1,2]}` {
		t.Errorf("unknown field not passed through untouched: %s", raw)
	}
	if a := got.Header.Get("Authorization"); a != "Bearer sk-model-key-0123456789abcdef" {
		t.Errorf("upstream Authorization = %q, want the model's key", a)
	}
}

func TestOpenAIChatStreamPassthroughByteExact(t *testing.T) {
	transcript := fixture(t, "fixtures/openai-chat-stream-usage.sse")
	up := newUpstream(t, replaySSE(transcript))
	rt := newRouter(t, passthroughConfig, up.URL)

	resp, body := post(t, rt.URL+"/v1/chat/completions", `{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"Say hi in Portuguese"}]}`, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if !bytes.Equal(body, transcript) {
		t.Errorf("stream not relayed byte for byte:\n%s", cmp.Diff(string(transcript), string(body)))
	}
	for k, want := range map[string]string{"Cache-Control": "no-cache", "X-Accel-Buffering": "no", "X-Llmrouter-Attempts": "1"} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if resp.Header.Get("X-Request-Id") == "" {
		t.Error("no X-Request-Id")
	}

	// The official SDK's accumulator rebuilds the same message.
	stream := openAIClient(rt.URL).Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{
		Model:         "gpt-4o",
		Messages:      []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Say hi in Portuguese")},
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	})
	acc := openai.ChatCompletionAccumulator{}
	for stream.Next() {
		acc.AddChunk(stream.Current())
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	want := sseText(t, transcript)
	if got := acc.Choices[0].Message.Content; got != want {
		t.Errorf("accumulated %q, want %q", got, want)
	}
	if acc.Usage.TotalTokens == 0 {
		t.Error("usage chunk lost")
	}
}

// sseText concatenates the delta contents of an OpenAI chat transcript.
func sseText(t *testing.T, transcript []byte) string {
	t.Helper()
	var sb strings.Builder
	for _, line := range strings.Split(string(transcript), "\n") {
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok || data == "[DONE]" {
			continue
		}
		sb.WriteString(gjson.Get(data, "choices.0.delta.content").String())
	}
	return sb.String()
}

func TestCompletionsStreamPassthrough(t *testing.T) {
	transcript := fixture(t, "fixtures/openai-completions-stream-usage.sse")
	up := newUpstream(t, replaySSE(transcript))
	rt := newRouter(t, passthroughConfig, up.URL)
	stream := openAIClient(rt.URL).Completions.NewStreaming(context.Background(), openai.CompletionNewParams{
		Model:  "babbage-002",
		Prompt: openai.CompletionNewParamsPromptUnion{OfString: openai.String("def fib(n):")},
	})
	var text strings.Builder
	finish := ""
	for stream.Next() {
		c := stream.Current()
		if len(c.Choices) > 0 {
			text.WriteString(c.Choices[0].Text)
			if c.Choices[0].FinishReason != "" {
				finish = string(c.Choices[0].FinishReason)
			}
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if text.Len() == 0 || finish != "length" {
		t.Errorf("text %q finish %q", text.String(), finish)
	}
	if got := up.last(t); got.Path != "/v1/completions" || gjson.GetBytes(got.Body, "model").String() != "babbage-002" {
		t.Errorf("upstream got %s model %s", got.Path, gjson.GetBytes(got.Body, "model"))
	}
}

func TestAnthropicPassthrough(t *testing.T) {
	up := newUpstream(t, replay(200, "application/json", fixture(t, "fixtures/anthropic-messages-response.json")))
	rt := newRouter(t, passthroughConfig, up.URL)
	msg, err := anthropicClient(rt.URL).Messages.New(context.Background(), anthropic.MessageNewParams{
		Model: "claude-sonnet-4", MaxTokens: 100,
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Say hi in Portuguese"))},
	}, aoption.WithHeader("anthropic-beta", "prompt-caching-2024-07-31"), aoption.WithQuery("beta", "true"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(msg.Content[0].Text, "Olá!") || msg.Usage.OutputTokens != 34 {
		t.Errorf("message %+v", msg)
	}
	got := up.last(t)
	checks := map[string]string{
		"path":           got.Path,
		"query":          got.Query,
		"x-api-key":      got.Header.Get("X-Api-Key"),
		"anthropic-beta": got.Header.Get("Anthropic-Beta"),
		"model":          gjson.GetBytes(got.Body, "model").String(),
	}
	want := map[string]string{
		"path": "/v1/messages", "query": "beta=true", "x-api-key": "ant-model-key-0123456789abcdef",
		"anthropic-beta": "prompt-caching-2024-07-31", "model": "claude-sonnet-4-20250514",
	}
	if d := cmp.Diff(want, checks); d != "" {
		t.Errorf("upstream request (-want +got):\n%s", d)
	}
	// The client's anthropic-version is forwarded as sent; without one the router
	// supplies the stable 2023-06-01.
	if v := got.Header.Get("Anthropic-Version"); v == "" {
		t.Error("anthropic-version not forwarded")
	}
	post(t, rt.URL+"/v1/messages", `{"model":"claude-sonnet-4","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`, nil)
	if v := up.last(t).Header.Get("Anthropic-Version"); v != "2023-06-01" {
		t.Errorf("default anthropic-version = %q", v)
	}
}

func TestAnthropicStreamPassthrough(t *testing.T) {
	for _, name := range []string{"anthropic-messages-stream-text.sse", "anthropic-messages-stream-parallel-tools.sse", "anthropic-messages-stream-thinking.sse"} {
		t.Run(name, func(t *testing.T) {
			transcript := fixture(t, "fixtures/"+name)
			up := newUpstream(t, replaySSE(transcript))
			rt := newRouter(t, passthroughConfig, up.URL)
			_, raw := post(t, rt.URL+"/v1/messages", `{"model":"claude-sonnet-4","max_tokens":10,"stream":true,"messages":[{"role":"user","content":"hi"}]}`, nil)
			if !bytes.Equal(raw, transcript) {
				t.Errorf("not byte-exact:\n%s", cmp.Diff(string(transcript), string(raw)))
			}
			stream := anthropicClient(rt.URL).Messages.NewStreaming(context.Background(), anthropic.MessageNewParams{
				Model: "claude-sonnet-4", MaxTokens: 100,
				Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hi"))},
			})
			msg := anthropic.Message{}
			for stream.Next() {
				if err := msg.Accumulate(stream.Current()); err != nil {
					t.Fatal(err)
				}
			}
			if err := stream.Err(); err != nil {
				t.Fatal(err)
			}
			if len(msg.Content) == 0 || msg.StopReason == "" {
				t.Errorf("accumulated message incomplete: %+v", msg)
			}
			if name == "anthropic-messages-stream-thinking.sse" {
				th := msg.Content[0]
				if th.Type != "thinking" || th.Signature == "" {
					t.Errorf("thinking block or signature lost: %+v", th)
				}
			}
		})
	}
}

func TestCountTokensPassthrough(t *testing.T) {
	up := newUpstream(t, replay(200, "application/json", []byte(`{"input_tokens":14}`)))
	rt := newRouter(t, passthroughConfig, up.URL)
	res, err := anthropicClient(rt.URL).Messages.CountTokens(context.Background(), anthropic.MessageCountTokensParams{
		Model:    "claude-sonnet-4",
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hi"))},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.InputTokens != 14 {
		t.Errorf("input_tokens = %d", res.InputTokens)
	}
	if got := up.last(t); got.Path != "/v1/messages/count_tokens" {
		t.Errorf("upstream path %q", got.Path)
	}
}

func TestHopByHopAndCredentialHeaders(t *testing.T) {
	up := newUpstream(t, replay(200, "application/json", fixture(t, "fixtures/openai-chat-response.json")))
	rt := newRouter(t, passthroughConfig, up.URL)
	req, _ := http.NewRequest("POST", rt.URL+"/v1/chat/completions", strings.NewReader(`{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`))
	req.Header.Set("Connection", "X-Secret-Hop, keep-alive")
	req.Header.Set("X-Secret-Hop", "must-not-pass")
	req.Header.Set("Keep-Alive", "timeout=5")
	req.Header.Set("Te", "trailers")
	req.Header.Set("Proxy-Authorization", "Basic Zm9vOmJhcg==")
	req.Header.Set("Upgrade", "h2c")
	req.Header.Set("X-Api-Key", "client-key-must-not-pass")
	req.Header.Set("Authorization", "Bearer client-key-must-not-pass")
	req.Header.Set("OpenAI-Organization", "org-123")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	h := up.last(t).Header
	for _, name := range []string{"X-Secret-Hop", "Keep-Alive", "Te", "Proxy-Authorization", "Upgrade", "X-Api-Key"} {
		if v := h.Get(name); v != "" {
			t.Errorf("%s forwarded: %q", name, v)
		}
	}
	if h.Get("Authorization") != "Bearer sk-model-key-0123456789abcdef" {
		t.Errorf("Authorization = %q", h.Get("Authorization"))
	}
	if h.Get("Openai-Organization") != "org-123" {
		t.Errorf("end-to-end header lost")
	}
}

func TestCredentialPassthrough(t *testing.T) {
	const cfg = `
models:
  - name: gpt-4o
    provider: openai
    endpoint: {{UP}}/v1
  - name: claude-x
    provider: anthropic
    endpoint: {{UP}}
`
	up := newUpstream(t, replay(200, "application/json", fixture(t, "fixtures/openai-chat-response.json")))
	rt := newRouter(t, cfg, up.URL)
	post(t, rt.URL+"/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`, map[string]string{"Authorization": "Bearer sk-user-own-key-123456"})
	if got := up.last(t).Header.Get("Authorization"); got != "Bearer sk-user-own-key-123456" {
		t.Errorf("openai client credential not forwarded: %q", got)
	}
	// Claude Code's OAuth token reaches Anthropic as it was sent.
	post(t, rt.URL+"/v1/messages", `{"model":"claude-x","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`, map[string]string{"Authorization": "Bearer oauth-token-abcdef123456", "anthropic-version": "2023-06-01"})
	h := up.last(t).Header
	if h.Get("Authorization") != "Bearer oauth-token-abcdef123456" || h.Get("X-Api-Key") != "" {
		t.Errorf("anthropic same-protocol credential changed: %v", h)
	}
}

func TestModelsHealthReady(t *testing.T) {
	rt := newRouter(t, passthroughConfig, "http://127.0.0.1:1")
	resp, err := http.Get(rt.URL + "/v1/models")
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Object string `json:"object"`
		Data   []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	var ids []string
	for _, d := range list.Data {
		ids = append(ids, d.ID)
	}
	if d := cmp.Diff([]string{"gpt-4o", "claude-sonnet-4"}, ids); d != "" || list.Object != "list" {
		t.Errorf("models (-want +got):\n%s", d)
	}
	page, err := anthropicClient(rt.URL).Models.List(context.Background(), anthropic.ModelListParams{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Data) != 2 || page.Data[1].ID != "claude-sonnet-4" {
		t.Errorf("anthropic models: %+v", page.Data)
	}
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200} {
		r, err := http.Get(rt.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != want {
			t.Errorf("%s = %d", path, r.StatusCode)
		}
	}
	rt.gw.Drain()
	r, _ := http.Get(rt.URL + "/readyz")
	r.Body.Close()
	if r.StatusCode != 503 {
		t.Errorf("draining /readyz = %d, want 503", r.StatusCode)
	}
}
