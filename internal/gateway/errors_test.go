package gateway_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/openai/openai-go/v3"
	"github.com/tidwall/gjson"
)

func TestClientErrorsInEnvelope(t *testing.T) {
	const cfg = `
server:
  max_request_bytes: 1KiB
models:
  - name: gpt-4o
    provider: openai
    endpoint: {{UP}}/v1
  - name: claude-x
    provider: anthropic
    endpoint: {{UP}}
`
	up := newUpstream(t, replay(200, "application/json", []byte(`{}`)))
	rt := newRouter(t, cfg, up.URL)
	big := `{"model":"gpt-4o","messages":[{"role":"user","content":"` + strings.Repeat("x", 2048) + `"}]}`
	tests := []struct {
		name, path, body string
		status           int
		typ              string // error type in the envelope
		contains         string
	}{
		{"unknown model openai", "/v1/chat/completions", `{"model":"nope","messages":[]}`, 404, "invalid_request_error", `model "nope" is not configured`},
		{"unknown model anthropic", "/v1/messages", `{"model":"nope","max_tokens":1,"messages":[]}`, 404, "not_found_error", `"nope"`},
		{"malformed json", "/v1/chat/completions", `{"model":`, 400, "invalid_request_error", "not a valid JSON"},
		{"malformed json anthropic", "/v1/messages", `[1,2]`, 400, "invalid_request_error", "not a valid JSON"},
		{"missing model", "/v1/chat/completions", `{"messages":[]}`, 400, "invalid_request_error", "model"},
		{"missing messages", "/v1/messages", `{"model":"claude-x","max_tokens":1}`, 400, "invalid_request_error", "messages"},
		{"missing prompt", "/v1/completions", `{"model":"gpt-4o"}`, 400, "invalid_request_error", "prompt"},
		{"too large", "/v1/chat/completions", big, 413, "invalid_request_error", "exceeds 1024 bytes"},
		{"too large anthropic", "/v1/messages", strings.Replace(big, "gpt-4o", "claude-x", 1), 413, "request_too_large", "exceeds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := post(t, rt.URL+tt.path, tt.body, nil)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			typ := gjson.GetBytes(body, "error.type").String()
			if strings.HasPrefix(tt.path, "/v1/messages") && gjson.GetBytes(body, "type").String() != "error" {
				t.Errorf("not an Anthropic envelope: %s", body)
			}
			if typ != tt.typ || !strings.Contains(gjson.GetBytes(body, "error.message").String(), tt.contains) {
				t.Errorf("body %s, want type %s containing %q", body, tt.typ, tt.contains)
			}
		})
	}
	if n := len(up.requests()); n != 0 {
		t.Errorf("upstream received %d requests for invalid input", n)
	}
}

func TestRouterAPIKeys(t *testing.T) {
	const cfg = `
server:
  api_keys: [router-key-0123456789]
models:
  - name: gpt-4o
    provider: openai
    endpoint: {{UP}}/v1
    api_key: sk-model-key-0123456789abcdef
  - name: claude-x
    provider: anthropic
    endpoint: {{UP}}
`
	up := newUpstream(t, replay(200, "application/json", fixture(t, "fixtures/openai-chat-response.json")))
	rt := newRouter(t, cfg, up.URL)
	body := `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`
	resp, b := post(t, rt.URL+"/v1/chat/completions", body, nil)
	if resp.StatusCode != 401 || gjson.GetBytes(b, "error.code").String() != "invalid_api_key" {
		t.Errorf("no key: %d %s", resp.StatusCode, b)
	}
	resp, b = post(t, rt.URL+"/v1/messages", `{"model":"claude-x","max_tokens":1,"messages":[]}`, map[string]string{"x-api-key": "wrong-key-zzzzzzzz"})
	if resp.StatusCode != 401 || gjson.GetBytes(b, "error.type").String() != "authentication_error" {
		t.Errorf("wrong key: %d %s", resp.StatusCode, b)
	}
	for _, h := range []map[string]string{{"Authorization": "Bearer router-key-0123456789"}, {"x-api-key": "router-key-0123456789"}} {
		resp, b = post(t, rt.URL+"/v1/chat/completions", body, h)
		if resp.StatusCode != 200 {
			t.Errorf("with %v: %d %s", h, resp.StatusCode, b)
		}
		if got := up.last(t).Header.Get("Authorization"); got != "Bearer sk-model-key-0123456789abcdef" {
			t.Errorf("router key leaked upstream or model key missing: %q", got)
		}
	}
	// A model without api_key behind router keys: the router key is not forwarded.
	post(t, rt.URL+"/v1/messages", `{"model":"claude-x","max_tokens":1,"messages":[{"role":"user","content":"hi"}]}`, map[string]string{"x-api-key": "router-key-0123456789"})
	if h := up.last(t).Header; h.Get("X-Api-Key") != "" || h.Get("Authorization") != "" {
		t.Errorf("router key forwarded upstream: %v", h)
	}
}

