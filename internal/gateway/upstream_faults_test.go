package gateway_test

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// TestUpstreamAnswerFaults extends the fault suite (TestFaults) with upstreams
// that answer, but not with an answer: a non-streaming body that stalls or breaks
// after its headers, an HTML error page, a redirect, an error body cut at the
// router's 1 MiB cap, a plain-text or foreign JSON error, and 2xx bodies that are
// no answer of the kind asked for. Same-protocol routes are the ones under test:
// translated routes never relayed such bodies. Every case checks what the client
// got (its own protocol's envelope, never the odd body) and how many attempts the
// upstream saw.
func TestUpstreamAnswerFaults(t *testing.T) {
	faults := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"non-stream body stalls after the headers", faultStallAfterHeaders},
		{"non-stream body reset after the headers", faultResetAfterHeaders},
		{"HTML 502 page", faultHTMLErrorPage},
		{"redirects", faultRedirect},
		{"error body over the 1 MiB cap", faultCutErrorBody},
		{"plain-text 404 from count_tokens (Ollama)", faultPlainTextCountTokens},
		{"JSON error of another shape", faultForeignJSONError},
		{"2xx that is not an answer", faultNotAnAnswer},
	}
	survived, ran := 0, 0
	for _, f := range faults {
		started := false
		ok := t.Run(f.name, func(t *testing.T) {
			started = true
			f.run(t)
		})
		if started {
			ran++
			if ok {
				survived++
			}
		}
	}
	t.Logf("answer faults survived %d/%d", survived, ran)
}

// clientCase is one same-protocol client of the suite.
type clientCase struct {
	name, path, body string
	anthropic        bool
}

var sameProtocolClients = []clientCase{
	{"openai", "/v1/chat/completions", chatReq, false},
	{"anthropic", "/v1/messages", msgsReq, true},
}

// A same-protocol upstream that sends its headers (with or without a
// Content-Length) and then nothing: no byte reached the client, so it gets a 504
// in its envelope after the idle timeout, the attempt is retried like a stream
// stalled before its commit point, and every upstream request is cancelled.
func faultStallAfterHeaders(t *testing.T) {
	for _, c := range sameProtocolClients {
		for _, length := range []string{"", "512"} {
			t.Run(c.name+"/content-length="+length, func(t *testing.T) {
				cancelled := newSignals()
				up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "application/json")
					if length != "" {
						w.Header().Set("Content-Length", length)
					}
					w.WriteHeader(http.StatusOK)
					w.(http.Flusher).Flush()
					waitCancelled(r, cancelled)
				})
				rt := newRouter(t, faultConfig("  timeouts: {idle: 200ms}\n"+quickRetry), up.URL)
				resp, body := post(t, rt.URL+c.path, c.body, nil)
				checkEnvelope(t, c.anthropic, resp, body, 504, "timed out")
				attemptsSeen(t, up, resp, 2)
				cancelled.expect(t, 2, "stalled upstream requests cancelled")
			})
		}
	}
}

func faultResetAfterHeaders(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "512")
		w.WriteHeader(http.StatusOK)
		resetConn(w) // flushes the headers, then resets
	})
	rt := newRouter(t, faultConfig(quickRetry), up.URL)
	resp, body := post(t, rt.URL+"/v1/chat/completions", chatReq, nil)
	checkEnvelope(t, false, resp, body, 502, "upstream connection failed")
	attemptsSeen(t, up, resp, 2)
}

// nginxBadGateway is the page nginx serves for a 502.
const nginxBadGateway = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"

func faultHTMLErrorPage(t *testing.T) {
	up := newUpstream(t, replay(502, "text/html", []byte(nginxBadGateway)))
	rt := newRouter(t, faultConfig(quickRetry), up.URL)
	for _, c := range sameProtocolClients {
		t.Run(c.name, func(t *testing.T) {
			before := len(up.requests())
			resp, body := post(t, rt.URL+c.path, c.body, nil)
			checkEnvelope(t, c.anthropic, resp, body, 502, "HTML page: 502 Bad Gateway")
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" || bytes.Contains(body, []byte("<")) {
				t.Errorf("the HTML page reached the client (%s): %s", ct, body)
			}
			if n := len(up.requests()) - before; n != 2 {
				t.Errorf("upstream saw %d attempts, want 2 (502 is retried)", n)
			}
		})
	}
}

// A redirect is neither followed nor relayed: the client would re-send its
// request where the upstream says. It is a 502, and no Location goes out.
func faultRedirect(t *testing.T) {
	for _, status := range []int{301, 302, 303, 307, 308} {
		for _, c := range []clientCase{sameProtocolClients[0], {"anthropic-stream", "/v1/messages", msgsStreamReq, true}} {
			t.Run(strconv.Itoa(status)+"/"+c.name, func(t *testing.T) {
				up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
					http.Redirect(w, r, "http://elsewhere.invalid/v1/steal?key=x", status)
				})
				rt := newRouter(t, faultConfig(quickRetry), up.URL)
				resp, body := post(t, rt.URL+c.path, c.body, nil)
				checkEnvelope(t, c.anthropic, resp, body, 502, "not an answer")
				if loc := resp.Header.Get("Location"); loc != "" || bytes.Contains(body, []byte("elsewhere")) {
					t.Errorf("the redirect target reached the client: Location %q, body %s", loc, body)
				}
				attemptsSeen(t, up, resp, 1)
			})
		}
	}
}

