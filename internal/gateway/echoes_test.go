package gateway_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// What an upstream echoes of the credentials it received is scrubbed from the
// client's response and the log, however it spells them. The fake upstreams echo
// the credential they received the way canaryUpstream does (the token, without
// its auth scheme), in an HTTP error. Each case failed once, before its fix.

// logEverything logs everything, as the canary test does.
const logEverything = `logging:
  level: debug
  format: json
  request_headers: true
  request_body: true
  response_body: true
defaults:
  retry: {attempts: 1}
`

// echoUpstream answers 401 with an OpenAI error whose message quotes every
// credential it received: the token of each Authorization value (scheme cut off),
// each X-Api-Key and X-Goog-Api-Key value, the token of Cf-Aig-Authorization, the ?key= query value,
// and the request URI.
func echoUpstream(t *testing.T) *upstream {
	return newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		var got []string
		for _, name := range []string{"Authorization", "Cf-Aig-Authorization"} {
			for _, v := range r.Header.Values(name) {
				if _, tok, ok := strings.Cut(v, " "); ok {
					v = tok
				}
				got = append(got, v)
			}
		}
		got = append(got, r.Header.Values("X-Api-Key")...)
		got = append(got, r.Header.Values("X-Goog-Api-Key")...)
		if k := r.URL.Query().Get("key"); k != "" {
			got = append(got, k)
		}
		msg := fmt.Sprintf("Incorrect API key(s) provided: %s (request %s)", strings.Join(got, ", "), r.URL.RequestURI())
		b, _ := json.Marshal(map[string]any{"error": map[string]any{
			"message": msg, "type": "invalid_request_error", "param": nil, "code": "invalid_api_key"}})
		jsonReply(401, string(b))(w, r)
	})
}

// assertNoLeak fails for every place (client body, client headers, log) where
// secret shows; the client body is also checked JSON-decoded.
func assertNoLeak(t *testing.T, secret string, resp *http.Response, body []byte, log string) {
	t.Helper()
	if strings.Contains(string(body), secret) {
		t.Errorf("response body sent to the client holds %q:\n%s", secret, body)
	} else if msg := decodedMessage(body); strings.Contains(msg, secret) {
		t.Errorf("response body sent to the client holds %q once JSON-decoded (as every SDK shows it):\n%s", secret, body)
	}
	for name, vs := range resp.Header {
		if v := strings.Join(vs, ", "); strings.Contains(v, secret) {
			t.Errorf("response header %s holds %q: %s", name, secret, v)
		}
	}
	if strings.Contains(log, secret) {
		t.Errorf("log holds %q:\n%s", secret, log)
	}
}

func decodedMessage(body []byte) string {
	var v struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	_ = json.Unmarshal(body, &v)
	return v.Error.Message
}

// Before its fix: a configured key with a character the upstream's JSON encoder escapes
// ('/' as `\/` by PHP and others, '+' as \u002B by .NET's System.Text.Json) is
// echoed in an upstream error. fail() scrubs the raw bytes, where the escaped form
// does not match, then decodes the message (re-enveloping for another protocol)
// and sends the key in clear; on a same-protocol route the escaped bytes go out
// and the client's JSON decoder turns them back into the key.
func TestJSONEscapedEchoOfConfiguredKeyScrubbed(t *testing.T) {
	for _, tc := range []struct{ key, escaped string }{
		{"sk-audit/CONFIGKEY/7f3a9c41d2e8b6a05f1c", `sk-audit\/CONFIGKEY\/7f3a9c41d2e8b6a05f1c`},
		{"sk-audit+CONFIGKEY+7f3a9c41d2e8b6a05f1c", `sk-audit\u002BCONFIGKEY\u002B7f3a9c41d2e8b6a05f1c`},
	} {
		for _, client := range []struct{ path, body string }{
			{"/v1/messages", `{"model":"gpt-x","max_tokens":8,"messages":[{"role":"user","content":"hi"}]}`},
			{"/v1/chat/completions", `{"model":"gpt-x","messages":[{"role":"user","content":"hi"}]}`},
		} {
			t.Run(tc.key[8:9]+client.path, func(t *testing.T) {
				up := newUpstream(t, jsonReply(401, `{"error":{"message":"Incorrect API key provided: `+tc.escaped+
					`.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`))
				rt := newRouter(t, logEverything+`models:
  - name: gpt-*
    provider: openai
    endpoint: {{UP}}/v1
    api_key: "`+tc.key+`"
`, up.URL)
				o := observe(t, rt)
				resp, body := post(t, o.URL+client.path, client.body, map[string]string{"Anthropic-Version": "2023-06-01"})
				o.waitServed(t)
				if resp.StatusCode != 401 {
					t.Fatalf("status %d: %s", resp.StatusCode, body)
				}
				assertNoLeak(t, tc.key, resp, body, rt.log.String())
			})
		}
	}
}

