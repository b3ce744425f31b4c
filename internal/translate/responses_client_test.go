package translate

import (
	"bytes"
	"errors"
	"testing"

	"github.com/llmrouter/llmrouter/internal/wire"
)

// The Responses requests under test: the recorded ones and Codex's.
var respRequests = []string{"responses/openai-responses-request*.json", "responses/codex-cli-request*.json"}

// respClientSets are the pairs of a Responses client.
var respClientSets = []string{"responses_anthropic", "responses_ollama", "responses_openai"}

func init() {
	goldenSets["responses_anthropic"] = goldenSet{pair: "responses_anthropic", client: wire.OpenAIResponses,
		upstream: wire.AnthropicMessages, model: "up-model", requests: respRequests,
		responses: []string{"fixtures/anthropic-messages-response*.json"},
		streams:   []string{"fixtures/anthropic-messages-stream-*.sse"}, runs: []streamRun{{}}, style: dashStyle}
	goldenSets["responses_ollama"] = goldenSet{pair: "responses_ollama", client: wire.OpenAIResponses,
		upstream: wire.OllamaChat, model: "tiny", requests: append([]string{"ollama-real/v1_responses_*.req.json"}, respRequests...),
		responses: ollChatResponses, streams: ollChatStreams, runs: []streamRun{{}}, style: dashStyle}
	goldenSets["responses_openai"] = goldenSet{pair: "responses_openai", client: wire.OpenAIResponses,
		upstream: wire.OpenAIChat, model: "up-model", requests: respRequests,
		responses: []string{"fixtures/openai-chat-response*.json"},
		streams:   []string{"fixtures/openai-chat-stream-*.sse"}, runs: []streamRun{{}}, style: dashStyle}
}

func TestResponsesClientGoldens(t *testing.T) {
	for _, name := range respClientSets {
		t.Run(name, func(t *testing.T) { runGoldens(t, goldenSets[name]) })
	}
}

// Every upstream stream fixture, converted for a Responses client, follows the
// API's lifecycle and parses with the SDK; a stream that fails midway ends, by
// Fail, with an error event and response.failed that continue it.
func TestResponsesClientStreamsFollowTheLifecycle(t *testing.T) {
	for _, name := range respClientSets {
		s := goldenSets[name]
		for _, f := range testdataFiles(t, s.streams...) {
			t.Run(name+"/"+stem(f), func(t *testing.T) {
				tr := newStreamer(t, s)
				out, err := drive(tr, s.upstream.NDJSON(), bytes.NewReader(readTestdata(t, f)))
				if err != nil {
					var se *StreamError
					code := ""
					if errors.As(err, &se) {
						code = se.Type
					}
					out = tr.(Failer).Fail(out, code, err.Error())
				}
				r := checkResponsesStream(t, out)
				if r == nil {
					t.Fatal("no terminal event")
				}
				if err != nil && r.Status != "failed" {
					t.Errorf("stream failed with %v, terminal status %s", err, r.Status)
				}
			})
		}
	}
}

// Every upstream body, converted for a Responses client, parses as the SDK's
// Response.
func TestResponsesClientBodiesParse(t *testing.T) {
	for _, name := range respClientSets {
		s := goldenSets[name]
		for _, f := range testdataFiles(t, s.responses...) {
			t.Run(name+"/"+stem(f), func(t *testing.T) {
				out, err := s.newFixed().Response(readTestdata(t, f))
				if err != nil {
					t.Fatal(err)
				}
				checkResponseBody(t, out)
			})
		}
	}
}

func TestResponsesClientStreamSplitEveryByte(t *testing.T) {
	splitEveryByte(t, respClientSets...)
}
