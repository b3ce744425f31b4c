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

	"github.com/openai/openai-go/v3"
)

const streamConfig = `
defaults:
  retry: {attempts: 1}
models:
  - name: gpt-4o
    provider: openai
    endpoint: {{UP}}/v1
    api_key: sk-model-key-0123456789abcdef
`

// Each event reaches the client while the upstream is still holding the next one:
// nothing is buffered.
func TestStreamFlushesEachEvent(t *testing.T) {
	release := make(chan struct{})
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"first"},"finish_reason":null}]}`+"\n\n")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		_, _ = io.WriteString(w, `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`+"\n\ndata: [DONE]\n\n")
	})
	rt := newRouter(t, streamConfig, up.URL)
	resp, err := http.Post(rt.URL+"/v1/chat/completions", "application/json", strings.NewReader(`{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	line, err := br.ReadString('\n')
	if err != nil || !strings.Contains(line, `"first"`) {
		t.Fatalf("first event not delivered before the upstream went on: %q %v", line, err)
	}
	close(release)
	rest, _ := io.ReadAll(br)
	if !strings.HasSuffix(string(rest), "data: [DONE]\n\n") {
		t.Errorf("stream did not end with [DONE]: %q", rest)
	}
}

// A client that goes away cancels the upstream request at once, in every phase.
func TestClientDisconnectCancelsUpstream(t *testing.T) {
	for _, phase := range []string{"waiting for headers", "mid-stream"} {
		t.Run(phase, func(t *testing.T) {
			started := make(chan struct{})
			cancelled := make(chan struct{})
			up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
				if phase == "mid-stream" {
					w.Header().Set("Content-Type", "text/event-stream")
					_, _ = io.WriteString(w, `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"x"},"finish_reason":null}]}`+"\n\n")
					w.(http.Flusher).Flush()
				}
				close(started)
				<-r.Context().Done()
				close(cancelled)
			})
			rt := newRouter(t, streamConfig, up.URL)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() {
				defer close(done)
				stream := openAIClient(rt.URL).Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{
					Model: "gpt-4o", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")},
				})
				for stream.Next() {
				}
				_ = stream.Close()
			}()
			<-started
			cancel()
			select {
			case <-cancelled:
			case <-time.After(5 * time.Second): // a deadline on failure, not synchronisation
				t.Fatal("upstream request context was not cancelled after the client left")
			}
			<-done
		})
	}
}

// An upstream stream cut before its terminal event ends the client's stream with
// one in-band error, never with [DONE]; the SDK reports it as an error.
func TestTruncatedStreamIsAnError(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"partial"},"finish_reason":null}]}`+"\n\n")
	})
	rt := newRouter(t, streamConfig, up.URL)
	_, body := post(t, rt.URL+"/v1/chat/completions", `{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]}`, nil)
	if strings.Contains(string(body), "[DONE]") || !strings.Contains(string(body), `data: {"error":{"message":"upstream stream ended before it was complete (truncated)"`) {
		t.Errorf("body %q", body)
	}
	stream := openAIClient(rt.URL).Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{
		Model: "gpt-4o", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")},
	})
	for stream.Next() {
	}
	var apiErr *openai.Error
	if err := stream.Err(); err == nil || (errors.As(err, &apiErr) && apiErr == nil) {
		t.Errorf("SDK saw a clean end of a truncated stream: %v", err)
	}
}