// clientKeyConfig has no key anywhere: the client's credential is forwarded.
const clientKeyConfig = logEverything + `models:
  - name: gpt-*
    provider: openai
    endpoint: {{UP}}/v1
  - name: claude-*
    provider: anthropic
    endpoint: {{UP}}
`

const echoChat = `{"model":"gpt-x","messages":[{"role":"user","content":"hi"}]}`

// Before its fix: a passthrough credential under an auth scheme other than Bearer
// (Authorization: Basic …, Token …) is recorded whole ("Basic dXNl…") as the
// credential to scrub, so an upstream echoing the token alone (as canaryUpstream
// does for Bearer) reaches the client and the log in clear.
func TestNonBearerPassthroughCredentialScrubbed(t *testing.T) {
	const token = "c2stYXVkaXQtQkFTSUNLRVktOWQyYzRhN2UxZjNiOGM2YTBlNWQ"
	for _, scheme := range []string{"Basic", "Token"} {
		t.Run(scheme, func(t *testing.T) {
			up := echoUpstream(t)
			rt := newRouter(t, clientKeyConfig, up.URL)
			o := observe(t, rt)
			resp, body := post(t, o.URL+"/v1/chat/completions", echoChat, map[string]string{"Authorization": scheme + " " + token})
			o.waitServed(t)
			if got := up.last(t).Header.Get("Authorization"); got != scheme+" "+token {
				t.Fatalf("upstream got Authorization %q: the test would prove nothing", got)
			}
			assertNoLeak(t, token, resp, body, rt.log.String())
		})
	}
}

// Before its fix: a client sending two credentials (Authorization: Bearer A and
// x-api-key: B, as Claude Code does with both ANTHROPIC_AUTH_TOKEN and
// ANTHROPIC_API_KEY set) has both forwarded on a same-protocol route
// (copyCredentials), but only A is recorded for scrubbing: an echo of B leaks.
func TestSecondPassthroughCredentialScrubbed(t *testing.T) {
	const bearer = "sk-audit-BEARERKEY-1a2b3c4d5e6f7a8b9c0d"
	const second = "sk-audit-SECONDKEY-9d2c4a7e1f3b8c6a0e5d"
	for _, client := range []struct{ path, body string }{
		{"/v1/chat/completions", echoChat},
		{"/v1/messages", `{"model":"claude-x","max_tokens":8,"messages":[{"role":"user","content":"hi"}]}`},
	} {
		t.Run(client.path, func(t *testing.T) {
			up := echoUpstream(t)
			rt := newRouter(t, clientKeyConfig, up.URL)
			o := observe(t, rt)
			resp, body := post(t, o.URL+client.path, client.body, map[string]string{
				"Authorization": "Bearer " + bearer, "X-Api-Key": second, "Anthropic-Version": "2023-06-01"})
			o.waitServed(t)
			if got := up.last(t).Header.Get("X-Api-Key"); got != second {
				t.Fatalf("upstream got X-Api-Key %q: the test would prove nothing", got)
			}
			assertNoLeak(t, bearer, resp, body, rt.log.String()) // passes: recorded
			assertNoLeak(t, second, resp, body, rt.log.String())
		})
	}
}

// Before its fix: x-goog-api-key (Gemini's key header) was forwarded as an ordinary client
// header, on keyed routes too, and never recorded for scrubbing. It is a credential
// header now: forwarded only in passthrough (same protocol), replaced on keyed
// routes, and scrubbed from what the upstream echoes either way.
func TestGoogAPIKeyHeaderIsACredential(t *testing.T) {
	const key = "AIzaSyAudit-GOOGKEY-3b8e1f9a2c7d4e6f0a5b"
	for name, tc := range map[string]struct {
		cfg       string
		forwarded bool
	}{
		"passthrough": {clientKeyConfig, true},
		"keyed route": {logEverything + "models:\n  - name: gpt-*\n    provider: openai\n    endpoint: {{UP}}/v1\n    api_key: sk-audit-CONFIGKEY-7f3a9c41d2e8b6a05f1c\n", false},
	} {
		t.Run(name, func(t *testing.T) {
			up := echoUpstream(t)
			rt := newRouter(t, tc.cfg, up.URL)
			o := observe(t, rt)
			resp, body := post(t, o.URL+"/v1/chat/completions", echoChat, map[string]string{"X-Goog-Api-Key": key})
			o.waitServed(t)
			if got := up.last(t).Header.Get("X-Goog-Api-Key"); (got == key) != tc.forwarded {
				t.Fatalf("upstream got X-Goog-Api-Key %q, want it forwarded: %v", got, tc.forwarded)
			}
			assertNoLeak(t, key, resp, body, rt.log.String())
		})
	}
}

