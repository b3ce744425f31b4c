package gateway_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"
)

// TestFaults is the fault-injection suite: every way an upstream or a client can
// misbehave, each case asserting what the client saw, how many attempts the
// upstream saw, that the upstream request was cancelled when it should be, and
// (through goleak in TestMain) that nothing leaks. SIGTERM mid-stream is covered
// end to end, against the real binary, by TestSIGTERMDuringStream in
// cmd/llmrouter/main_test.go.
func TestFaults(t *testing.T) {
	faults := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"hang before headers", faultHangBeforeHeaders},
		{"reset before headers", faultResetBeforeHeaders},
		{"stall before the first content event", faultStallBeforeContent},
		{"overloaded before content on every attempt", faultOverloadedEveryAttempt},
		{"reset mid-stream", faultResetMidStream},
		{"stall mid-stream beyond idle", faultStallMidStream},
		{"total timeout mid-stream", faultTotalTimeoutMidStream},
		{"non-stream body cut", faultBodyCut},
		{"malformed SSE, translated route", faultMalformedSSETranslated},
		{"malformed SSE, passthrough route", faultMalformedSSEPassthrough},
		{"malformed NDJSON, ollama route", faultMalformedNDJSON},
		{"8 MB SSE line", faultHugeLine},
		{"429 with Retry-After", fault429},
		{"503, 503, 200", fault503Twice},
		{"connection refused", faultRefused},
		{"slow-reading client", faultSlowClient},
		{"slow-reading client, non-stream answer", faultSlowClientNonStream},
		{"client disconnect while waiting for headers", faultClientLeavesBeforeHeaders},
		{"client disconnect mid-stream", faultClientLeavesMidStream},
		{"client disconnect during a backoff wait", faultClientLeavesDuringBackoff},
	}
	survived, ran := 0, 0
	for _, f := range faults {
		started := false
		ok := t.Run(f.name, func(t *testing.T) {
			started = true
			f.run(t)
		})
		if started { // not filtered out by -run
			ran++
			if ok {
				survived++
			}
		}
	}
	t.Logf("faults survived %d/%d (SIGTERM mid-stream: see cmd/llmrouter TestSIGTERMDuringStream)", survived, ran)
}

// faultConfig is the models of the suite under the given defaults block.
func faultConfig(defaults string) string {
	return "defaults:\n" + defaults + `
models:
  - name: gpt-4o
    provider: openai
    endpoint: {{UP}}/v1
    api_key: sk-model-key-0123456789abcdef
  - name: claude-x
    provider: anthropic
    endpoint: {{UP}}
    api_key: ant-model-key-0123456789abcdef
  - name: llama
    provider: ollama
    endpoint: {{UP}}
`
}

const quickRetry = "  retry: {attempts: 2, initial_backoff: 1ms, max_backoff: 2ms}\n"

// signals is a buffered channel an upstream handler reports on without blocking.
type signals chan struct{}

func newSignals() signals { return make(signals, 16) }

func (s signals) send() {
	select {
	case s <- struct{}{}:
	default:
	}
}

// expect waits for n reports, failing after a generous deadline.
func (s signals) expect(t *testing.T, n int, what string) {
	t.Helper()
	for i := range n {
		select {
		case <-s:
		case <-time.After(10 * time.Second): // a deadline on failure, not synchronisation
			t.Fatalf("%s: got %d of %d", what, i, n)
		}
	}
}

// waitCancelled blocks an upstream handler until its request is cancelled by the
// router, and reports it.
func waitCancelled(r *http.Request, cancelled signals) {
	<-r.Context().Done()
	cancelled.send()
}

// resetConn hijacks the upstream's connection and resets it (RST, no FIN).
func resetConn(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(err)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// checkEnvelope asserts an HTTP error in the client protocol's envelope.
func checkEnvelope(t *testing.T, anthropicClient bool, resp *http.Response, body []byte, status int, msg string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Errorf("status %d, want %d: %s", resp.StatusCode, status, body)
	}
	if anthropicClient && gjson.GetBytes(body, "type").String() != "error" {
		t.Errorf("not an Anthropic error envelope: %s", body)
	}
	if m := gjson.GetBytes(body, "error.message").String(); !strings.Contains(m, msg) {
		t.Errorf("error message %q does not say %q: %s", m, msg, body)
	}
	if gjson.GetBytes(body, "error.type").String() == "" {
		t.Errorf("error without a type: %s", body)
	}
}

