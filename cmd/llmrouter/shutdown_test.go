package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tidwall/gjson"
)

// Upstream events of the shutdown test.
const (
	oaRoleChunk  = `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}` + "\n\n"
	oaHelloChunk = `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Hello"},"finish_reason":null}]}` + "\n\n"
	antStartEv   = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"claude-x\",\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":3,\"output_tokens\":1}}}\n\n"
)

// stuckUpstream plays, per model suffix, an upstream that never finishes: "live"
// streams content then stalls (the client's stream is past its commit point),
// "early" sends only what precedes content (role chunk, message_start) then
// stalls, "hang" sends nothing. It reports each request once it has sent what it
// sends, and again when the router cancels it.
func stuckUpstream(arrived, cancelled chan<- string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		model := gjson.GetBytes(body, "model").String()
		anthropicUp := strings.HasPrefix(r.URL.Path, "/v1/messages")
		switch behaviour := model[strings.IndexByte(model, '-')+1:]; {
		case behaviour == "live":
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = io.WriteString(w, oaRoleChunk+oaHelloChunk)
			w.(http.Flusher).Flush()
		case behaviour == "early" && anthropicUp:
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = io.WriteString(w, antStartEv)
			w.(http.Flusher).Flush()
		case behaviour == "early":
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = io.WriteString(w, oaRoleChunk)
			w.(http.Flusher).Flush()
		}
		arrived <- model
		<-r.Context().Done()
		cancelled <- model
	}
}

// shutdownCall is one client request of the shutdown test and what it got.
type shutdownCall struct {
	name, path, req string
	live            bool // a stream the client reads content from before SIGTERM
	status          int
	body            string // what the client received
	err             error
}

// When shutdown_grace expires with requests in flight, each ends in its client's
// protocol: a stream past its commit point with one in-band error event (OpenAI
// `data: {"error":…}`, Anthropic `event: error`) and no normal finish; a stream
// before its commit point and a non-streaming request still waiting with a 503 in
// the client's envelope. The upstream requests are cancelled and the process
// exits. Run against the real binary, with the attack's setup: SIGTERM with
// streams in flight that outlive the grace.
func TestShutdownGraceEndsRequestsInTheirProtocol(t *testing.T) {
	arrived, cancelled := make(chan string, 8), make(chan string, 8)
	up := httptest.NewServer(stuckUpstream(arrived, cancelled))
	defer up.Close()
	addr := freeAddr(t)
	cfg := fmt.Sprintf("server:\n  listen: %s\n  shutdown_delay: 0s\n  shutdown_grace: 1s\n"+
		"defaults:\n  retry: {attempts: 1}\nmodels:\n  - name: gpt-*\n    provider: openai\n    endpoint: %s/v1\n"+
		"  - name: claude-*\n    provider: anthropic\n    endpoint: %s\n", addr, up.URL, up.URL)
	cmd, stderr := serveConfig(t, nil, addr, cfg)

	const chat = `{"model":"%s","stream":%v,"messages":[{"role":"user","content":"hi"}]}`
	const msgs = `{"model":"%s","max_tokens":64,"stream":%v,"messages":[{"role":"user","content":"hi"}]}`
	calls := []*shutdownCall{
		{name: "openai stream past commit", path: "/v1/chat/completions", req: fmt.Sprintf(chat, "gpt-live", true), live: true},
		{name: "anthropic stream past commit (translated)", path: "/v1/messages", req: fmt.Sprintf(msgs, "gpt-live", true), live: true},
		{name: "openai stream before commit", path: "/v1/chat/completions", req: fmt.Sprintf(chat, "gpt-early", true)},
		{name: "anthropic stream before commit", path: "/v1/messages", req: fmt.Sprintf(msgs, "claude-early", true)},
		{name: "openai non-stream waiting", path: "/v1/chat/completions", req: fmt.Sprintf(chat, "gpt-hang", false)},
	}
	live, done := make(chan string, len(calls)), make(chan *shutdownCall, len(calls))
	for _, c := range calls {
		go c.do("http://"+addr, live, done)
	}
	expectN(t, arrived, len(calls), "requests at the upstream")
	expectN(t, live, 2, "streams past their commit point at the client")
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for range calls {
		select {
		case c := <-done:
			c.check(t)
		case <-time.After(30 * time.Second): // a deadline on failure, not synchronisation
			t.Fatalf("a request was not ended after shutdown_grace\n%s", stderr.String())
		}
	}
	expectN(t, cancelled, len(calls), "upstream requests cancelled")
	waitErr := make(chan error, 1)
	go func() { waitErr <- cmd.Wait() }()
	select {
	case <-waitErr:
	case <-time.After(30 * time.Second):
		t.Fatal("router did not exit after shutdown_grace")
	}
	if !strings.Contains(stderr.String(), "shutdown grace expired") {
		t.Errorf("no log line says the grace expired:\n%s", stderr.String())
	}
}

// do sends the request; a live stream reports on live once its content arrived.
func (c *shutdownCall) do(base string, live chan<- string, done chan<- *shutdownCall) {
	defer func() { done <- c }()
	req, _ := http.NewRequest(http.MethodPost, base+c.path, strings.NewReader(c.req))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.err = err
		return
	}
	defer resp.Body.Close()
	c.status = resp.StatusCode
	br := bufio.NewReader(resp.Body)
	var got strings.Builder
	for c.live && !strings.Contains(got.String(), "Hello") {
		line, err := br.ReadString('\n')
		got.WriteString(line)
		if err != nil {
			c.body, c.err = got.String(), err
			live <- c.name // unblock the test, which then reports the failure
			return
		}
	}
	if c.live {
		live <- c.name
	}
	rest, err := io.ReadAll(br)
	c.body, c.err = got.String()+string(rest), err
}

func (c *shutdownCall) check(t *testing.T) {
	t.Helper()
	if c.err != nil {
		t.Errorf("%s: %v (got %q)", c.name, c.err, c.body)
		return
	}
	anthropicClient := c.path == "/v1/messages"
	if !c.live {
		if c.status != 503 || !strings.Contains(gjson.Get(c.body, "error.message").String(), "shutting down") ||
			(anthropicClient && gjson.Get(c.body, "type").String() != "error") {
			t.Errorf("%s: want a 503 in the client's envelope, got %d %s", c.name, c.status, c.body)
		}
		return
	}
	errEvent := `data: {"error":`
	if anthropicClient {
		errEvent = "event: error\ndata: "
	}
	if c.status != 200 || strings.Count(c.body, errEvent) != 1 || !strings.HasSuffix(c.body, "\n\n") {
		t.Errorf("%s: want a stream ending with one in-band error event, got %d:\n%s", c.name, c.status, c.body)
		return
	}
	last := c.body[strings.LastIndex(c.body, errEvent):]
	data := strings.TrimSpace(last[strings.Index(last, "data: ")+len("data: "):])
	if m := gjson.Get(data, "error.message").String(); !strings.Contains(m, "shutting down") {
		t.Errorf("%s: in-band error %s does not say the router is shutting down", c.name, data)
	}
	for _, normal := range []string{"[DONE]", "message_stop"} {
		if strings.Contains(c.body, normal) {
			t.Errorf("%s: a stream cut by the shutdown carries the normal finish %q", c.name, normal)
		}
	}
}

// expectN receives n reports from ch, failing after a generous deadline.
func expectN(t *testing.T, ch <-chan string, n int, what string) {
	t.Helper()
	for i := range n {
		select {
		case <-ch:
		case <-time.After(30 * time.Second): // a deadline on failure, not synchronisation
			t.Fatalf("%s: got %d of %d", what, i, n)
		}
	}
}
