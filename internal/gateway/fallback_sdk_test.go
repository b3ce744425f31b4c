package gateway_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2"
	aoption "github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/tidwall/gjson"
)

// Cross-protocol fallback through the real server, seen by the official OpenAI
// SDK: an OpenAI model whose upstream fails before its answer begins falls back
// to a model on an Anthropic upstream, and the client gets one clean answer in
// its own protocol, streaming and not; a failure after the answer began ends the
// stream with one in-band error and falls back to nothing.

// sdkChains is gpt-4o (OpenAI) falling back to claude-x (Anthropic) for
// retryable failures and for context-window overflows.
const sdkChains = `
routing:
  health: {failures: 1000}
  fallbacks: {gpt-4o: [claude-x]}
  context_window_fallbacks: {gpt-4o: [claude-x]}
defaults:
  retry: {attempts: 1}
models:
  - {name: gpt-4o, provider: openai, endpoint: "{{UP}}/primary/v1", api_key: sk-primary-key-0123456789abcdef}
  - {name: claude-x, provider: anthropic, endpoint: "{{UP}}/claude", api_key: ant-fallback-key-0123456789abcdef}
`

// sdkAnswer is what the SDK client got.
type sdkAnswer struct {
	text, model string
	header      http.Header
	err         error
}

func sdkChat(t *testing.T, base string, stream bool) sdkAnswer {
	t.Helper()
	params := openai.ChatCompletionNewParams{Model: "gpt-4o", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}}
	client := openAIClient(base)
	var resp *http.Response
	if !stream {
		c, err := client.Chat.Completions.New(context.Background(), params, option.WithResponseInto(&resp))
		a := sdkAnswer{err: err, header: confHeader(resp)}
		if err == nil && len(c.Choices) > 0 {
			a.text, a.model = c.Choices[0].Message.Content, c.Model
		}
		return a
	}
	s := client.Chat.Completions.NewStreaming(context.Background(), params, option.WithResponseInto(&resp))
	defer s.Close()
	acc := openai.ChatCompletionAccumulator{}
	for s.Next() {
		acc.AddChunk(s.Current())
	}
	a := sdkAnswer{err: s.Err(), header: confHeader(resp), model: acc.Model}
	if len(acc.Choices) > 0 {
		a.text = acc.Choices[0].Message.Content
	}
	return a
}

func TestCrossProtocolFallbackWithTheOpenAISDK(t *testing.T) {
	claudeBody := fixture(t, "fixtures/anthropic-messages-response.json")
	claudeStream := fixture(t, "fixtures/anthropic-messages-stream-text.sse")
	contextLength := string(fixture(t, "errors/openai-context-length-400.json"))
	failures := []struct {
		name            string
		nonStream, strm http.HandlerFunc
		fallback        string
	}{
		{"primary answers 503", jsonReply(503, oaOverloaded503), jsonReply(503, oaOverloaded503), "retryable"},
		{"in-band error before any content", jsonReply(200, oaOverloaded503), sseChunks(oaRole, oaError), "retryable"},
		{"context-length error", jsonReply(400, contextLength), jsonReply(400, contextLength), "context_window"},
	}
	for _, f := range failures {
		for _, stream := range []bool{false, true} {
			name := f.name + map[bool]string{false: "", true: ", streaming"}[stream]
			t.Run(name, func(t *testing.T) {
				primary := f.nonStream
				if stream {
					primary = f.strm
				}
				up := newUpstream(t, byDeployment(map[string]http.HandlerFunc{
					"primary": primary,
					"claude": func(w http.ResponseWriter, r *http.Request) {
						if gjson.GetBytes(readBody(r), "stream").Bool() {
							replaySSE(claudeStream)(w, r)
							return
						}
						replay(200, "application/json", claudeBody)(w, r)
					},
				}))
				rt := newRouter(t, sdkChains, up.URL)
				got := sdkChat(t, rt.URL, stream)
				wantText, wantModel := "Olá! \n\n(That's \"hello\" in Portuguese. You could also say \"Oi!\" for a more casual \"hi!\")", "claude-sonnet-4-20250514"
				if stream {
					wantText, wantModel = "Hello there!", "claude-3-opus-latest"
				}
				if got.err != nil || got.text != wantText || got.model != wantModel {
					t.Fatalf("got %q from model %q (err %v), want %q from %q", got.text, got.model, got.err, wantText, wantModel)
				}
				h := got.header
				if h.Get("X-Llmrouter-Deployment") != "claude-x#1" || h.Get("X-Llmrouter-Model") != "claude-x" || h.Get("X-Llmrouter-Fallback") != f.fallback {
					t.Errorf("headers: deployment %q, model %q, fallback %q", h.Get("X-Llmrouter-Deployment"), h.Get("X-Llmrouter-Model"), h.Get("X-Llmrouter-Fallback"))
				}
				if n := up.count(); n["primary"] != 1 || n["claude"] != 1 {
					t.Errorf("upstream requests %v, want one each", n)
				}
				// Translation was set up for the fallback's own protocol, model and key.
				r := up.last(t)
				if r.Path != "/claude/v1/messages" || gjson.GetBytes(r.Body, "model").String() != "claude-x" ||
					r.Header.Get("X-Api-Key") != "ant-fallback-key-0123456789abcdef" || r.Header.Get("Authorization") != "" {
					t.Errorf("the fallback received %s model %q, x-api-key %q, Authorization %q", r.Path,
						gjson.GetBytes(r.Body, "model").String(), r.Header.Get("X-Api-Key"), r.Header.Get("Authorization"))
				}
			})
		}
	}
	t.Run("a failure after content ends the stream, no fallback", func(t *testing.T) {
		up := newUpstream(t, byDeployment(map[string]http.HandlerFunc{
			"primary": sseChunks(oaRole, oaHello, oaError),
			"claude":  replaySSE(claudeStream),
		}))
		rt := newRouter(t, sdkChains, up.URL)
		got := sdkChat(t, rt.URL, true)
		if got.err == nil || got.text != "Hello" || !strings.Contains(got.err.Error(), "overloaded") {
			t.Errorf("got %q, err %v; want the content so far and the in-band error", got.text, got.err)
		}
		if d := got.header.Get("X-Llmrouter-Deployment"); d != "gpt-4o#1" || got.header.Get("X-Llmrouter-Fallback") != "" {
			t.Errorf("answered by %q (fallback %q), want gpt-4o#1 and none", d, got.header.Get("X-Llmrouter-Fallback"))
		}
		if n := up.count(); n["claude"] != 0 {
			t.Errorf("the fallback was called after content: %v", n)
		}
	})
}

