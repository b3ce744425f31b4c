package gateway_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/openai/openai-go/v3"
)

// How a relayed stream ends: at its terminal event, however the upstream goes on;
// with an error event the client can parse. Each case failed once, before its fix.

const (
	auditOllamaReq = `{"model":"llama","stream":true,"messages":[{"role":"user","content":"hi"}]}`
	ollHello       = `{"model":"llama","created_at":"2025-01-01T00:00:00Z","message":{"role":"assistant","content":"Hello"},"done":false}` + "\n"
	ollDone        = `{"model":"llama","created_at":"2025-01-01T00:00:01Z","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","prompt_eval_count":3,"eval_count":2}` + "\n"
	oaWorld        = `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":" world"},"finish_reason":null}]}` + "\n\n"
)

// writeThenHold writes the chunks, flushing each, then keeps the response open
// (as a server that is slow to close, or a keep-alive proxy) until the router
// cancels the request.
func writeThenHold(contentType string, chunks ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(http.StatusOK)
		for _, c := range chunks {
			_, _ = io.WriteString(w, c)
			w.(http.Flusher).Flush()
		}
		<-r.Context().Done()
	}
}

// Before its fix: the relay keeps reading after the terminal event ([DONE], message_stop,
// done:true) and waits for the upstream's EOF. An upstream that does not close at
// once makes the client wait for the idle timeout, and then the stream that was
// already complete gets an in-band error event after its normal finish.
func TestStreamEndsAtTerminalEvent(t *testing.T) {
	fullOpenAI := []string{oaRole, oaHello, oaStop, oaDone}
	fullAnthropic := []string{antStart, antBlockStart, antHello, antBlockStop, antMsgDelta, antStop}
	cases := []struct {
		name, path, body, ct string
		chunks               []string
		end                  string
	}{
		{"openai passthrough", "/v1/chat/completions", chatStreamReq, "text/event-stream", fullOpenAI, "data: [DONE]\n\n"},
		{"anthropic passthrough", "/v1/messages", msgsStreamReq, "text/event-stream", fullAnthropic, antStop},
		{"anthropic client, openai upstream", "/v1/messages", msgsToOpenAI, "text/event-stream", fullOpenAI, "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"},
		{"openai client, anthropic upstream", "/v1/chat/completions", chatToAnthropc, "text/event-stream", fullAnthropic, "data: [DONE]\n\n"},
		{"openai client, ollama upstream", "/v1/chat/completions", auditOllamaReq, "application/x-ndjson", []string{ollHello, ollDone}, "data: [DONE]\n\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			up := newUpstream(t, writeThenHold(c.ct, c.chunks...))
			rt := newRouter(t, faultConfig("  timeouts: {idle: 2s}\n"+quickRetry), up.URL)
			start := time.Now()
			resp, body := post(t, rt.URL+c.path, c.body, nil)
			got := string(body)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, got)
			}
			if !strings.HasSuffix(got, c.end) {
				t.Errorf("complete upstream stream does not end with its normal finish %q after %v; tail:\n%s",
					c.end, time.Since(start).Round(time.Millisecond), tail(got))
			}
		})
	}
	// What the official SDK makes of it: an error for a complete answer.
	t.Run("anthropic SDK", func(t *testing.T) {
		up := newUpstream(t, writeThenHold("text/event-stream", fullAnthropic...))
		rt := newRouter(t, faultConfig("  timeouts: {idle: 2s}\n"+quickRetry), up.URL)
		stream := anthropicClient(rt.URL).Messages.NewStreaming(context.Background(), anthropic.MessageNewParams{
			Model: "claude-x", MaxTokens: 64, Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hi"))},
		})
		var msg anthropic.Message
		for stream.Next() {
			_ = msg.Accumulate(stream.Current())
		}
		if err := stream.Err(); err != nil {
			t.Errorf("SDK reports an error for a complete message (stop_reason %q): %v", msg.StopReason, err)
		}
	})
}

// Before its fix: a same-protocol stream is relayed byte for byte even after its terminal
// event: data after [DONE] reaches the client, and an upstream error event after
// message_stop / [DONE] becomes a second terminal event (the router's own error).
func TestPassthroughStopsAtTerminalEvent(t *testing.T) {
	cases := []struct {
		name, path, body string
		chunks           []string
		end              string
	}{
		{"openai: chunk after [DONE]", "/v1/chat/completions", chatStreamReq, []string{oaRole, oaHello, oaStop, oaDone, oaWorld}, "data: [DONE]\n\n"},
		{"openai: error after [DONE]", "/v1/chat/completions", chatStreamReq, []string{oaRole, oaHello, oaStop, oaDone, oaError}, "data: [DONE]\n\n"},
		{"anthropic: error after message_stop", "/v1/messages", msgsStreamReq,
			[]string{antStart, antBlockStart, antHello, antBlockStop, antMsgDelta, antStop, antOverloaded}, antStop},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			up := newUpstream(t, sseChunks(c.chunks...))
			rt := newRouter(t, faultConfig(quickRetry), up.URL)
			resp, body := post(t, rt.URL+c.path, c.body, nil)
			got := string(body)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, got)
			}
			if !strings.HasSuffix(got, c.end) {
				t.Errorf("client stream goes on after the terminal event; tail:\n%s", tail(got))
			}
		})
	}
	t.Run("anthropic SDK", func(t *testing.T) {
		up := newUpstream(t, sseChunks(antStart, antBlockStart, antHello, antBlockStop, antMsgDelta, antStop, antOverloaded))
		rt := newRouter(t, faultConfig(quickRetry), up.URL)
		stream := anthropicClient(rt.URL).Messages.NewStreaming(context.Background(), anthropic.MessageNewParams{
			Model: "claude-x", MaxTokens: 64, Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hi"))},
		})
		for stream.Next() {
		}
		if err := stream.Err(); err != nil {
			t.Errorf("SDK reports an error after message_stop: %v", err)
		}
	})
}

