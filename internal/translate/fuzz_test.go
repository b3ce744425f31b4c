package translate

// Fuzzers for the OpenAI/Anthropic converters. They check that no input panics, that
// a failed request conversion is a *RequestError, that a converted request is JSON,
// and that streams only ever emit SSE events whose data is JSON (or [DONE]).

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"testing"

	"github.com/llmrouter/llmrouter/internal/sse"
	"github.com/llmrouter/llmrouter/internal/wire"
)

func addFixtureSeeds(f *testing.F, glob string) {
	for _, name := range testdataFiles(f, "fixtures/"+glob) {
		f.Add(readTestdata(f, name))
	}
}

func fuzzRequest(t *testing.T, client, upstream wire.Protocol, body []byte) {
	tr := New(client, upstream, Options{Model: "m"})
	out, err := tr.Request(body)
	if err != nil {
		var re *RequestError
		if !errors.As(err, &re) {
			t.Fatalf("Request error %v is not a *RequestError", err)
		}
		return
	}
	if !json.Valid(out) {
		t.Fatalf("Request produced invalid JSON: %s", out)
	}
	_ = tr.Dropped()
}

func FuzzOpenAIToAnthropicRequest(f *testing.F) {
	addFixtureSeeds(f, "openai-chat-request*.json")
	f.Add([]byte(`{"messages":[{"role":"tool","tool_call_id":"x","content":[{"type":"text","text":"r"}]},{"role":"user","content":"u"}],"parallel_tool_calls":false,"tools":[{"type":"function","function":{"name":"f"}}]}`))
	f.Add([]byte(`{"model":"claude-sonnet-4-5","max_tokens":1500,"reasoning_effort":"high","temperature":0.2,"messages":[],"response_format":{"type":"json_schema","json_schema":{"name":"o","schema":{"type":"object"}}}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		fuzzRequest(t, wire.OpenAIChat, wire.AnthropicMessages, body)
		fuzzRequest(t, wire.OpenAICompletions, wire.AnthropicMessages, body)
	})
}

func FuzzAnthropicToOpenAIRequest(f *testing.F) {
	addFixtureSeeds(f, "anthropic-messages-request*.json")
	f.Add([]byte(`{"model":"m","max_tokens":8,"thread":{"type":"create"},"metadata":{"user_id":"{\"device_id\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"}"},"output_config":{"effort":"high","format":{"type":"json_schema","schema":{}}},"tools":[{"name":"D","defer_loading":true,"input_schema":{}}],"messages":[]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		fuzzRequest(t, wire.AnthropicMessages, wire.OpenAIChat, body)
	})
}

// fuzzStream runs body through the translator for pair and checks its output.
func fuzzStream(t *testing.T, pair string, body []byte) {
	tr, err := goldenSets[pair].streamer(true)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := runStream(tr, bytes.NewReader(body))
	rd := sse.NewReader(bytes.NewReader(out), 0)
	for {
		ev, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatalf("client output is not SSE: %v\n%q", err, out)
		}
		if string(ev.Data) != "[DONE]" && !json.Valid(ev.Data) {
			t.Fatalf("event %q data is not JSON: %q", ev.Name, ev.Data)
		}
	}
}

func FuzzAnthropicStreamToOpenAI(f *testing.F) {
	addFixtureSeeds(f, "anthropic-messages-stream-*.sse")
	f.Fuzz(func(t *testing.T, body []byte) {
		fuzzStream(t, "openai_anthropic", body)
		fuzzStream(t, "completions_anthropic", body)
	})
}

func FuzzOpenAIStreamToAnthropic(f *testing.F) {
	addFixtureSeeds(f, "openai-chat-stream-*.sse")
	f.Add(readTestdata(f, "ollama-real/v1_chat_reasoning_stream_default.body"))
	f.Fuzz(func(t *testing.T, body []byte) {
		fuzzStream(t, "anthropic_openai", body)
	})
}

func FuzzResponses(f *testing.F) {
	addFixtureSeeds(f, "anthropic-messages-response*.json")
	addFixtureSeeds(f, "openai-chat-response*.json")
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, p := range [][2]wire.Protocol{
			{wire.OpenAIChat, wire.AnthropicMessages},
			{wire.OpenAICompletions, wire.AnthropicMessages},
			{wire.AnthropicMessages, wire.OpenAIChat},
		} {
			out, err := New(p[0], p[1], Options{}).Response(body)
			if err == nil && !json.Valid(out) {
				t.Fatalf("%v→%v Response produced invalid JSON: %s", p[0], p[1], out)
			}
		}
	})
}

// FuzzResponsesRequest converts any body as a Responses request for each
// upstream: no panic, a *RequestError or a JSON request.
func FuzzResponsesRequest(f *testing.F) {
	ollFuzzSeeds(f, "responses/*request*.json", "ollama-real/v1_responses_*.req.json")
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, up := range []wire.Protocol{wire.AnthropicMessages, wire.OllamaChat, wire.OpenAIChat} {
			fuzzRequest(t, wire.OpenAIResponses, up, body)
		}
	})
}

// FuzzRequestToResponses converts any body as a Chat, Completions or Anthropic
// request for a Responses upstream.
func FuzzRequestToResponses(f *testing.F) {
	addFixtureSeeds(f, "openai-chat-request*.json")
	addFixtureSeeds(f, "openai-completions-request*.json")
	addFixtureSeeds(f, "anthropic-messages-request*.json")
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, client := range []wire.Protocol{wire.OpenAIChat, wire.OpenAICompletions, wire.AnthropicMessages} {
			fuzzRequest(t, client, wire.OpenAIResponses, body)
		}
	})
}

// FuzzResponsesStream feeds any body to the Responses decoder, as a stream for
// each client and as a whole answer: no panic, SSE events of JSON (or [DONE]).
func FuzzResponsesStream(f *testing.F) {
	ollFuzzSeeds(f, "responses/*-stream-*.sse", "ollama-real/v1_responses_*_stream.body", "responses/*-response-*.json")
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, pair := range respUpstreamSets {
			fuzzStream(t, pair, body)
			if out, err := goldenSets[pair].newFixed().Response(body); err == nil && !json.Valid(out) {
				t.Fatalf("%s: Response produced invalid JSON: %s", pair, out)
			}
		}
	})
}

// FuzzResponsesEncoder feeds any upstream stream (which, by its first byte:
// Anthropic, Chat or Ollama) to a Responses client: whatever the upstream says,
// every event the client gets parses with the SDK and keeps the lifecycle, and
// Fail ends a broken stream properly.
func FuzzResponsesEncoder(f *testing.F) {
	for i, glob := range []string{"fixtures/anthropic-messages-stream-*.sse", "fixtures/openai-chat-stream-*.sse", "ollama-real/api_chat_*stream.body"} {
		for _, name := range testdataFiles(f, glob) {
			f.Add(byte(i), readTestdata(f, name))
		}
	}
	f.Fuzz(func(t *testing.T, which byte, body []byte) {
		s := goldenSets[respClientSets[[]int{0, 2, 1}[int(which)%3]]]
		tr := newStreamer(t, s)
		out, err := drive(tr, s.upstream.NDJSON(), bytes.NewReader(body))
		if err != nil {
			out = tr.(Failer).Fail(out, "", err.Error())
		}
		checkResponsesStream(t, out)
	})
}