func TestUpstreamErrorsKeepStatusAndMessage(t *testing.T) {
	const cfg = `
defaults:
  retry: {attempts: 1}
models:
  - name: gpt-4o
    provider: openai
    endpoint: {{UP}}/v1
    api_key: sk-live-secretkey-0123456789
  - name: claude-x
    provider: anthropic
    endpoint: {{UP}}
    api_key: sk-live-secretkey-0123456789
`
	echo := []byte(`{"error":{"message":"Incorrect API key provided: sk-live-secretkey-0123456789. Check it.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`)
	up := newUpstream(t, replay(401, "application/json", echo))
	rt := newRouter(t, cfg, up.URL)
	_, err := openAIClient(rt.URL).Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model: "gpt-4o", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")},
	})
	var oe *openai.Error
	if !errors.As(err, &oe) || oe.StatusCode != 401 {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(oe.Message, "secretkey") || !strings.Contains(oe.Message, "Incorrect API key provided") {
		t.Errorf("message %q: key must be cut, rest kept", oe.Message)
	}
	if strings.Contains(rt.log.String(), "sk-live-secretkey") {
		t.Error("key in log")
	}
}

func TestUpstreamUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close() // connections to it are now refused
	const cfg = `
defaults:
  retry: {attempts: 2, initial_backoff: 1ms, max_backoff: 2ms}
models:
  - name: claude-x
    provider: anthropic
    endpoint: {{UP}}
    api_key: ant-secret-key-0123456789
`
	rt := newRouter(t, cfg, dead)
	_, err = anthropicClient(rt.URL).Messages.New(context.Background(), anthropic.MessageNewParams{
		Model: "claude-x", MaxTokens: 10, Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hi"))},
	})
	var ae *anthropic.Error
	if !errors.As(err, &ae) || ae.StatusCode != 502 {
		t.Fatalf("err = %v", err)
	}
	if got := ae.Response.Header.Get("X-Llmrouter-Attempts"); got != "2" {
		t.Errorf("attempts = %q, want 2", got)
	}
	if strings.Contains(ae.RawJSON(), "ant-secret") || strings.Contains(rt.log.String(), "ant-secret") {
		t.Error("key leaked in error body or log")
	}
	if gjson.Get(ae.RawJSON(), "error.type").String() != "api_error" {
		t.Errorf("body %s", ae.RawJSON())
	}
}

func TestUnknownRouteIs404(t *testing.T) {
	rt := newRouter(t, passthroughConfig, "http://127.0.0.1:1")
	resp, err := http.Get(rt.URL + "/v1/nothing")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("status %d", resp.StatusCode)
	}
}

// A body nested deeper than the router accepts is a 400, never a stack exhaustion in
// the JSON validator (which recurses per level).
func TestDeepNestingRejected(t *testing.T) {
	up := newUpstream(t, replay(200, "application/json", []byte(`{}`)))
	rt := newRouter(t, passthroughConfig, up.URL)
	body := `{"model":"gpt-4o","messages":[],"x":` + strings.Repeat("[", 1<<20) + strings.Repeat("]", 1<<20) + `}`
	resp, b := post(t, rt.URL+"/v1/chat/completions", body, nil)
	if resp.StatusCode != 400 || !strings.Contains(gjson.GetBytes(b, "error.message").String(), "deeper than 512") {
		t.Errorf("status %d: %s", resp.StatusCode, b)
	}
	if n := len(up.requests()); n != 0 {
		t.Errorf("upstream received %d requests", n)
	}
}