// checkInBand asserts a stream that delivered content and then ended with exactly
// one in-band error event in the client's protocol, and no normal finish.
func checkInBand(t *testing.T, anthropicClient bool, resp *http.Response, body []byte, content, msg string) {
	t.Helper()
	got := string(body)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, got)
	}
	if !strings.Contains(got, content) {
		t.Errorf("content %q delivered before the failure is missing:\n%.2000s", content, got)
	}
	errEvent := `data: {"error":`
	if anthropicClient {
		errEvent = "event: error\ndata: "
	}
	if n := strings.Count(got, errEvent); n != 1 {
		t.Errorf("%d in-band error events, want 1:\n%.2000s", n, got)
	}
	for _, normal := range []string{"[DONE]", "message_stop"} {
		if strings.Contains(got, normal) {
			t.Errorf("failed stream carries the normal finish %q", normal)
		}
	}
	last := got[strings.LastIndex(got, errEvent):]
	data := strings.TrimSpace(last[strings.Index(last, "data: ")+len("data: "):])
	if m := gjson.Get(data, "error.message").String(); !strings.Contains(m, msg) {
		t.Errorf("in-band error %s does not say %q", data, msg)
	}
	if !strings.HasSuffix(got, "\n\n") || strings.Contains(last[len(errEvent):], "\n\ndata:") {
		t.Errorf("the error event is not the last event: %q", last)
	}
}

func attemptsSeen(t *testing.T, up *upstream, resp *http.Response, want int) {
	t.Helper()
	if n := len(up.requests()); n != want {
		t.Errorf("upstream saw %d attempts, want %d", n, want)
	}
	if h := resp.Header.Get("X-Llmrouter-Attempts"); h != fmt.Sprint(want) {
		t.Errorf("X-Llmrouter-Attempts = %q, want %d", h, want)
	}
}

func faultHangBeforeHeaders(t *testing.T) {
	cancelled := newSignals()
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) { waitCancelled(r, cancelled) })
	rt := newRouter(t, faultConfig("  timeouts: {first_byte: 200ms}\n"+quickRetry), up.URL)
	resp, body := post(t, rt.URL+"/v1/messages", msgsStreamReq, nil)
	checkEnvelope(t, true, resp, body, 504, "timed out")
	attemptsSeen(t, up, resp, 2)
	cancelled.expect(t, 2, "upstream requests cancelled")
	resp, body = post(t, rt.URL+"/v1/chat/completions", chatReq, nil)
	checkEnvelope(t, false, resp, body, 504, "timed out")
	cancelled.expect(t, 2, "upstream requests cancelled")
}

func faultResetBeforeHeaders(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) { resetConn(w) })
	rt := newRouter(t, faultConfig(quickRetry), up.URL)
	resp, body := post(t, rt.URL+"/v1/chat/completions", chatStreamReq, nil)
	checkEnvelope(t, false, resp, body, 502, "upstream unreachable")
	attemptsSeen(t, up, resp, 2)
}

// Silence before the commit point is a failed attempt: retried, and in the end an
// HTTP 504, not a stream with an in-band error.
func faultStallBeforeContent(t *testing.T) {
	cancelled := newSignals()
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		sseChunks(oaRole)(w, r)
		waitCancelled(r, cancelled)
	})
	rt := newRouter(t, faultConfig("  timeouts: {idle: 200ms}\n"+quickRetry), up.URL)
	resp, body := post(t, rt.URL+"/v1/messages", msgsToOpenAI, nil)
	checkEnvelope(t, true, resp, body, 504, "timed out")
	attemptsSeen(t, up, resp, 2)
	cancelled.expect(t, 2, "stalled upstream requests cancelled")
}

