package gateway_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/tidwall/gjson"
)

// Body and header logging (logging.request_headers, request_body, response_body):
// what the access-log line says, parsed from its JSON.

const bodyLogConfig = `
logging:
  request_headers: true
  request_body: true
  response_body: true
  max_body_bytes: 200
defaults:
  retry: {attempts: 1}
models:
  - name: gpt-4o
    provider: openai
    endpoint: {{UP}}/v1
    api_key: sk-model-key-0123456789abcdef
  - name: claude-x
    provider: anthropic
    endpoint: {{UP}}
    api_key: ant-model-key-0123456789wxyz
`

// logged sends one request through an observed router and returns its access-log
// line, once the handler has returned.
func logged(t *testing.T, o *observed, rt *router, path, body string, header map[string]string) ([]byte, gjson.Result) {
	t.Helper()
	before := len(accessLines(t, rt.log.String()))
	_, got := post(t, o.URL+path, body, header)
	o.waitServed(t)
	lines := accessLines(t, rt.log.String())
	if len(lines) != before+1 {
		t.Fatalf("%d new access-log lines, want 1", len(lines)-before)
	}
	return got, lines[len(lines)-1]
}

func TestLogRequestHeadersMasked(t *testing.T) {
	up := newUpstream(t, replay(200, "application/json", fixture(t, "fixtures/openai-chat-response.json")))
	rt := newRouter(t, bodyLogConfig, up.URL)
	o := observe(t, rt)
	_, line := logged(t, o, rt, "/v1/chat/completions", chatReq, map[string]string{
		"Authorization": "Bearer sk-client-secret-0123456789-abcd",
		"X-Api-Key":     "xk-client-secret-0123456789-efgh",
		"Cookie":        "session=0123456789abcdef-ijkl",
		"X-Trace":       "visible-value",
	})
	want := map[string]string{
		"request_headers.Authorization":          "****abcd",
		"request_headers.X-Api-Key":              "****efgh",
		"request_headers.Cookie":                 "****ijkl",
		"request_headers.X-Trace":                "visible-value",
		"upstream_request_headers.Authorization": "****cdef", // the model's key, not the client's
		"upstream_request_headers.X-Trace":       "visible-value",
		"upstream_request_headers.Content-Type":  "application/json",
	}
	got := map[string]string{}
	for path := range want {
		got[path] = line.Get(strings.ReplaceAll(path, "-", `\-`)).String()
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("logged headers (-want +got):\n%s\nline: %s", d, line.Raw)
	}
	for _, secret := range []string{"sk-client-secret", "xk-client-secret", "0123456789abcdef", "sk-model-key"} {
		if strings.Contains(line.Raw, secret) {
			t.Errorf("log line holds %q: %s", secret, line.Raw)
		}
	}
	// At most the last 4 characters of a credential show.
	line.Get("request_headers").ForEach(func(k, v gjson.Result) bool {
		if s := v.String(); strings.HasPrefix(s, "****") && len(s) > 8 {
			t.Errorf("%s = %q shows more than 4 characters", k, s)
		}
		return true
	})
}

func TestLogRequestBodyTruncated(t *testing.T) {
	up := newUpstream(t, replay(200, "application/json", fixture(t, "fixtures/openai-chat-response.json")))
	rt := newRouter(t, bodyLogConfig, up.URL)
	o := observe(t, rt)
	body := `{"model":"gpt-4o","messages":[{"role":"user","content":"a` + strings.Repeat("é", 300) + `"}]}`
	if utf8.RuneStart(body[200]) {
		t.Fatal("test body must have a 2-byte character across byte 200")
	}
	_, line := logged(t, o, rt, "/v1/chat/completions", body, nil)
	got := line.Get("request_body").String()
	// Cutting at 200 bytes would split an é: the cut is at 199.
	kept := body[:199]
	if want := kept + "…(truncated " + strconv.Itoa(len(body)-len(kept)) + " bytes)"; got != want {
		t.Errorf("request_body:\n got %q\nwant %q", got, want)
	}

	_, line = logged(t, o, rt, "/v1/chat/completions", chatReq, nil)
	if got := line.Get("request_body").String(); got != chatReq {
		t.Errorf("short request_body = %q, want it whole", got)
	}
}

func TestLogResponseBodyNonStream(t *testing.T) {
	openAIBody := fixture(t, "fixtures/openai-chat-response.json")
	up := newUpstream(t, replay(200, "application/json", openAIBody))
	rt := newRouter(t, bodyLogConfig, up.URL)
	o := observe(t, rt)

	// Same protocol: the relayed bytes, cut at max_body_bytes with the count of
	// everything not shown. Byte 200 falls inside the word "role", whose kept
	// part goes too: a cut never shows part of a token (it could be a key's).
	_, line := logged(t, o, rt, "/v1/chat/completions", chatReq, nil)
	if string(openAIBody[197:201]) != "role" {
		t.Fatalf("fixture changed: bytes 197-200 are %q", openAIBody[197:201])
	}
	want := string(openAIBody[:197]) + "…(truncated " + strconv.Itoa(len(openAIBody)-197) + " bytes)"
	if got := line.Get("response_body").String(); got != want {
		t.Errorf("passthrough response_body:\n got %q\nwant %q", got, want)
	}

	// Translated: what the client got (an Anthropic message), not the upstream's body.
	client, line := logged(t, o, rt, "/v1/messages", strings.Replace(msgsReq, "claude-x", "gpt-4o", 1), nil)
	got := line.Get("response_body").String()
	if len(client) <= 200 {
		t.Fatalf("translated answer unexpectedly short: %s", client)
	}
	if !strings.HasPrefix(got, string(client[:190])) || !strings.Contains(got, "…(truncated ") || !strings.Contains(got, `"type":"message"`) {
		t.Errorf("translated response_body %q is not the client's answer %s", got, client)
	}
}

