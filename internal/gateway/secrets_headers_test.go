package gateway_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/llmrouter/llmrouter/internal/limit/redistest"
)

// headerEchoUpstream answers with the failure the model name asks for and echoes
// the credential it received in every header a failure may carry to the client:
// the retry hints (X-Should-Retry, as in the attack, Retry-After, Retry-After-Ms),
// rate-limit headers, a header whose name holds the key, and a redirect target. A
// "cut" failure is an error body over the router's 1 MiB cap with the key
// straddling the cut, so that only its first bytes fall inside.
func headerEchoUpstream(cu *canaryUpstream) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("X-Api-Key")
		if _, k, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok {
			key = k
		}
		cu.mu.Lock()
		cu.received[key] = true
		cu.mu.Unlock()
		h := w.Header()
		for _, name := range []string{"X-Should-Retry", "Retry-After", "Retry-After-Ms", "X-Ratelimit-Reset-Requests", "Anthropic-Ratelimit-Requests-Remaining"} {
			h.Set(name, key)
		}
		h.Add("X-Should-Retry", canaryHeaderKey)
		h.Set("X-Echo-"+key, "1")
		b, _ := io.ReadAll(r.Body)
		model := gjson.GetBytes(b, "model").String()
		msg := fmt.Sprintf("Incorrect API key provided: %s", key)
		switch model[strings.IndexByte(model, '-')+1:] {
		case "429":
			jsonReply(429, fmt.Sprintf(`{"error":{"message":%q,"type":"requests","param":null,"code":"rate_limit_exceeded"}}`, msg))(w, r)
		case "503":
			jsonReply(503, fmt.Sprintf(`{"type":"error","error":{"type":"overloaded_error","message":%q}}`, msg))(w, r)
		case "html":
			replay(502, "text/html", fmt.Appendf(nil, "<html><head><title>502 for %s</title></head><body>%s</body></html>", key, msg))(w, r)
		case "redirect":
			http.Redirect(w, r, "http://elsewhere.invalid/?key="+key, http.StatusTemporaryRedirect)
		case "cut":
			pad := strings.Repeat("x", 1<<20-len(`{"error":{"message":"`)-12)
			jsonReply(500, `{"error":{"message":"`+pad+key+`","type":"server_error"}}`)(w, r)
		}
	}
}

// No canary reaches the client in a header (name or value), nor in a body or a
// log line, when the upstream fails with headers that echo the key: an upstream
// 429 with X-Should-Retry: <key> (the attack as it was run), a 503, an HTML 502
// page, a redirect to a URL holding the key, an error body cut by the router's
// 1 MiB cap in the middle of the key (logged with max_body_bytes above the cap);
// same-protocol and translated, streaming and not, with the configured key and
// with the client's own key passed through.
func TestCanaryKeysNeverInErrorPathHeaders(t *testing.T) {
	for _, keyed := range []bool{true, false} {
		t.Run(fmt.Sprintf("keyed=%v", keyed), func(t *testing.T) {
			cu := &canaryUpstream{received: map[string]bool{}}
			up := newUpstream(t, headerEchoUpstream(cu))
			var redis *redistest.Server
			if keyed {
				redis = redistest.Start(t, redistest.WithPassword(canaryRedisPass))
			}
			cfg := strings.Replace(canaryConfig("json", keyed, deadAddr(t), redis), "  response_body: true\n", "  response_body: true\n  max_body_bytes: 4MiB\n", 1)
			rt := newRouter(t, cfg, up.URL)
			clientKey := canaryClientKey
			if keyed {
				clientKey = canaryRouterKey
			}
			for _, client := range []struct{ path, body, auth, scheme string }{
				{"/v1/chat/completions", `{"model":"%s","stream":%v,"messages":[{"role":"user","content":"hi"}]}`, "Authorization", "Bearer "},
				{"/v1/messages", `{"model":"%s","max_tokens":64,"stream":%v,"messages":[{"role":"user","content":"hi"}]}`, "X-Api-Key", ""},
			} {
				for _, provider := range []string{"gpt", "claude"} {
					for _, failure := range []string{"429", "503", "html", "redirect", "cut"} {
						for _, stream := range []bool{false, true} {
							model := provider + "-" + failure
							where := fmt.Sprintf("%s %s stream=%v", client.path, model, stream)
							hdr := map[string]string{client.auth: client.scheme + clientKey, "Anthropic-Version": "2023-06-01"}
							resp, body, err := tryPost(rt.URL+client.path, fmt.Sprintf(client.body, model, stream), hdr)
							if err != nil {
								t.Fatalf("%s: %v", where, err)
							}
							if resp.StatusCode < 400 {
								t.Errorf("%s: status %d for an upstream failure", where, resp.StatusCode)
							}
							for name, vs := range resp.Header {
								if l := leaks(name + ": " + strings.Join(vs, ", ")); l != nil {
									t.Errorf("%s: response header %s holds %q", where, name, l)
								}
							}
							if l := leaks(string(body)); l != nil {
								t.Errorf("%s: response body holds %q: %.300s", where, l, body)
							}
						}
					}
				}
			}
			if l := leaks(rt.log.String()); l != nil {
				t.Errorf("log holds %q", l)
			}
			want := canaryClientKey
			if keyed {
				want = canaryConfigKey
			}
			cu.mu.Lock()
			defer cu.mu.Unlock()
			if len(cu.received) != 1 || !cu.received[want] {
				t.Errorf("upstream received credentials %v, want only %s: the test would prove nothing", cu.received, want[:12])
			}
		})
	}
}