func faultOverloadedEveryAttempt(t *testing.T) {
	up := newUpstream(t, sseChunks(antStart, antPing, antOverloaded))
	rt := newRouter(t, faultConfig(quickRetry), up.URL)
	resp, body := post(t, rt.URL+"/v1/messages", msgsStreamReq, nil)
	checkEnvelope(t, true, resp, body, 529, "Overloaded")
	if typ := gjson.GetBytes(body, "error.type").String(); typ != "overloaded_error" {
		t.Errorf("error type %q, want overloaded_error", typ)
	}
	attemptsSeen(t, up, resp, 2)
}

func faultResetMidStream(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		sseChunks(oaRole, oaHello)(w, r)
		resetConn(w)
	})
	rt := newRouter(t, faultConfig(quickRetry), up.URL)
	resp, body := post(t, rt.URL+"/v1/chat/completions", chatStreamReq, nil)
	checkInBand(t, false, resp, body, "Hello", "upstream connection failed mid-stream")
	attemptsSeen(t, up, resp, 1)
}

func faultStallMidStream(t *testing.T) {
	cancelled := newSignals()
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		sseChunks(oaRole, oaHello)(w, r)
		waitCancelled(r, cancelled)
	})
	rt := newRouter(t, faultConfig("  timeouts: {idle: 200ms}\n"+quickRetry), up.URL)
	resp, body := post(t, rt.URL+"/v1/messages", msgsToOpenAI, nil)
	checkInBand(t, true, resp, body, "Hello", "idle timeout")
	attemptsSeen(t, up, resp, 1)
	cancelled.expect(t, 1, "stalled upstream request cancelled")
}

func faultTotalTimeoutMidStream(t *testing.T) {
	cancelled := newSignals()
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		sseChunks(antStart, antBlockStart, antHello)(w, r)
		waitCancelled(r, cancelled)
	})
	rt := newRouter(t, faultConfig("  timeouts: {idle: 1h, total: 300ms}\n"+quickRetry), up.URL)
	resp, body := post(t, rt.URL+"/v1/chat/completions", chatToAnthropc, nil)
	checkInBand(t, false, resp, body, "Hello", "total timeout")
	attemptsSeen(t, up, resp, 1)
	cancelled.expect(t, 1, "upstream request cancelled at the total deadline")
}