func TestLogResponseBodyShortPassthroughWhole(t *testing.T) {
	small := `{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}]}`
	up := newUpstream(t, replay(200, "application/json", []byte(small)))
	rt := newRouter(t, bodyLogConfig, up.URL)
	o := observe(t, rt)
	_, line := logged(t, o, rt, "/v1/chat/completions", chatReq, nil)
	if got := line.Get("response_body").String(); got != small {
		t.Errorf("response_body = %q, want the whole body", got)
	}
}

// A relayed body is kept only up to max_body_bytes as it streams through, and still
// cut on a character boundary with the count of every byte not shown.
func TestLogResponseBodyPassthroughCutOnCharacter(t *testing.T) {
	big := `{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"a` + strings.Repeat("é", 300) + `"},"finish_reason":"stop"}]}`
	if utf8.RuneStart(big[200]) {
		t.Fatal("test body must have a 2-byte character across byte 200")
	}
	up := newUpstream(t, replay(200, "application/json", []byte(big)))
	rt := newRouter(t, bodyLogConfig, up.URL)
	o := observe(t, rt)
	_, line := logged(t, o, rt, "/v1/chat/completions", chatReq, nil)
	want := big[:199] + "…(truncated " + strconv.Itoa(len(big)-199) + " bytes)"
	if got := line.Get("response_body").String(); got != want {
		t.Errorf("response_body:\n got %q\nwant %q", got, want)
	}
}

// A stream is logged as what it said (text, tool calls, finish), assembled from
// the events the client received, never as raw SSE.
func TestLogResponseBodyStream(t *testing.T) {
	const cfg = `
logging:
  response_body: true
  max_body_bytes: 64KiB
defaults:
  retry: {attempts: 1}
models:
  - name: gpt-4o
    provider: openai
    endpoint: {{UP}}/v1
    api_key: sk-model-key-0123456789abcdef
  - name: claude-x
    provider: anthropic
    endpoint: {{UP}}
    api_key: ant-model-key-0123456789wxyz
`
	tools := fixture(t, "fixtures/openai-chat-stream-tools.sse")
	text := sseText(t, tools)
	wantCall := map[string]any{"name": "get_weather", "arguments": map[string]any{"location": "Santorini, Greece"}}
	tests := []struct {
		name, path, body string
		upstream         []byte
		text             string
		finish           string
		call             map[string]any
	}{
		{"openai passthrough", "/v1/chat/completions", chatStreamReq, tools, text, "tool_calls", wantCall},
		{"anthropic client, openai upstream", "/v1/messages", msgsToOpenAI, tools, text, "tool_use", wantCall},
		{"anthropic passthrough", "/v1/messages", msgsStreamReq, fixture(t, "fixtures/anthropic-messages-stream-text.sse"), "Hello there!", "end_turn", nil},
		{"openai client, anthropic upstream", "/v1/chat/completions", chatToAnthropc, fixture(t, "fixtures/anthropic-messages-stream-text.sse"), "Hello there!", "stop", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := newUpstream(t, replaySSE(tt.upstream))
			rt := newRouter(t, cfg, up.URL)
			o := observe(t, rt)
			_, line := logged(t, o, rt, tt.path, tt.body, nil)
			rb := line.Get("response_body")
			if !rb.IsObject() {
				t.Fatalf("response_body is not an assembled object: %s", line.Raw)
			}
			if strings.Contains(rb.Raw, "data:") || strings.Contains(rb.Raw, "chat.completion.chunk") || strings.Contains(rb.Raw, "content_block_delta") {
				t.Errorf("raw events logged: %s", rb.Raw)
			}
			if got := rb.Get("text").String(); got != tt.text {
				t.Errorf("text = %q, want %q", got, tt.text)
			}
			if got := rb.Get("finish_reason").String(); got != tt.finish {
				t.Errorf("finish_reason = %q, want %q", got, tt.finish)
			}
			calls := rb.Get("tool_calls").Array()
			if tt.call == nil {
				if len(calls) != 0 {
					t.Errorf("unexpected tool calls: %s", rb.Raw)
				}
				return
			}
			if len(calls) != 1 {
				t.Fatalf("tool_calls: %s", rb.Raw)
			}
			var args map[string]any
			if err := json.Unmarshal([]byte(calls[0].Get("arguments").String()), &args); err != nil {
				t.Fatalf("arguments %q: %v", calls[0].Get("arguments").String(), err)
			}
			got := map[string]any{"name": calls[0].Get("name").String(), "arguments": args}
			if d := cmp.Diff(tt.call, got); d != "" {
				t.Errorf("tool call (-want +got):\n%s", d)
			}
			if calls[0].Get("id").String() == "" {
				t.Error("tool call without id")
			}
		})
	}
}

// With body logging off (the default) none of it reaches the log.
func TestBodyLoggingOffByDefault(t *testing.T) {
	up := newUpstream(t, replaySSE(fixture(t, "fixtures/openai-chat-stream-usage.sse")))
	rt := newRouter(t, streamConfig, up.URL)
	o := observe(t, rt)
	_, line := logged(t, o, rt, "/v1/chat/completions", chatStreamReq, map[string]string{"X-Trace": "v"})
	for _, k := range []string{"request_headers", "request_body", "response_body", "upstream_request_headers"} {
		if line.Get(k).Exists() {
			t.Errorf("%s logged with body logging off: %s", k, line.Raw)
		}
	}
}