// Before its fix: the last upstream event before a cut is passed through with its raw
// bytes, which lack the blank line when the upstream was cut between an event's
// last line and the blank line; the router's error event is then appended to
// it, so the client parses ONE event whose data is two JSON values: the SDK
// fails with a JSON syntax error instead of the API error, and the content of
// that last event is lost.
func TestErrorEventAfterUnterminatedEventIsSeparate(t *testing.T) {
	t.Run("openai passthrough, raw", func(t *testing.T) {
		up := newUpstream(t, sseChunks(oaRole, oaHello, strings.TrimSuffix(oaWorld, "\n")))
		rt := newRouter(t, faultConfig(quickRetry), up.URL)
		_, body := post(t, rt.URL+"/v1/chat/completions", chatStreamReq, nil)
		got := string(body)
		if !strings.Contains(got, "\n\ndata: {\"error\":") {
			t.Errorf("the error event is not a separate SSE event; tail:\n%q", tail(got))
		}
	})
	t.Run("openai passthrough, SDK", func(t *testing.T) {
		up := newUpstream(t, sseChunks(oaRole, oaHello, strings.TrimSuffix(oaWorld, "\n")))
		rt := newRouter(t, faultConfig(quickRetry), up.URL)
		stream := openAIClient(rt.URL).Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{
			Model: "gpt-4o", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")},
		})
		text := ""
		for stream.Next() {
			if ch := stream.Current(); len(ch.Choices) > 0 {
				text += ch.Choices[0].Delta.Content
			}
		}
		err := stream.Err()
		if err == nil || !strings.Contains(err.Error(), "truncated") {
			t.Errorf("SDK error is not the router's truncation error: %v (text %q)", err, text)
		}
		if text != "Hello world" {
			t.Errorf("content delivered before the cut: %q, want %q", text, "Hello world")
		}
	})
	t.Run("anthropic passthrough, SDK", func(t *testing.T) {
		up := newUpstream(t, sseChunks(antStart, antBlockStart, antHello, strings.TrimSuffix(antHello, "\n")))
		rt := newRouter(t, faultConfig(quickRetry), up.URL)
		stream := anthropicClient(rt.URL).Messages.NewStreaming(context.Background(), anthropic.MessageNewParams{
			Model: "claude-x", MaxTokens: 64, Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hi"))},
		})
		text := ""
		for stream.Next() {
			if ev := stream.Current(); ev.Type == "content_block_delta" {
				text += ev.Delta.Text
			}
		}
		err := stream.Err()
		var apiErr *anthropic.Error
		if !errors.As(err, &apiErr) || !strings.Contains(err.Error(), "truncated") {
			t.Errorf("SDK error is not the router's truncation error: %T %v", err, err)
		}
		if text != "HelloHello" {
			t.Errorf("content delivered before the cut: %q, want %q (SDK error: %v)", text, "HelloHello", err)
		}
	})
}

// Before its fix: an SSE comment arriving
// together with an event made sse.Reader.Ready report a whole next event, so the
// relay held the event (coalescing) and then blocked in Next, which skips the
// comment and waits for the network: the event was not flushed until the
// upstream's next real event.
func TestKeepAliveCommentDoesNotHoldEvent(t *testing.T) {
	sawHello, release := make(chan struct{}), make(chan struct{})
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, oaRole+oaHello)
		w.(http.Flusher).Flush()
		select { // " world" and the comment must arrive in one read, after Hello
		case <-sawHello:
		case <-r.Context().Done():
			return
		}
		_, _ = io.WriteString(w, oaWorld+": keep-alive\n\n")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		_, _ = io.WriteString(w, oaStop+oaDone)
	})
	rt := newRouter(t, faultConfig("  timeouts: {idle: 30s}\n"+quickRetry), up.URL)
	// A deadline only so that a regression fails instead of hanging the suite.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rt.URL+"/v1/chat/completions", strings.NewReader(chatStreamReq))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	readUntil := func(want string) {
		t.Helper()
		for {
			line, err := br.ReadString('\n')
			if strings.Contains(line, want) {
				return
			}
			if err != nil {
				t.Fatalf("stream ended before %q: %v", want, err)
			}
		}
	}
	readUntil(`"Hello"`)
	close(sawHello)
	// The upstream now holds until release, which only this reader gives: had the
	// relay kept " world" back, this read would hang until the test's deadline.
	readUntil(" world")
	close(release)
	readUntil("[DONE]")
}

func tail(s string) string {
	if len(s) > 600 {
		return "…" + s[len(s)-600:]
	}
	return s
}
