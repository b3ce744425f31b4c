package gateway_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/llmrouter/llmrouter/internal/config"
	"github.com/llmrouter/llmrouter/internal/gateway"
	"github.com/llmrouter/llmrouter/internal/logging"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/tidwall/gjson"
)

// The retry policy of issue 4, proved against real fake upstreams: what is retried
// (on_status, network errors, first-byte timeouts, streams that fail before their
// first content event), what never is (client errors, streams past the commit
// point), and how long the router waits (backoff, Retry-After, the total deadline,
// a client that leaves). Timing is proved in fake time with testing/synctest.

// retryConfig routes gpt-4o to an OpenAI upstream and claude-x to an Anthropic one;
// an Anthropic client asking for gpt-4o (or an OpenAI client for claude-x) is
// translated. Backoffs are tiny so that the real-network tests stay fast.
const retryConfig = `
defaults:
  retry: {attempts: 3, initial_backoff: 1ms, max_backoff: 2ms, jitter: 0}
models:
  - name: gpt-4o
    provider: openai
    endpoint: {{UP}}/v1
    api_key: sk-model-key-0123456789abcdef
  - name: claude-x
    provider: anthropic
    endpoint: {{UP}}
    api_key: ant-model-key-0123456789abcdef
`

// Client request bodies.
const (
	chatReq        = `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`
	chatStreamReq  = `{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]}`
	msgsReq        = `{"model":"claude-x","max_tokens":64,"messages":[{"role":"user","content":"hi"}]}`
	msgsStreamReq  = `{"model":"claude-x","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"hi"}]}`
	msgsToOpenAI   = `{"model":"gpt-4o","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"hi"}]}`
	chatToAnthropc = `{"model":"claude-x","stream":true,"messages":[{"role":"user","content":"hi"}]}`
)

// OpenAI chat stream chunks.
const (
	oaRole  = `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}` + "\n\n"
	oaHello = `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Hello"},"finish_reason":null}]}` + "\n\n"
	oaStop  = `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}` + "\n\n"
	oaDone  = "data: [DONE]\n\n"
	oaError = `data: {"error":{"message":"The server is overloaded, try again","type":"server_error","param":null,"code":null}}` + "\n\n"
)

// Anthropic stream events.
const (
	antStart      = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"claude-x\",\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":3,\"output_tokens\":1}}}\n\n"
	antPing       = "event: ping\ndata: {\"type\": \"ping\"}\n\n"
	antBlockStart = "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
	antHello      = "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello\"}}\n\n"
	antBlockStop  = "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
	antMsgDelta   = "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":2}}\n\n"
	antStop       = "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"
	antOverloaded = "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n"
)

// scriptedUpstream answers attempt i (from 0) with steps[i]; the last step repeats.
func scriptedUpstream(t *testing.T, steps ...http.HandlerFunc) *upstream {
	t.Helper()
	var n atomic.Int32
	return newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		steps[min(i, len(steps)-1)](w, r)
	})
}

// sseChunks answers 200 with the given SSE chunks, flushing each; the handler then
// returns, which ends the body (cleanly or, without a terminal event, truncated).
func sseChunks(chunks ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		for _, c := range chunks {
			_, _ = io.WriteString(w, c)
			w.(http.Flusher).Flush()
		}
	}
}

// jsonReply answers status with a JSON body and extra header pairs.
func jsonReply(status int, body string, header ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

const (
	oaOverloaded503 = `{"error":{"message":"The engine is currently overloaded","type":"server_error","param":null,"code":null}}`
	oaRateLimited   = `{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}`
)

// deadAddr returns a URL whose port refuses connections: bound, then closed.
func deadAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := "http://" + ln.Addr().String()
	ln.Close()
	return addr
}

// observed serves a router's gateway on a second listener and signals served once
// per request after the handler returned, so the access-log line is written by then.
type observed struct {
	*httptest.Server
	served chan struct{}
}