// readBody returns the request's body (the fake upstream's wrapper put it back).
func readBody(r *http.Request) []byte {
	b, _ := io.ReadAll(r.Body)
	return b
}

// The other way round, seen by the official Anthropic SDK: a Claude model whose
// upstream is overloaded (529, or an in-band overloaded_error before any
// content) falls back to a model on an OpenAI upstream; the client gets one
// clean message in Anthropic's protocol, whose model is the one that answered.
func TestCrossProtocolFallbackWithTheAnthropicSDK(t *testing.T) {
	oaBody := fixture(t, "fixtures/openai-chat-response.json")
	oaStream := fixture(t, "fixtures/openai-chat-stream-usage.sse")
	overloaded := string(fixture(t, "fixtures/anthropic-error-529.json"))
	const cfg = `
routing:
  health: {failures: 1000}
  fallbacks: {claude-x: [gpt-4o]}
defaults:
  retry: {attempts: 1}
models:
  - {name: claude-x, provider: anthropic, endpoint: "{{UP}}/claude", api_key: ant-primary-key-0123456789abcdef}
  - {name: gpt-4o, provider: openai, endpoint: "{{UP}}/openai/v1", api_key: sk-fallback-key-0123456789abcdef}
`
	for _, c := range []struct {
		name    string
		stream  bool
		primary http.HandlerFunc
	}{
		{"529", false, jsonReply(529, overloaded)},
		{"529, streaming", true, jsonReply(529, overloaded)},
		{"in-band overloaded_error before content, streaming", true, sseChunks(antStart, antPing, antOverloaded)},
	} {
		t.Run(c.name, func(t *testing.T) {
			up := newUpstream(t, byDeployment(map[string]http.HandlerFunc{
				"claude": c.primary,
				"openai": func(w http.ResponseWriter, r *http.Request) {
					if gjson.GetBytes(readBody(r), "stream").Bool() {
						replaySSE(oaStream)(w, r)
						return
					}
					replay(200, "application/json", oaBody)(w, r)
				},
			}))
			rt := newRouter(t, cfg, up.URL)
			params := anthropic.MessageNewParams{Model: "claude-x", MaxTokens: 64,
				Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hi"))}}
			client := anthropicClient(rt.URL)
			var resp *http.Response
			var msg anthropic.Message
			var err error
			if c.stream {
				s := client.Messages.NewStreaming(context.Background(), params, aoption.WithResponseInto(&resp))
				for s.Next() {
					if aerr := msg.Accumulate(s.Current()); aerr != nil {
						t.Errorf("Accumulate: %v", aerr)
					}
				}
				err = s.Err()
				s.Close()
			} else {
				var m *anthropic.Message
				if m, err = client.Messages.New(context.Background(), params, aoption.WithResponseInto(&resp)); err == nil {
					msg = *m
				}
			}
			wantText, wantModel := "Hello! How can I assist you today?", "gpt-5.4"
			if c.stream {
				wantText, wantModel = "Olá!", "gpt-4o-2024-08-06"
			}
			if err != nil || len(msg.Content) != 1 || msg.Content[0].Text != wantText || string(msg.Model) != wantModel {
				t.Fatalf("got %+v (err %v), want %q from %q", msg.Content, err, wantText, wantModel)
			}
			if d := resp.Header.Get("X-Llmrouter-Deployment"); d != "gpt-4o#1" || resp.Header.Get("X-Llmrouter-Fallback") != "retryable" {
				t.Errorf("answered by %q (fallback %q)", d, resp.Header.Get("X-Llmrouter-Fallback"))
			}
			if n := up.count(); n["claude"] != 1 || n["openai"] != 1 {
				t.Errorf("upstream requests %v, want one each", n)
			}
		})
	}
}
