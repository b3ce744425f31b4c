package gateway_test

import (
	"net/http"
	"strings"
	"testing"
)

// spoofingUpstream answers every request with the attack's headers: a Connection
// header naming the router's own headers (a proxy deletes what Connection names),
// spoofed router headers, and headers that would set state in the router's origin.
// Then it gives the answer, the error, or the stream the request asks for.
func spoofingUpstream(answer http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Connection", "X-Request-Id, X-Llmrouter-Attempts")
		h.Set("X-Request-Id", "upstream-chosen-id")
		h.Set("X-Llmrouter-Attempts", "99")
		h.Set("X-Llmrouter-Deployment", "spoofed")
		h.Set("Set-Cookie", "session=upstream; Path=/")
		h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		h.Set("Alt-Svc", `h3=":443"; ma=86400`)
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("X-Ratelimit-Remaining-Requests", "41")
		h.Set("X-Should-Retry", "true")
		answer(w, r)
	}
}

// The upstream cannot remove, replace or add router headers, nor set cookies,
// HSTS, Alt-Svc or CORS on the router's origin, on any path: same-protocol and
// translated, streaming and not, success and error. The rate-limit and retry
// hints the client's SDK reads still come through.
func TestRouterHeadersWinOverUpstream(t *testing.T) {
	canaryFixtures.openai = fixture(t, "fixtures/openai-chat-response.json")
	canaryFixtures.anthropic = fixture(t, "fixtures/anthropic-messages-response.json")
	oaOK := replay(200, "application/json", canaryFixtures.openai)
	antOK := replay(200, "application/json", canaryFixtures.anthropic)
	oaStream := sseChunks(oaRole, oaHello, oaStop, oaDone)
	antStream := sseChunks(antStart, antBlockStart, antHello, antBlockStop, antMsgDelta, antStop)
	rateLimited := jsonReply(429, oaRateLimited)
	cases := []struct {
		name, path, body string
		answer           http.HandlerFunc
		status           int
		translated       bool
	}{
		{"passthrough", "/v1/chat/completions", chatReq, oaOK, 200, false},
		{"passthrough stream", "/v1/chat/completions", chatStreamReq, oaStream, 200, false},
		{"translated", "/v1/chat/completions", strings.Replace(chatReq, "gpt-4o", "claude-x", 1), antOK, 200, true},
		{"translated stream", "/v1/chat/completions", chatToAnthropc, antStream, 200, true},
		{"passthrough error", "/v1/chat/completions", chatReq, rateLimited, 429, false},
		{"translated error", "/v1/messages", msgsToOpenAI, rateLimited, 429, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			up := newUpstream(t, spoofingUpstream(c.answer))
			rt := newRouter(t, faultConfig("  retry: {attempts: 1}\n"), up.URL)
			resp, body := post(t, rt.URL+c.path, c.body, map[string]string{"X-Request-Id": "client-trace-7"})
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, c.status, body)
			}
			h := resp.Header
			if got := h.Get("X-Request-Id"); got != "client-trace-7" {
				t.Errorf("X-Request-Id = %q, want the client's", got)
			}
			if got := h.Values("X-Llmrouter-Attempts"); len(got) != 1 || got[0] != "1" {
				t.Errorf("X-Llmrouter-Attempts = %q, want [1]", got)
			}
			want := "gpt-4o#1"
			if strings.Contains(c.body, "claude-x") {
				want = "claude-x#1"
			}
			if got := h.Values("X-Llmrouter-Deployment"); len(got) != 1 || got[0] != want {
				t.Errorf("X-Llmrouter-Deployment = %q, want the router's [%s]", got, want)
			}
			for _, name := range []string{"Set-Cookie", "Strict-Transport-Security", "Alt-Svc", "Access-Control-Allow-Origin"} {
				if v := h.Values(name); len(v) > 0 {
					t.Errorf("upstream header relayed: %s: %q", name, v)
				}
			}
			if got := h.Get("X-Ratelimit-Remaining-Requests"); got != "41" {
				t.Errorf("rate-limit header not relayed: %q", got)
			}
			if c.status != 200 && h.Get("X-Should-Retry") != "true" {
				t.Errorf("a well-formed X-Should-Retry was not relayed with the error")
			}
		})
	}
}