func observe(t *testing.T, rt *router) *observed {
	t.Helper()
	o := &observed{served: make(chan struct{}, 128)}
	o.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() { o.served <- struct{}{} }()
		rt.gw.ServeHTTP(w, r)
	}))
	t.Cleanup(o.Close)
	return o
}

// waitServed waits for the handler of one request to return.
func (o *observed) waitServed(t *testing.T) {
	t.Helper()
	select {
	case <-o.served:
	case <-time.After(10 * time.Second): // a deadline on failure, not synchronisation
		t.Fatal("router handler did not return")
	}
}

// accessLines returns the access-log lines (msg "request") written so far, parsed.
func accessLines(t *testing.T, log string) []gjson.Result {
	t.Helper()
	var out []gjson.Result
	for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
		if line == "" {
			continue
		}
		if !gjson.Valid(line) {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if r := gjson.Parse(line); r.Get("msg").String() == "request" {
			out = append(out, r)
		}
	}
	return out
}

func TestRetryTransientStatusThenSuccess(t *testing.T) {
	tests := []struct {
		name, path, body string
		ok               http.HandlerFunc
	}{
		{"openai passthrough", "/v1/chat/completions", chatReq, replay(200, "application/json", fixture(t, "fixtures/openai-chat-response.json"))},
		{"anthropic client, openai upstream", "/v1/messages", strings.Replace(msgsReq, "claude-x", "gpt-4o", 1), replay(200, "application/json", fixture(t, "fixtures/openai-chat-response.json"))},
		{"anthropic passthrough", "/v1/messages", msgsReq, replay(200, "application/json", fixture(t, "fixtures/anthropic-messages-response.json"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fail := jsonReply(503, oaOverloaded503)
			up := scriptedUpstream(t, fail, fail, tt.ok)
			rt := newRouter(t, retryConfig, up.URL)
			resp, body := post(t, rt.URL+tt.path, tt.body, map[string]string{"X-Client-Header": "kept"})
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			if got := resp.Header.Get("X-Llmrouter-Attempts"); got != "3" {
				t.Errorf("X-Llmrouter-Attempts = %q, want 3", got)
			}
			reqs := up.requests()
			if len(reqs) != 3 {
				t.Fatalf("upstream saw %d attempts, want 3", len(reqs))
			}
			for i, r := range reqs[1:] {
				if d := cmp.Diff(string(reqs[0].Body), string(r.Body)); d != "" {
					t.Errorf("attempt %d body differs from attempt 1 (-first +this):\n%s", i+2, d)
				}
				if d := cmp.Diff(reqs[0].Header, r.Header); d != "" {
					t.Errorf("attempt %d headers differ (-first +this):\n%s", i+2, d)
				}
			}
		})
	}

	// The official SDK sees one successful answer and the attempt count.
	fail := jsonReply(503, oaOverloaded503)
	up := scriptedUpstream(t, fail, fail, replay(200, "application/json", fixture(t, "fixtures/openai-chat-response.json")))
	rt := newRouter(t, retryConfig, up.URL)
	var hr *http.Response
	c, err := openAIClient(rt.URL).Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model: "gpt-4o", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")},
	}, option.WithResponseInto(&hr))
	if err != nil {
		t.Fatal(err)
	}
	if c.Choices[0].Message.Content == "" || hr.Header.Get("X-Llmrouter-Attempts") != "3" {
		t.Errorf("content %q, attempts %q", c.Choices[0].Message.Content, hr.Header.Get("X-Llmrouter-Attempts"))
	}
}

