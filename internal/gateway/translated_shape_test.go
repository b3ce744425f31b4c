package gateway_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// A translated 200 that is not an answer of the upstream's protocol (another
// shape, or an error object with status 200) is the upstream's failure: the client
// gets a 502 in its own envelope, never a complete empty answer; the attempt is
// retried as a 502 from the upstream would be (on_status), and the access log says
// what failed.
func TestTranslatedWrongShapeIsBadGateway(t *testing.T) {
	const completionsToOllama = `{"model":"llama","prompt":"hi"}`
	tests := []struct {
		name, path, body string
		reply            string // the upstream's 200 body, every attempt
		anthropicClient  bool
	}{
		{"anthropic client, openai upstream, unexpected object", "/v1/messages",
			strings.Replace(msgsReq, "claude-x", "gpt-4o", 1), `{"unexpected":true}`, true},
		{"anthropic client, openai upstream, error object", "/v1/messages",
			strings.Replace(msgsReq, "claude-x", "gpt-4o", 1),
			`{"error":{"message":"The server is overloaded","type":"server_error","param":null,"code":null}}`, true},
		{"openai client, anthropic upstream, error object", "/v1/chat/completions",
			strings.Replace(chatReq, "gpt-4o", "claude-x", 1),
			`{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`, false},
		{"openai client, ollama upstream, unexpected object", "/v1/chat/completions",
			strings.Replace(chatReq, "gpt-4o", "llama", 1), `{"unexpected":true}`, false},
		{"completions client, ollama upstream, error object", "/v1/completions",
			completionsToOllama, `{"error":"model runner has unexpectedly stopped"}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := newUpstream(t, jsonReply(http.StatusOK, tt.reply))
			rt := newRouter(t, faultConfig(quickRetry), up.URL)
			resp, body := post(t, rt.URL+tt.path, tt.body, nil)
			checkEnvelope(t, tt.anthropicClient, resp, body, http.StatusBadGateway, "could not be translated")
			attemptsSeen(t, up, resp, 2)
			lines := accessLines(t, rt.log.String())
			if len(lines) == 0 {
				t.Fatal("no access log line")
			}
			last := lines[len(lines)-1]
			if last.Get("status").Int() != 502 || !strings.Contains(last.Get("error").String(), "could not be translated") {
				t.Errorf("access log line does not report the failure: %s", last.Raw)
			}
		})
	}
}

// The retry of a wrong-shape answer gets the real one.
func TestTranslatedWrongShapeRetriedThenAnswered(t *testing.T) {
	up := scriptedUpstream(t, jsonReply(http.StatusOK, `{"unexpected":true}`),
		replay(http.StatusOK, "application/json", fixture(t, "fixtures/openai-chat-response.json")))
	rt := newRouter(t, faultConfig(quickRetry), up.URL)
	resp, body := post(t, rt.URL+"/v1/messages", strings.Replace(msgsReq, "claude-x", "gpt-4o", 1), nil)
	if resp.StatusCode != http.StatusOK || gjson.GetBytes(body, "content.0.text").String() == "" {
		t.Fatalf("status %d, want the second attempt's answer: %s", resp.StatusCode, body)
	}
	attemptsSeen(t, up, resp, 2)
}

// A policy whose on_status leaves out 502 does not retry a wrong-shape answer.
func TestTranslatedWrongShapeNotRetriedWithout502(t *testing.T) {
	up := newUpstream(t, jsonReply(http.StatusOK, `{"unexpected":true}`))
	rt := newRouter(t, faultConfig("  retry: {attempts: 3, initial_backoff: 1ms, max_backoff: 2ms, on_status: [429]}\n"), up.URL)
	resp, body := post(t, rt.URL+"/v1/chat/completions", strings.Replace(chatReq, "gpt-4o", "claude-x", 1), nil)
	checkEnvelope(t, false, resp, body, http.StatusBadGateway, "could not be translated")
	attemptsSeen(t, up, resp, 1)
}

// A translated stream whose events are not the upstream protocol's ends in a 502
// (nothing had reached the client), not in a complete empty stream.
func TestTranslatedWrongShapeStreamIsBadGateway(t *testing.T) {
	up := newUpstream(t, sseChunks(`data: {"unexpected":true}`+"\n\n", oaDone))
	rt := newRouter(t, faultConfig(quickRetry), up.URL)
	resp, body := post(t, rt.URL+"/v1/messages", msgsToOpenAI, nil)
	checkEnvelope(t, true, resp, body, http.StatusBadGateway, "malformed stream event")
	if strings.Contains(string(body), "message_stop") {
		t.Errorf("a wrong-shape stream was answered as complete: %s", body)
	}
}