// An error body over the 1 MiB the router reads is not relayed cut (invalid JSON
// in the client's hands): the status is kept, the envelope says what happened.
func faultCutErrorBody(t *testing.T) {
	huge := `{"error":{"message":"` + strings.Repeat("x", 2<<20) + `","type":"server_error","param":null,"code":null}}`
	up := newUpstream(t, jsonReply(500, huge))
	rt := newRouter(t, faultConfig(quickRetry), up.URL)
	for _, c := range sameProtocolClients {
		t.Run(c.name, func(t *testing.T) {
			resp, body := post(t, rt.URL+c.path, c.body, nil)
			checkEnvelope(t, c.anthropic, resp, body, 500, "larger than 1048576 bytes")
			if len(body) > 4<<10 {
				t.Errorf("client received %d bytes of a cut error body", len(body))
			}
		})
	}
}

// Ollama's Anthropic-compatible API answers count_tokens with Go's plain-text
// 404 (recorded in testdata/ollama-real/v1_messages_count_tokens.*).
func faultPlainTextCountTokens(t *testing.T) {
	status, header := recordedHead(t, "ollama-real/v1_messages_count_tokens.headers")
	recorded := fixture(t, "ollama-real/v1_messages_count_tokens.body")
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		for name, v := range header {
			w.Header()[name] = v
		}
		w.WriteHeader(status)
		_, _ = w.Write(recorded)
	})
	rt := newRouter(t, faultConfig(quickRetry), up.URL)
	req := `{"model":"claude-x","messages":[{"role":"user","content":"Hi"}]}`
	resp, body := post(t, rt.URL+"/v1/messages/count_tokens", req, map[string]string{"Anthropic-Version": "2023-06-01"})
	checkEnvelope(t, true, resp, body, 404, "404 page not found")
	if typ := gjson.GetBytes(body, "error.type").String(); typ != "not_found_error" {
		t.Errorf("error type %q, want not_found_error", typ)
	}
	attemptsSeen(t, up, resp, 1)
	if p := up.last(t).Path; p != "/v1/messages/count_tokens" {
		t.Errorf("upstream path %q", p)
	}
}

// recordedHead parses a recorded status line and headers.
func recordedHead(t *testing.T, name string) (int, http.Header) {
	t.Helper()
	tp := textproto.NewReader(bufio.NewReader(bytes.NewReader(append(fixture(t, name), "\r\n"...))))
	line, err := tp.ReadLine()
	if err != nil {
		t.Fatal(err)
	}
	status, err := strconv.Atoi(strings.Fields(line)[1])
	if err != nil {
		t.Fatal(err)
	}
	h, err := tp.ReadMIMEHeader()
	if err != nil && err != io.EOF {
		t.Fatal(err)
	}
	return status, http.Header(h)
}

// FastAPI's default error body ({"detail": …}) is no OpenAI envelope: the client
// gets its message re-enveloped, the status kept.
func faultForeignJSONError(t *testing.T) {
	up := newUpstream(t, jsonReply(404, `{"detail":"Not Found"}`))
	rt := newRouter(t, faultConfig(quickRetry), up.URL)
	resp, body := post(t, rt.URL+"/v1/chat/completions", chatReq, nil)
	checkEnvelope(t, false, resp, body, 404, "Not Found")
	if gjson.GetBytes(body, "detail").Exists() {
		t.Errorf("the foreign body was relayed: %s", body)
	}
}

// A same-protocol 2xx is judged by its first bytes: it must be a JSON object, not
// the provider's error object, not an object of another kind, and, when it arrived
// whole, must carry the answer's main member. The provider's error answered with a
// 200 is handled as an in-band error before the commit point: its type gives the
// status, which on_status may retry.
func faultNotAnAnswer(t *testing.T) {
	anthropic529 := string(fixture(t, "fixtures/anthropic-error-529.json"))
	cases := []struct {
		name        string
		client      clientCase
		reply       http.HandlerFunc
		status      int
		msg         string
		attempts    int
		wantErrType string
	}{
		{"HTML page", sameProtocolClients[0], replay(200, "text/html", []byte("<!doctype html><title>Welcome</title>")), 502, "not a JSON object", 1, ""},
		{"SSE to a non-streaming request", sameProtocolClients[0], sseChunks(oaRole, oaHello, oaStop, oaDone), 502, "not a JSON object", 1, ""},
		{"JSON array", sameProtocolClients[0], jsonReply(200, `[]`), 502, "not a JSON object", 1, ""},
		{"object of another kind", sameProtocolClients[0], jsonReply(200, `{"object":"list","data":[]}`), 502, `object "list", want "chat.completion"`, 1, ""},
		{"object without choices", sameProtocolClients[0], jsonReply(200, `{"unexpected":true}`), 502, "no choices member", 1, ""},
		{"Anthropic object without content", sameProtocolClients[1], jsonReply(200, `{"unexpected":true}`), 502, "no content member", 1, ""},
		{"204 No Content", sameProtocolClients[0], func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }, 502, "empty body", 2, ""},
		{"OpenAI error with 200", sameProtocolClients[0], jsonReply(200, oaOverloaded503), 500, "currently overloaded", 2, "server_error"},
		{"Anthropic error with 200", sameProtocolClients[1], jsonReply(200, anthropic529), 529, "Overloaded", 2, "overloaded_error"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			up := newUpstream(t, c.reply)
			rt := newRouter(t, faultConfig(quickRetry), up.URL)
			resp, body := post(t, rt.URL+c.client.path, c.client.body, nil)
			checkEnvelope(t, c.client.anthropic, resp, body, c.status, c.msg)
			if c.wantErrType != "" && gjson.GetBytes(body, "error.type").String() != c.wantErrType {
				t.Errorf("error type %q, want %q", gjson.GetBytes(body, "error.type").String(), c.wantErrType)
			}
			attemptsSeen(t, up, resp, c.attempts)
		})
	}
}