// A 429 whose Retry-After does not fit in what is left of the total timeout goes
// back to the client at once, Retry-After included, without a second attempt.
func TestRetryAfterBeyondTotalReturns429(t *testing.T) {
	const cfg = `
defaults:
  timeouts: {total: 500ms}
  retry: {attempts: 3, initial_backoff: 1ms, max_backoff: 2ms}
models:
  - name: gpt-4o
    provider: openai
    endpoint: {{UP}}/v1
    api_key: sk-model-key-0123456789abcdef
  - name: claude-x
    provider: anthropic
    endpoint: {{UP}}
    api_key: ant-model-key-0123456789abcdef
`
	up := newUpstream(t, jsonReply(429, oaRateLimited, "Retry-After", "1", "X-Ratelimit-Remaining-Requests", "0"))
	rt := newRouter(t, cfg, up.URL)
	start := time.Now()
	resp, body := post(t, rt.URL+"/v1/chat/completions", chatReq, nil)
	if elapsed := time.Since(start); elapsed >= time.Second {
		t.Errorf("the 429 came back after %v: the router waited for Retry-After", elapsed)
	}
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "1" {
		t.Errorf("status %d Retry-After %q: %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	if gjson.GetBytes(body, "error.message").String() != "Rate limit reached" {
		t.Errorf("message not preserved: %s", body)
	}
	if n := len(up.requests()); n != 1 || resp.Header.Get("X-Llmrouter-Attempts") != "1" {
		t.Errorf("upstream saw %d attempts (header %q), want 1", n, resp.Header.Get("X-Llmrouter-Attempts"))
	}

	// Translated: re-enveloped for the Anthropic client, Retry-After kept.
	resp, body = post(t, rt.URL+"/v1/messages", strings.Replace(msgsReq, "claude-x", "gpt-4o", 1), nil)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "1" || gjson.GetBytes(body, "error.type").String() != "rate_limit_error" {
		t.Errorf("anthropic client: status %d Retry-After %q: %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
}

// retry-after-ms is honoured: with a one-hour backoff configured, only the 10ms hint
// lets the retry happen within the test's deadline.
func TestRetryAfterMsHonoured(t *testing.T) {
	const cfg = `
defaults:
  timeouts: {total: 2h}
  retry: {attempts: 2, initial_backoff: 1h, max_backoff: 1h}
models:
  - name: gpt-4o
    provider: openai
    endpoint: {{UP}}/v1
`
	up := scriptedUpstream(t, jsonReply(429, oaRateLimited, "Retry-After-Ms", "10"),
		replay(200, "application/json", fixture(t, "fixtures/openai-chat-response.json")))
	rt := newRouter(t, cfg, up.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var hr *http.Response
	_, err := openAIClient(rt.URL).Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model: "gpt-4o", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")},
	}, option.WithResponseInto(&hr))
	if err != nil {
		t.Fatalf("retry-after-ms not honoured (the router waited the 1h backoff?): %v", err)
	}
	if n := len(up.requests()); n != 2 || hr.Header.Get("X-Llmrouter-Attempts") != "2" {
		t.Errorf("upstream saw %d attempts, header %q; want 2", n, hr.Header.Get("X-Llmrouter-Attempts"))
	}
}

// 400, 401, 403, 404 and 422 mean the request itself is wrong: never retried, even
// when on_status lists them; status and message reach the client.
func TestClientErrorsNeverRetried(t *testing.T) {
	const cfg = `
defaults:
  retry: {attempts: 3, initial_backoff: 1ms, max_backoff: 2ms, on_status: [400, 401, 403, 404, 422, 503]}
models:
  - name: gpt-4o
    provider: openai
    endpoint: {{UP}}/v1
    api_key: sk-model-key-0123456789abcdef
`
	for _, status := range []int{400, 401, 403, 404, 422} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			msg := "refused with " + strconv.Itoa(status)
			up := newUpstream(t, jsonReply(status, `{"error":{"message":"`+msg+`","type":"invalid_request_error","param":null,"code":null}}`))
			rt := newRouter(t, cfg, up.URL)
			for _, stream := range []bool{false, true} {
				body := chatReq
				if stream {
					body = chatStreamReq
				}
				resp, got := post(t, rt.URL+"/v1/chat/completions", body, nil)
				if resp.StatusCode != status || gjson.GetBytes(got, "error.message").String() != msg {
					t.Errorf("stream=%v: status %d body %s", stream, resp.StatusCode, got)
				}
				if h := resp.Header.Get("X-Llmrouter-Attempts"); h != "1" {
					t.Errorf("stream=%v: X-Llmrouter-Attempts %q", stream, h)
				}
			}
			if n := len(up.requests()); n != 2 {
				t.Errorf("upstream saw %d requests for 2 client requests: a %d was retried", n, status)
			}
		})
	}
}