// Before its fix: a header rule that carries a gateway token with its scheme, as
// Cloudflare AI Gateway (cf-aig-authorization: Bearer …) and Helicone
// (Helicone-Auth: Bearer …) require, registers the whole value "Bearer <token>" as
// the secret; an upstream echoing the token alone leaks it to client and log.
func TestHeaderRuleBearerTokenScrubbed(t *testing.T) {
	const token = "cf-audit-GATEWAYTOKEN-5e1a7c3b9d2f4a6c8e0b"
	up := echoUpstream(t)
	rt := newRouter(t, logEverything+`models:
  - name: gpt-*
    provider: openai
    endpoint: {{UP}}/v1
    api_key: sk-audit-CONFIGKEY-7f3a9c41d2e8b6a05f1c
    headers:
      force: {Cf-Aig-Authorization: "Bearer `+token+`"}
`, up.URL)
	o := observe(t, rt)
	resp, body := post(t, o.URL+"/v1/chat/completions", echoChat, nil)
	o.waitServed(t)
	if got := up.last(t).Header.Get("Cf-Aig-Authorization"); got != "Bearer "+token {
		t.Fatalf("upstream got %q: the test would prove nothing", got)
	}
	assertNoLeak(t, token, resp, body, rt.log.String())
}

// Before its fix: a passthrough client key in the query string (?key=, which the router
// forwards and whose log masking the README promises, along with "the same
// scrubbing" for upstream error bodies relayed to clients) is never recorded as a
// credential: an upstream error quoting the request URI or the key reaches the
// client unmasked, and a bare echo reaches the log.
func TestQueryStringKeyScrubbed(t *testing.T) {
	const key = "AIzaSyAudit-QUERYKEY-3b8e1f9a2c7d4e6f0a5b"
	up := echoUpstream(t)
	rt := newRouter(t, clientKeyConfig, up.URL)
	o := observe(t, rt)
	resp, body := post(t, o.URL+"/v1/chat/completions?key="+key, echoChat, nil)
	o.waitServed(t)
	if got := up.last(t).Query; got != "key="+key {
		t.Fatalf("upstream got query %q: the test would prove nothing", got)
	}
	assertNoLeak(t, key, resp, body, rt.log.String())
}

// Before its fix: with logging.request_body on, the request body is logged before the
// passthrough credential is known and the log sink is never told about it: a
// client whose body repeats its key (a user pasting it into a prompt, or a
// LiteLLM-style "api_key" body field) has the key written to the log in clear,
// although it is the very credential forwarded upstream. The response-body log of
// the same request is scrubbed of it (fail uses x.secrets), the request body is not.
func TestPassthroughKeyMaskedInLoggedRequestBody(t *testing.T) {
	const key = "sk-audit-CLIENTKEY-9d2c4a7e1f3b8c6a0e5d"
	up := newUpstream(t, replay(200, "application/json", fixture(t, "fixtures/openai-chat-response.json")))
	rt := newRouter(t, clientKeyConfig, up.URL)
	o := observe(t, rt)
	body := `{"model":"gpt-x","api_key":"` + key + `","messages":[{"role":"user","content":"why is ` + key + ` rejected?"}]}`
	resp, rb := post(t, o.URL+"/v1/chat/completions", body, map[string]string{"Authorization": "Bearer " + key})
	o.waitServed(t)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, rb)
	}
	if log := rt.log.String(); strings.Contains(log, key) {
		t.Errorf("log holds the forwarded passthrough key %q:\n%s", key, log)
	}
}

// Before its fix: an in-band stream error's "type" is relayed to a client of the same
// family unscrubbed (streamError scrubs only the message): an upstream that puts
// the credential it received into the type leaks it, before and after the commit.
func TestStreamErrorTypeScrubbed(t *testing.T) {
	const key = "sk-audit-CLIENTKEY-9d2c4a7e1f3b8c6a0e5d"
	inBand := `data: {"error":{"message":"bad key","type":"invalid_key:` + key + `","param":null,"code":null}}` + "\n\n"
	for name, chunks := range map[string][]string{"precommit": {oaRole, inBand}, "postcommit": {oaRole, oaHello, inBand}} {
		t.Run(name, func(t *testing.T) {
			up := newUpstream(t, sseChunks(chunks...))
			rt := newRouter(t, clientKeyConfig, up.URL)
			o := observe(t, rt)
			resp, body := post(t, o.URL+"/v1/chat/completions", `{"model":"gpt-x","stream":true,"messages":[{"role":"user","content":"hi"}]}`,
				map[string]string{"Authorization": "Bearer " + key})
			o.waitServed(t)
			assertNoLeak(t, key, resp, body, rt.log.String())
		})
	}
}