// A same-protocol non-streaming body cut by the idle timeout must not reach the
// client as a complete response: the router aborts it.
func faultBodyCut(t *testing.T) {
	cancelled := newSignals()
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Hel`)
		w.(http.Flusher).Flush() // chunked: no Content-Length to betray the cut
		waitCancelled(r, cancelled)
	})
	rt := newRouter(t, faultConfig("  timeouts: {idle: 200ms}\n"+quickRetry), up.URL)
	// The connection is cut: before the response head (still buffered) reached
	// the client, or after, while the client reads the body. Either is an error.
	resp, err := http.Post(rt.URL+"/v1/chat/completions", "application/json", strings.NewReader(chatReq))
	if err == nil {
		body, rerr := io.ReadAll(resp.Body)
		resp.Body.Close()
		if rerr == nil {
			t.Errorf("a cut body reached the client as complete: status %d %s", resp.StatusCode, body)
		}
	}
	if n := len(up.requests()); n != 1 {
		t.Errorf("upstream saw %d attempts, want 1", n)
	}
	cancelled.expect(t, 1, "upstream request cancelled")
}

func faultMalformedSSETranslated(t *testing.T) {
	cancelled := newSignals()
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		sseChunks(oaRole, oaHello, "data: {\"choices\":[{\"delta\": garbage\n\n")(w, r)
		waitCancelled(r, cancelled)
	})
	rt := newRouter(t, faultConfig(quickRetry), up.URL)
	resp, body := post(t, rt.URL+"/v1/messages", msgsToOpenAI, nil)
	checkInBand(t, true, resp, body, "Hello", "malformed stream event")
	attemptsSeen(t, up, resp, 1)
	cancelled.expect(t, 1, "upstream request cancelled after the bad event")
}

// A same-protocol stream is relayed byte for byte: the router does not judge
// event payloads it has no need to read, so garbage reaches the client as the
// upstream sent it, and the stream's own terminal event still ends it.
func faultMalformedSSEPassthrough(t *testing.T) {
	stream := oaRole + oaHello + "data: {\"choices\":[{\"delta\": garbage\n\n" + oaStop + oaDone
	up := newUpstream(t, sseChunks(stream))
	rt := newRouter(t, faultConfig(quickRetry), up.URL)
	resp, body := post(t, rt.URL+"/v1/chat/completions", chatStreamReq, nil)
	if resp.StatusCode != 200 || string(body) != stream {
		t.Errorf("status %d, stream not relayed byte for byte:\n%s", resp.StatusCode, body)
	}
	attemptsSeen(t, up, resp, 1)
}

func faultMalformedNDJSON(t *testing.T) {
	cancelled := newSignals()
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-ndjson")
		_, _ = io.WriteString(w, `{"model":"llama","created_at":"2025-01-01T00:00:00Z","message":{"role":"assistant","content":"Hello"},"done":false}`+"\n")
		_, _ = io.WriteString(w, `{"model":"llama","message":{"content": nope`+"\n")
		w.(http.Flusher).Flush()
		waitCancelled(r, cancelled)
	})
	rt := newRouter(t, faultConfig(quickRetry), up.URL)
	resp, body := post(t, rt.URL+"/v1/chat/completions", strings.Replace(chatStreamReq, "gpt-4o", "llama", 1), nil)
	checkInBand(t, false, resp, body, "Hello", "malformed stream event")
	attemptsSeen(t, up, resp, 1)
	if p := up.last(t).Path; p != "/api/chat" {
		t.Errorf("upstream path %q", p)
	}
	cancelled.expect(t, 1, "upstream request cancelled after the bad line")
}

// One SSE line of 8 MB, twice the reader's 4 MiB limit (sse.DefaultMaxEvent): a
// clean in-band error, the line never relayed, the upstream hung up on.
func faultHugeLine(t *testing.T) {
	huge := "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + strings.Repeat("x", 8<<20) + "\"}}]}\n\n"
	for _, c := range []struct {
		name, path, body string
		anthropic        bool
	}{
		{"passthrough", "/v1/chat/completions", chatStreamReq, false},
		{"translated", "/v1/messages", msgsToOpenAI, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			cancelled := newSignals()
			up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
				sseChunks(oaRole, oaHello)(w, r)
				_, _ = io.WriteString(w, huge) // blocks, then fails, once the router hangs up
				waitCancelled(r, cancelled)
			})
			rt := newRouter(t, faultConfig(quickRetry), up.URL)
			resp, body := post(t, rt.URL+c.path, c.body, nil)
			checkInBand(t, c.anthropic, resp, body, "Hello", "larger than the router accepts")
			if len(body) > 64<<10 {
				t.Errorf("client received %d bytes: the oversized line was relayed", len(body))
			}
			attemptsSeen(t, up, resp, 1)
			cancelled.expect(t, 1, "upstream request cancelled")
		})
	}
}

func fault429(t *testing.T) {
	up := newUpstream(t, jsonReply(429, oaRateLimited, "Retry-After", "1"))
	rt := newRouter(t, faultConfig("  timeouts: {total: 500ms}\n"+quickRetry), up.URL)
	resp, body := post(t, rt.URL+"/v1/chat/completions", chatStreamReq, nil)
	checkEnvelope(t, false, resp, body, 429, "Rate limit reached")
	if resp.Header.Get("Retry-After") != "1" {
		t.Errorf("Retry-After = %q", resp.Header.Get("Retry-After"))
	}
	attemptsSeen(t, up, resp, 1)

	up = scriptedUpstream(t, jsonReply(429, oaRateLimited, "Retry-After-Ms", "10"), sseChunks(oaRole, oaHello, oaStop, oaDone))
	rt = newRouter(t, faultConfig("  retry: {attempts: 2, initial_backoff: 1h, max_backoff: 1h}\n  timeouts: {total: 2h}\n"), up.URL)
	resp, body = post(t, rt.URL+"/v1/chat/completions", chatStreamReq, nil)
	if resp.StatusCode != 200 || string(body) != oaRole+oaHello+oaStop+oaDone {
		t.Errorf("after retry-after-ms: status %d %s", resp.StatusCode, body)
	}
	attemptsSeen(t, up, resp, 2)
}

func fault503Twice(t *testing.T) {
	fail := jsonReply(503, oaOverloaded503)
	up := scriptedUpstream(t, fail, fail, sseChunks(antStart, antBlockStart, antHello, antBlockStop, antMsgDelta, antStop))
	rt := newRouter(t, faultConfig("  retry: {attempts: 3, initial_backoff: 1ms, max_backoff: 2ms}\n"), up.URL)
	resp, body := post(t, rt.URL+"/v1/chat/completions", chatToAnthropc, nil)
	if resp.StatusCode != 200 || !strings.HasSuffix(string(body), "data: [DONE]\n\n") || strings.Count(string(body), `"role":"assistant"`) != 1 {
		t.Errorf("status %d:\n%s", resp.StatusCode, body)
	}
	attemptsSeen(t, up, resp, 3)
	reqs := up.requests()
	for _, r := range reqs[1:] {
		if string(r.Body) != string(reqs[0].Body) {
			t.Errorf("a retry sent different bytes:\n%s\nvs\n%s", r.Body, reqs[0].Body)
		}
	}
}

func faultRefused(t *testing.T) {
	rt := newRouter(t, faultConfig("  retry: {attempts: 3, initial_backoff: 1ms, max_backoff: 2ms}\n"), deadAddr(t))
	resp, body := post(t, rt.URL+"/v1/messages", msgsReq, nil)
	checkEnvelope(t, true, resp, body, 502, "upstream unreachable")
	if h := resp.Header.Get("X-Llmrouter-Attempts"); h != "3" {
		t.Errorf("X-Llmrouter-Attempts = %q, want 3", h)
	}
}

// A client that stops reading must not make the router buffer the stream: the
// relay reads the upstream only as fast as it writes to the client, so the
// upstream's writes block (TCP backpressure). When the client then closes, the
// upstream request is cancelled. The upstream writes through a hijacked
// connection, so that a write deadline can detect the block and then be lifted.
func faultSlowClient(t *testing.T) {
	const limit = 256 << 20 // never all written while the client is not reading
	blocked := make(chan int, 1)
	completed := newSignals()
	gone := newSignals()
	event := `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"` + strings.Repeat("x", 16<<10) + `"},"finish_reason":null}]}` + "\n\n"
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(err)
		}
		defer conn.Close()
		_, _ = io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"+oaRole)
		written, reported := 0, false
		for written < limit {
			_ = conn.SetWriteDeadline(time.Now().Add(500 * time.Millisecond))
			for off := 0; off < len(event); {
				n, err := conn.Write([]byte(event[off:]))
				off += n
				written += n
				var ne net.Error
				switch {
				case err == nil:
				case errors.As(err, &ne) && ne.Timeout() && !reported:
					// Blocked for 500ms: the router has stopped reading. Report it,
					// then wait without a deadline for the router to read or hang up.
					reported = true
					blocked <- written
					_ = conn.SetWriteDeadline(time.Time{})
				default:
					gone.send() // the router closed the upstream connection
					return
				}
			}
		}
		completed.send()
	})
	rt := newRouter(t, faultConfig(quickRetry), up.URL)
	o := observe(t, rt)

	c, err := net.Dial("tcp", o.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	_ = c.(*net.TCPConn).SetReadBuffer(4 << 10)
	fmt.Fprintf(c, "POST /v1/chat/completions HTTP/1.1\r\nHost: router\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(chatStreamReq), chatStreamReq)
	// Read only the response head, then stop reading.
	br := bufio.NewReaderSize(c, 512)
	if line, err := br.ReadString('\n'); err != nil || !strings.Contains(line, " 200 ") {
		t.Fatalf("status line %q %v", line, err)
	}
	select {
	case n := <-blocked:
		if n >= 64<<20 {
			t.Errorf("the upstream wrote %d MiB before blocking: the router buffers", n>>20)
		}
		t.Logf("upstream blocked after %.1f MiB while the client was not reading", float64(n)/(1<<20))
	case <-completed:
		t.Fatal("the upstream wrote the whole stream while the client was not reading: unbounded buffering")
	case <-time.After(60 * time.Second):
		t.Fatal("the upstream neither blocked nor completed")
	}
	c.Close()
	gone.expect(t, 1, "upstream connection closed after the client left")
	o.waitServed(t)
	if n := len(up.requests()); n != 1 {
		t.Errorf("upstream saw %d attempts", n)
	}
}

// A client that stops reading a non-streaming answer is given up on after the
// idle timeout, like a stream's: the handler returns while the client is still
// connected, and the upstream request is cancelled, not written to completion.
func faultSlowClientNonStream(t *testing.T) {
	gone, completed := newSignals(), newSignals()
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"`)
		chunk := strings.Repeat("x", 64<<10)
		for range 4096 { // 256 MiB
			if _, err := io.WriteString(w, chunk); err != nil {
				gone.send()
				return
			}
		}
		completed.send()
	})
	rt := newRouter(t, faultConfig("  timeouts: {idle: 300ms}\n"+quickRetry), up.URL)
	o := observe(t, rt)
	c, err := net.Dial("tcp", o.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.(*net.TCPConn).SetReadBuffer(4 << 10)
	fmt.Fprintf(c, "POST /v1/chat/completions HTTP/1.1\r\nHost: router\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(chatReq), chatReq)
	if line, err := bufio.NewReaderSize(c, 512).ReadString('\n'); err != nil || !strings.Contains(line, " 200 ") {
		t.Fatalf("status line %q %v", line, err)
	}
	// The client keeps its connection open and reads nothing more.
	select {
	case <-o.served:
	case <-completed:
		t.Fatal("the upstream wrote its whole answer while the client was not reading")
	case <-time.After(10 * time.Second):
		t.Fatal("the handler is still blocked on a client that stopped reading")
	}
	gone.expect(t, 1, "upstream request cancelled")
	if n := len(up.requests()); n != 1 {
		t.Errorf("upstream saw %d attempts", n)
	}
}

// clientLeaves sends body from a client that cancels once the upstream reports
// started, and checks that the upstream request is cancelled, that no further
// attempt is made and that the handler returns.
func clientLeaves(t *testing.T, defaults string, expectCancel bool, handler func(w http.ResponseWriter, r *http.Request, started, cancelled signals)) {
	t.Helper()
	started, cancelled := newSignals(), newSignals()
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) { handler(w, r, started, cancelled) })
	rt := newRouter(t, faultConfig(defaults), up.URL)
	o := observe(t, rt)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, o.URL+"/v1/chat/completions", strings.NewReader(chatStreamReq))
		if resp, err := http.DefaultClient.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}()
	started.expect(t, 1, "upstream request started")
	cancel()
	<-done
	if expectCancel {
		cancelled.expect(t, 1, "upstream request cancelled after the client left")
	}
	o.waitServed(t)
	if n := len(up.requests()); n != 1 {
		t.Errorf("upstream saw %d attempts after the client left, want 1", n)
	}
	lines := accessLines(t, rt.log.String())
	if len(lines) != 1 || !strings.Contains(lines[0].Get("error").String(), "client went away") {
		t.Errorf("access log does not record the client leaving: %v", lines)
	}
}

func faultClientLeavesBeforeHeaders(t *testing.T) {
	clientLeaves(t, "  retry: {attempts: 3, initial_backoff: 1ms, max_backoff: 2ms}\n", true, func(w http.ResponseWriter, r *http.Request, started, cancelled signals) {
		started.send()
		waitCancelled(r, cancelled)
	})
}

func faultClientLeavesMidStream(t *testing.T) {
	clientLeaves(t, "  retry: {attempts: 3, initial_backoff: 1ms, max_backoff: 2ms}\n", true, func(w http.ResponseWriter, r *http.Request, started, cancelled signals) {
		sseChunks(oaRole, oaHello)(w, r)
		started.send()
		waitCancelled(r, cancelled)
	})
}

func faultClientLeavesDuringBackoff(t *testing.T) {
	clientLeaves(t, "  retry: {attempts: 3, initial_backoff: 1h, max_backoff: 1h}\n  timeouts: {total: 2h}\n", false, func(w http.ResponseWriter, r *http.Request, started, _ signals) {
		jsonReply(503, oaOverloaded503)(w, r)
		started.send()
	})
}