// Connection refused is retried `attempts` times when on_network_error is on, once
// when it is off; either way the client gets a 502 in its envelope.
func TestConnectionRefusedRetries(t *testing.T) {
	dead := deadAddr(t)
	for _, on := range []bool{true, false} {
		t.Run("on_network_error="+strconv.FormatBool(on), func(t *testing.T) {
			cfg := `
defaults:
  retry: {attempts: 3, initial_backoff: 1ms, max_backoff: 2ms, on_network_error: ` + strconv.FormatBool(on) + `}
models:
  - name: gpt-4o
    provider: openai
    endpoint: {{UP}}/v1
  - name: claude-x
    provider: anthropic
    endpoint: {{UP}}
`
			want := "1"
			if on {
				want = "3"
			}
			rt := newRouter(t, cfg, dead)
			o := observe(t, rt)
			for _, c := range []struct{ path, body, typ string }{
				{"/v1/chat/completions", chatReq, "server_error"},
				{"/v1/messages", msgsStreamReq, "api_error"},
			} {
				resp, body := post(t, o.URL+c.path, c.body, nil)
				o.waitServed(t)
				if resp.StatusCode != 502 || gjson.GetBytes(body, "error.type").String() != c.typ ||
					!strings.Contains(gjson.GetBytes(body, "error.message").String(), "upstream unreachable") {
					t.Errorf("%s: status %d body %s", c.path, resp.StatusCode, body)
				}
				if got := resp.Header.Get("X-Llmrouter-Attempts"); got != want {
					t.Errorf("%s: X-Llmrouter-Attempts = %q, want %s", c.path, got, want)
				}
			}
			for _, line := range accessLines(t, rt.log.String()) {
				if got := line.Get("attempts").String(); got != want {
					t.Errorf("access log attempts = %s, want %s: %s", got, want, line.Raw)
				}
			}
		})
	}
}

// An upstream that never sends its headers hits first_byte: 504, retried, and each
// attempt's upstream request is cancelled.
func TestFirstByteTimeoutRetried(t *testing.T) {
	const cfg = `
defaults:
  timeouts: {first_byte: 200ms}
  retry: {attempts: 2, initial_backoff: 1ms, max_backoff: 2ms}
models:
  - name: gpt-4o
    provider: openai
    endpoint: {{UP}}/v1
`
	cancelled := make(chan struct{}, 4)
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
		cancelled <- struct{}{}
	})
	rt := newRouter(t, cfg, up.URL)
	resp, body := post(t, rt.URL+"/v1/chat/completions", chatStreamReq, nil)
	if resp.StatusCode != 504 || !strings.Contains(gjson.GetBytes(body, "error.message").String(), "timed out") {
		t.Errorf("status %d body %s", resp.StatusCode, body)
	}
	if n := len(up.requests()); n != 2 || resp.Header.Get("X-Llmrouter-Attempts") != "2" {
		t.Errorf("upstream saw %d attempts (header %q), want 2", n, resp.Header.Get("X-Llmrouter-Attempts"))
	}
	for range 2 {
		select {
		case <-cancelled:
		case <-time.After(10 * time.Second):
			t.Fatal("an upstream request hanging before its headers was not cancelled")
		}
	}
}

