package translate

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	sdk "github.com/openai/openai-go/v3/responses"

	"github.com/llmrouter/llmrouter/internal/wire"
)

// respSDKServer answers POST /responses as a translated route would: the
// client's request through the Responses→Anthropic translator, the recorded
// Anthropic answer (a stream or a body) back through it. got receives the
// upstream request the translator made.
func respSDKServer(t *testing.T, stream, body string, got chan<- string) *httptest.Server {
	t.Helper()
	streamBody, wholeBody := readTestdata(t, stream), readTestdata(t, body)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, _ := io.ReadAll(r.Body)
		tr := New(wire.OpenAIResponses, wire.AnthropicMessages, Options{Model: "claude-sonnet-4-5"})
		up, err := tr.Request(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		got <- string(up)
		if !strings.Contains(string(req), `"stream":true`) {
			out, err := tr.Response(wholeBody)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(out)
			return
		}
		out, err := drive(tr, false, bytes.NewReader(streamBody))
		if err != nil {
			t.Errorf("stream: %v", err)
		}
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = w.Write(out)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// The official SDK, through its own HTTP and SSE code, reads what a Responses
// client gets from an Anthropic upstream: the streamed events, accumulated, and
// the whole response agree on the reasoning and the function call.
func TestResponsesSDKClientReadsTranslatedAnswers(t *testing.T) {
	got := make(chan string, 2)
	srv := respSDKServer(t, "fixtures/anthropic-messages-stream-thinking.sse", "fixtures/anthropic-messages-response-thinking.json", got)
	client := openai.NewClient(option.WithBaseURL(srv.URL), option.WithAPIKey("test-key"), option.WithMaxRetries(0))
	params := sdk.ResponseNewParams{
		Model: "claude", Input: sdk.ResponseNewParamsInputUnion{OfString: openai.String("Weather in Florence?")},
		Reasoning: openai.ReasoningParam{Effort: openai.ReasoningEffortHigh},
		Include:   []sdk.ResponseIncludable{sdk.ResponseIncludableReasoningEncryptedContent},
		Tools: []sdk.ToolUnionParam{{OfFunction: &sdk.FunctionToolParam{Name: "weather",
			Parameters: map[string]any{"type": "object"}, Strict: openai.Bool(false)}}},
	}
	ctx := context.Background()
	stream := client.Responses.NewStreaming(ctx, params)
	var final sdk.Response
	var types []string
	for stream.Next() {
		ev := stream.Current()
		types = append(types, ev.Type)
		if ev.Type == "response.completed" {
			final = ev.Response
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if types[0] != "response.created" || types[len(types)-1] != "response.completed" {
		t.Errorf("events %v", types)
	}
	whole, err := client.Responses.New(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []*sdk.Response{&final, whole} {
		if len(r.Output) != 2 || r.Output[0].Type != "reasoning" || r.Output[1].Type != "function_call" {
			t.Fatalf("output %v", describe(r))
		}
		if !strings.HasPrefix(r.Output[0].EncryptedContent, carryPrefix) || r.Output[1].Name != "weather" ||
			r.Output[1].Arguments.OfString != `{"location": "Florence, Italy"}` && r.Output[1].Arguments.OfString != `{"location":"Florence, Italy"}` {
			t.Errorf("output %v", describe(r))
		}
	}
	if final.Status != "completed" || whole.Usage.InputTokens == 0 {
		t.Errorf("status %s, usage %+v", final.Status, whole.Usage)
	}
	for range 2 {
		if up := <-got; !strings.Contains(up, `"thinking":{"type":"enabled","budget_tokens":16384}`) {
			t.Errorf("upstream request %s", up)
		}
	}
}