// A stream that fails before its first content event is a failed attempt: retried,
// and the client sees one clean stream, the successful attempt's, with exactly one
// message_start / role chunk and no trace of the failure.
func TestStreamFailingBeforeContentIsRetried(t *testing.T) {
	fullOpenAI := oaRole + oaHello + oaStop + oaDone
	fullAnthropic := antStart + antBlockStart + antPing + antHello + antBlockStop + antMsgDelta + antStop
	tests := []struct {
		name, path, body string
		failed           http.HandlerFunc
		ok               http.HandlerFunc
		want             string // exact client bytes; empty: check counts only
		once             string // appears exactly once in the client's stream
	}{
		{"openai passthrough, in-band error after role chunk", "/v1/chat/completions", chatStreamReq,
			sseChunks(oaRole, oaError), sseChunks(fullOpenAI), fullOpenAI, `"role":"assistant"`},
		{"openai passthrough, cut after role chunk", "/v1/chat/completions", chatStreamReq,
			sseChunks(oaRole), sseChunks(fullOpenAI), fullOpenAI, `"role":"assistant"`},
		{"anthropic passthrough, overloaded after message_start and ping", "/v1/messages", msgsStreamReq,
			sseChunks(antStart, antPing, antBlockStart, antOverloaded), sseChunks(fullAnthropic), fullAnthropic, "event: message_start"},
		{"anthropic passthrough, cut after message_start", "/v1/messages", msgsStreamReq,
			sseChunks(antStart, antPing), sseChunks(fullAnthropic), fullAnthropic, "event: message_start"},
		{"anthropic client, openai upstream, in-band error after role chunk", "/v1/messages", msgsToOpenAI,
			sseChunks(oaRole, oaError), sseChunks(fullOpenAI), "", "event: message_start"},
		{"anthropic client, openai upstream, cut after role chunk", "/v1/messages", msgsToOpenAI,
			sseChunks(oaRole), sseChunks(fullOpenAI), "", "event: message_start"},
		{"openai client, anthropic upstream, overloaded after message_start", "/v1/chat/completions", chatToAnthropc,
			sseChunks(antStart, antPing, antOverloaded), sseChunks(fullAnthropic), "", `"role":"assistant"`},
		{"openai client, anthropic upstream, cut after message_start", "/v1/chat/completions", chatToAnthropc,
			sseChunks(antStart, antBlockStart), sseChunks(fullAnthropic), "", `"role":"assistant"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := scriptedUpstream(t, tt.failed, tt.ok)
			rt := newRouter(t, retryConfig, up.URL)
			resp, body := post(t, rt.URL+tt.path, tt.body, nil)
			got := string(body)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, got)
			}
			if n := len(up.requests()); n != 2 || resp.Header.Get("X-Llmrouter-Attempts") != "2" {
				t.Errorf("upstream saw %d attempts (header %q), want 2", n, resp.Header.Get("X-Llmrouter-Attempts"))
			}
			if tt.want != "" && got != tt.want {
				t.Errorf("client stream is not exactly the successful attempt's (-want +got):\n%s", cmp.Diff(tt.want, got))
			}
			if n := strings.Count(got, tt.once); n != 1 {
				t.Errorf("%q appears %d times, want once:\n%s", tt.once, n, got)
			}
			if strings.Contains(got, "error") || !strings.Contains(got, "Hello") {
				t.Errorf("client stream is not the clean successful one:\n%s", got)
			}
			end := "data: [DONE]\n\n"
			if strings.HasPrefix(tt.path, "/v1/messages") {
				end = antStop
			}
			if !strings.HasSuffix(got, end) {
				t.Errorf("stream does not end with %q:\n%s", end, got)
			}
		})
	}
}

// After the first content event nothing is retried: the client keeps what it got
// and the stream ends with exactly one in-band error event in its own protocol,
// never with [DONE] or message_stop.
func TestStreamFailingAfterContentIsNotRetried(t *testing.T) {
	tests := []struct {
		name, path, body string
		failed           http.HandlerFunc
		errEvent         string // prefix of the one in-band error event
		errType          string
	}{
		{"openai passthrough, in-band error", "/v1/chat/completions", chatStreamReq,
			sseChunks(oaRole, oaHello, oaError), `data: {"error":`, "server_error"},
		{"openai passthrough, cut", "/v1/chat/completions", chatStreamReq,
			sseChunks(oaRole, oaHello), `data: {"error":`, "server_error"},
		{"anthropic passthrough, overloaded", "/v1/messages", msgsStreamReq,
			sseChunks(antStart, antBlockStart, antHello, antOverloaded), "event: error\ndata: ", "overloaded_error"},
		{"anthropic client, openai upstream, in-band error", "/v1/messages", msgsToOpenAI,
			sseChunks(oaRole, oaHello, oaError), "event: error\ndata: ", "api_error"},
		{"anthropic client, openai upstream, cut", "/v1/messages", msgsToOpenAI,
			sseChunks(oaRole, oaHello), "event: error\ndata: ", "api_error"},
		{"openai client, anthropic upstream, overloaded", "/v1/chat/completions", chatToAnthropc,
			sseChunks(antStart, antBlockStart, antHello, antOverloaded), `data: {"error":`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := scriptedUpstream(t, tt.failed, sseChunks(oaRole, oaHello, oaStop, oaDone))
			rt := newRouter(t, retryConfig, up.URL)
			resp, body := post(t, rt.URL+tt.path, tt.body, nil)
			got := string(body)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, got)
			}
			if n := len(up.requests()); n != 1 {
				t.Errorf("upstream saw %d attempts: a stream past its first content event was retried", n)
			}
			if !strings.Contains(got, "Hello") {
				t.Errorf("content before the failure lost:\n%s", got)
			}
			if n := strings.Count(got, tt.errEvent); n != 1 {
				t.Errorf("%d in-band error events %q, want exactly 1:\n%s", n, tt.errEvent, got)
			}
			for _, normal := range []string{"[DONE]", "message_stop", `"finish_reason":"stop"`, "end_turn"} {
				if strings.Contains(got, normal) {
					t.Errorf("a failed stream carries the normal finish %q:\n%s", normal, got)
				}
			}
			last := got[strings.LastIndex(strings.TrimSuffix(got, "\n\n"), "\n\n")+2:]
			if !strings.HasPrefix(last, tt.errEvent) {
				t.Fatalf("the stream does not end with the error event: last event %q", last)
			}
			data := last[strings.Index(last, "data: ")+len("data: "):]
			if typ := gjson.Get(data, "error.type").String(); tt.errType != "" && typ != tt.errType {
				t.Errorf("error type %q, want %q: %s", typ, tt.errType, data)
			}
			if gjson.Get(data, "error.message").String() == "" {
				t.Errorf("error event without a message: %s", data)
			}
		})
	}
}

// A backoff wait ends the moment the client disconnects: the handler returns
// without a second attempt, even with a one-hour backoff configured.
func TestBackoffEndsWhenClientLeaves(t *testing.T) {
	const cfg = `
defaults:
  timeouts: {total: 2h}
  retry: {attempts: 3, initial_backoff: 1h, max_backoff: 1h}
models:
  - name: gpt-4o
    provider: openai
    endpoint: {{UP}}/v1
`
	attempted := make(chan struct{}, 4)
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		jsonReply(503, oaOverloaded503)(w, r)
		attempted <- struct{}{}
	})
	rt := newRouter(t, cfg, up.URL)
	o := observe(t, rt)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, o.URL+"/v1/chat/completions", strings.NewReader(chatReq))
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	<-attempted
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("client: %v", err)
	}
	o.waitServed(t)
	if n := len(up.requests()); n != 1 {
		t.Errorf("upstream saw %d attempts, want 1", n)
	}
	lines := accessLines(t, rt.log.String())
	if len(lines) != 1 || lines[0].Get("status").Int() != 499 || !strings.Contains(lines[0].Get("error").String(), "client went away") {
		t.Errorf("access log: %v", lines)
	}
}

// fakeUpstream is an in-memory upstream for synctest bubbles: it records when each
// attempt arrived (fake time) and answers with reply(n) for attempt n (from 1).
type fakeUpstream struct {
	mu     sync.Mutex
	start  time.Time
	at     []time.Duration
	bodies []string
	reply  func(n int) *http.Response
}

func (f *fakeUpstream) RoundTrip(req *http.Request) (*http.Response, error) {
	b, _ := io.ReadAll(req.Body)
	f.mu.Lock()
	f.at = append(f.at, time.Since(f.start))
	f.bodies = append(f.bodies, string(b))
	n := len(f.at)
	f.mu.Unlock()
	resp := f.reply(n)
	resp.Request = req
	return resp, nil
}

func fakeResponse(status int, body string, header ...string) *http.Response {
	h := http.Header{"Content-Type": {"application/json"}}
	for i := 0; i+1 < len(header); i += 2 {
		h.Set(header[i], header[i+1])
	}
	return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(strings.NewReader(body)), ContentLength: -1}
}

// bubbleGateway compiles yaml into a gateway whose upstream is rt. Called inside a
// synctest bubble, its timers (backoff, total deadline, idle) run in fake time.
func bubbleGateway(t *testing.T, yaml string, rt http.RoundTripper) *gateway.Gateway {
	t.Helper()
	cfg, err := config.Parse([]byte(yaml), "test.yaml")
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	g, err := gateway.New(cfg, logging.New(cfg.Logging, io.Discard, nil), gateway.WithTransport(rt))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// Backoff timing, in fake time: exponential waits, Retry-After and retry-after-ms
// winning over the backoff (and over max_backoff), and the total deadline deciding
// when waiting is pointless.
func TestBackoffTiming(t *testing.T) {
	ok := func() *http.Response {
		return fakeResponse(200, `{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}]}`)
	}
	tests := []struct {
		name    string
		retry   string
		reply   func(n int) *http.Response
		status  int
		at      []time.Duration // arrival of each attempt
		elapsed time.Duration   // until the client had its answer
		header  string          // Retry-After the client must see
	}{
		{"exponential backoff", "{attempts: 3, initial_backoff: 500ms, multiplier: 2, jitter: 0}",
			func(n int) *http.Response {
				if n < 3 {
					return fakeResponse(503, oaOverloaded503)
				}
				return ok()
			}, 200, []time.Duration{0, 500 * time.Millisecond, 1500 * time.Millisecond}, 1500 * time.Millisecond, ""},
		{"retry-after-ms wins over the backoff", "{attempts: 3, initial_backoff: 5s, max_backoff: 10s, jitter: 0}",
			func(n int) *http.Response {
				if n == 1 {
					return fakeResponse(429, oaRateLimited, "Retry-After-Ms", "10")
				}
				return ok()
			}, 200, []time.Duration{0, 10 * time.Millisecond}, 10 * time.Millisecond, ""},
		{"Retry-After wins over max_backoff", "{attempts: 3, initial_backoff: 100ms, max_backoff: 1s, jitter: 0}",
			func(n int) *http.Response {
				if n == 1 {
					return fakeResponse(429, oaRateLimited, "Retry-After", "3")
				}
				return ok()
			}, 200, []time.Duration{0, 3 * time.Second}, 3 * time.Second, ""},
		{"Retry-After ignored when respect_retry_after is off", "{attempts: 3, initial_backoff: 100ms, jitter: 0, respect_retry_after: false}",
			func(n int) *http.Response {
				if n == 1 {
					return fakeResponse(429, oaRateLimited, "Retry-After", "3")
				}
				return ok()
			}, 200, []time.Duration{0, 100 * time.Millisecond}, 100 * time.Millisecond, ""},
		{"Retry-After beyond the total deadline: the 429 goes back at once", "{attempts: 3, initial_backoff: 1ms, jitter: 0}",
			func(n int) *http.Response { return fakeResponse(429, oaRateLimited, "Retry-After", "1") },
			429, []time.Duration{0}, 0, "1"},
		{"a Retry-After too large for time.Duration goes back at once", "{attempts: 3, initial_backoff: 1ms, jitter: 0}",
			func(n int) *http.Response { return fakeResponse(429, oaRateLimited, "Retry-After", "99999999999") },
			429, []time.Duration{0}, 0, "99999999999"},
		{"a backoff that no longer fits ends the retries", "{attempts: 5, initial_backoff: 200ms, multiplier: 2, jitter: 0}",
			func(n int) *http.Response { return fakeResponse(503, oaOverloaded503) },
			503, []time.Duration{0, 200 * time.Millisecond}, 200 * time.Millisecond, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				cfg := "defaults:\n  timeouts: {total: 500ms}\n  retry: " + tt.retry + "\nmodels:\n  - {name: gpt-4o, provider: openai, endpoint: http://upstream.invalid/v1}\n"
				if tt.status == 200 {
					cfg = strings.Replace(cfg, "total: 500ms", "total: 1m", 1)
				}
				up := &fakeUpstream{start: time.Now(), reply: tt.reply}
				g := bubbleGateway(t, cfg, up)
				w := httptest.NewRecorder()
				g.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/v1/chat/completions", strings.NewReader(chatReq)))
				elapsed := time.Since(up.start)
				if w.Code != tt.status {
					t.Errorf("status %d, want %d: %s", w.Code, tt.status, w.Body)
				}
				if d := cmp.Diff(tt.at, up.at); d != "" {
					t.Errorf("attempt arrival times (-want +got):\n%s", d)
				}
				if elapsed != tt.elapsed {
					t.Errorf("answered after %v, want %v", elapsed, tt.elapsed)
				}
				if got := w.Header().Get("Retry-After"); got != tt.header {
					t.Errorf("Retry-After = %q, want %q", got, tt.header)
				}
				if got := w.Header().Get("X-Llmrouter-Attempts"); got != strconv.Itoa(len(tt.at)) {
					t.Errorf("X-Llmrouter-Attempts = %q, want %d", got, len(tt.at))
				}
				for i, b := range up.bodies {
					if b != up.bodies[0] {
						t.Errorf("attempt %d sent different bytes:\n%s\nvs\n%s", i+1, b, up.bodies[0])
					}
				}
			})
		})
	}
}

// In fake time: a client that leaves during a 20s backoff ends the wait at that
// instant, and no further attempt is made.
func TestBackoffInterruptedByClientInFakeTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := "defaults:\n  retry: {attempts: 3, initial_backoff: 20s, max_backoff: 20s, jitter: 0}\nmodels:\n  - {name: gpt-4o, provider: openai, endpoint: http://upstream.invalid/v1}\n"
		up := &fakeUpstream{start: time.Now(), reply: func(int) *http.Response { return fakeResponse(503, oaOverloaded503) }}
		g := bubbleGateway(t, cfg, up)
		ctx, cancel := context.WithCancel(context.Background())
		req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/v1/chat/completions", strings.NewReader(chatReq))
		done := make(chan struct{})
		go func() {
			defer close(done)
			g.ServeHTTP(httptest.NewRecorder(), req)
		}()
		time.Sleep(7 * time.Second) // fake time: the handler is 7s into its 20s backoff
		cancel()
		<-done
		if d := time.Since(up.start); d != 7*time.Second {
			t.Errorf("handler returned after %v, want 7s: the backoff did not end with the client", d)
		}
		if len(up.at) != 1 {
			t.Errorf("upstream saw %d attempts, want 1", len(up.at))
		}
	})
}
