package translate

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tidwall/gjson"

	"github.com/llmrouter/llmrouter/internal/sse"
	"github.com/llmrouter/llmrouter/internal/wire"
)

// What a Responses upstream answers: OpenAI's recordings, OpenRouter's, and
// Ollama's own /v1/responses.
var (
	respBodies  = []string{"responses/openai-responses-response-*.json", "ollama-real/v1_responses_*nostream.body", "ollama-real/v1_responses_custom_tool.body"}
	respStreams = []string{"responses/*-stream-*.sse", "ollama-real/v1_responses_*_stream.body"}
)

// respUpstreamSets are the pairs of a Responses upstream.
var respUpstreamSets = []string{"openai_responses", "completions_responses", "anthropic_responses"}

func init() {
	goldenSets["openai_responses"] = goldenSet{pair: "openai_responses", client: wire.OpenAIChat, upstream: wire.OpenAIResponses,
		model: "up-model", requests: []string{"fixtures/openai-chat-request*.json"}, responses: respBodies, streams: respStreams,
		runs: []streamRun{{}, {usage: true, suffix: ".usage"}}, style: dashStyle}
	goldenSets["completions_responses"] = goldenSet{pair: "completions_responses", client: wire.OpenAICompletions,
		upstream: wire.OpenAIResponses, model: "up-model", requests: []string{"fixtures/openai-completions-request*.json"},
		responses: []string{"responses/openai-responses-response-text.json"}, streams: respStreams,
		runs: []streamRun{{usage: true}}, style: dashStyle}
	goldenSets["anthropic_responses"] = goldenSet{pair: "anthropic_responses", client: wire.AnthropicMessages,
		upstream: wire.OpenAIResponses, model: "up-model", requests: []string{"fixtures/anthropic-messages-request*.json"},
		responses: respBodies, streams: respStreams, runs: []streamRun{{}}, style: dashStyle}
}

func TestResponsesUpstreamGoldens(t *testing.T) {
	for _, name := range respUpstreamSets {
		t.Run(name, func(t *testing.T) { runGoldens(t, goldenSets[name]) })
	}
}

// Every Responses stream fixture cut at every byte: the decoder is the same for
// the three clients, so one client's output is checked. The test is quadratic
// and these events repeat the whole response: bodies over 8 KiB keep their
// first 4 and last 14 events (splitBody), the rest being more deltas of the
// same shapes.
func TestResponsesUpstreamStreamSplitEveryByte(t *testing.T) {
	splitEveryByteUnder(t, 8<<10, "openai_responses")
}

// The text, calls and reasoning of every recorded Responses stream reach a Chat
// client as the whole-body answer says them: streamed and not, the same answer.
func TestResponsesDecoderStreamAgreesWithBody(t *testing.T) {
	pairs := []struct{ stream, body string }{
		{"responses/openai-responses-stream-text.sse", "responses/openai-responses-response-text.json"},
		{"responses/openai-responses-stream-parallel-function-calls.sse", "responses/openai-responses-response-parallel-function-calls.json"},
		{"responses/openai-responses-stream-function-call.sse", "responses/openai-responses-response-function-call.json"},
		{"ollama-real/v1_responses_tools_stream.body", "ollama-real/v1_responses_tools_nostream.body"},
	}
	for _, p := range pairs {
		t.Run(stem(p.stream), func(t *testing.T) {
			dec := &responsesDecoder{}
			var ds []delta
			for _, ev := range upstreamEvents(t, readTestdata(t, p.stream), false) {
				var err error
				if ds, err = dec.next(ds, ev); err != nil {
					t.Fatal(err)
				}
			}
			streamed := collect(ds)
			r, err := (&responsesDecoder{}).reply(readTestdata(t, p.body))
			if err != nil {
				t.Fatal(err)
			}
			whole := collected{text: r.text, finish: r.finish}
			for _, tc := range r.tools {
				whole.calls = append(whole.calls, tc.name+" "+tc.args)
			}
			// The recordings of a stream and of a body are two runs: the calls'
			// names and the finish agree, the words need not.
			if diff := cmp.Diff(names(whole.calls), names(streamed.calls)); diff != "" || whole.finish != streamed.finish {
				t.Errorf("calls (-body +stream):\n%s finish %v %v", diff, whole.finish, streamed.finish)
			}
			if !dec.done() || streamed.done != 1 {
				t.Errorf("done %v, %d done deltas", dec.done(), streamed.done)
			}
		})
	}
}

// collected is what a run of deltas says.
type collected struct {
	text   string
	calls  []string
	finish finish
	done   int
}

func collect(ds []delta) collected {
	var c collected
	var args []string
	var nameOf []string
	for _, d := range ds {
		switch d.kind {
		case kindText:
			c.text += d.text
		case kindToolCall:
			nameOf = append(nameOf, d.name)
			args = append(args, d.text)
		case kindToolArgs:
			args[d.tool] += d.text
		case kindFinish:
			c.finish = d.finish
		case kindDone:
			c.done++
		}
	}
	for i := range args {
		c.calls = append(c.calls, nameOf[i]+" "+args[i])
	}
	return c
}

func names(calls []string) []string {
	var out []string
	for _, c := range calls {
		out = append(out, string(bytes.SplitN([]byte(c), []byte(" "), 2)[0]))
	}
	return out
}

// Every new pair reports the request's usage through Usage(), read from the body
// or the events that carry it.
func TestResponsesTranslatorUsage(t *testing.T) {
	tests := []struct {
		pair   string
		stream bool
		file   string
		want   Usage
	}{
		{"openai_responses", true, "responses/openai-responses-stream-reasoning-summary.sse", Usage{Input: 63, Output: 121, Reasoning: 64}},
		{"completions_responses", true, "responses/openai-responses-stream-custom-tool.sse", Usage{Input: 63, Output: 151, Reasoning: 128}},
		{"anthropic_responses", true, "ollama-real/v1_responses_think_stream.body", Usage{Input: 30, Output: 19}},
		{"anthropic_responses", false, "ollama-real/v1_responses_tools_nostream.body", Usage{Input: 534, Output: 10}},
		{"openai_responses", false, "responses/openai-responses-response-reasoning-summary.json", Usage{Input: 63, Output: 212, Reasoning: 128}},
		{"responses_anthropic", true, "fixtures/anthropic-messages-stream-text.sse", Usage{Input: 11, Output: 6}},
		{"responses_anthropic", false, "fixtures/anthropic-messages-response.json", Usage{Input: 16, Output: 34}},
		{"responses_ollama", true, "ollama-real/api_chat_stream.body", Usage{Input: 29, Output: 10}},
		{"responses_ollama", false, "ollama-real/api_chat_think_nostream.body", Usage{Input: 30, Output: 19}},
		{"responses_openai", true, "fixtures/openai-chat-stream-reasoning-length.sse", Usage{Input: 12, Output: 100, Reasoning: 100}},
		{"responses_openai", false, "fixtures/openai-chat-response.json", Usage{Input: 19, Output: 10}},
	}
	for _, tt := range tests {
		t.Run(tt.pair+"/"+stem(tt.file), func(t *testing.T) {
			s := goldenSets[tt.pair]
			tr := newStreamer(t, s)
			body := readTestdata(t, tt.file)
			var err error
			if tt.stream {
				_, err = drive(tr, s.upstream.NDJSON(), bytes.NewReader(body))
			} else {
				_, err = tr.Response(body)
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, tr.Usage()); diff != "" {
				t.Errorf("Usage (-want +got):\n%s", diff)
			}
		})
	}
}

// A Responses upstream's non-answers are *ShapeErrors; its errors, in a body or
// in the stream (both shapes of the error event, and response.failed), are
// *StreamErrors with its code and message; nothing is appended for them.
func TestResponsesDecoderRejects(t *testing.T) {
	for _, body := range []string{`{"unexpected":true}`, `[1,2]`, `"text"`, `not json`, `{"output":`} {
		_, err := goldenSets["openai_responses"].newFixed().Response([]byte(body))
		var se *ShapeError
		if !errors.As(err, &se) || se.Protocol != wire.OpenAIResponses {
			t.Errorf("Response(%s) = %v, want a *ShapeError", body, err)
		}
	}
	errs := []struct {
		name string
		ev   sse.Event
		want StreamError
	}{
		{"an error body", sse.Event{Data: []byte(`{"error":{"message":"boom","type":"server_error","param":null,"code":null}}`)},
			StreamError{Type: "server_error", Message: "boom"}},
		{"the spec's error event", sse.Event{Name: "error", Data: []byte(`{"type":"error","code":"server_error","message":"Sorry","param":null,"sequence_number":2}`)},
			StreamError{Type: "server_error", Message: "Sorry"}},
		{"response.failed", sse.Event{Data: []byte(`{"type":"response.failed","sequence_number":3,"response":{"id":"r","status":"failed","error":{"code":"rate_limit_exceeded","message":"slow down"},"output":[]}}`)},
			StreamError{Type: "rate_limit_exceeded", Message: "slow down"}},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			out, err := newTranslator(t, "anthropic_responses").Stream([]byte("before"), tt.ev)
			var se *StreamError
			if !errors.As(err, &se) || string(out) != "before" {
				t.Fatalf("Stream = %q, %v; want nothing appended and a *StreamError", out, err)
			}
			if diff := cmp.Diff(tt.want, *se); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	if _, err := newTranslator(t, "openai_responses").Stream(nil, sse.Event{Data: []byte(`{"unexpected":true}`)}); !errors.As(err, new(*ShapeError)) {
		t.Errorf("an event without a type: %v, want a *ShapeError", err)
	}
}

// An upstream that sends each item only whole, in output_item.done (Codex
// accepts such streams, docs/protocols.md §15.5), still gives the client every word and
// call.
func TestResponsesDecoderItemsSaidOnlyWhenDone(t *testing.T) {
	for _, f := range []string{"responses/openai-responses-stream-text.sse", "responses/openai-responses-stream-parallel-function-calls.sse",
		"responses/openai-responses-stream-custom-tool.sse"} {
		t.Run(stem(f), func(t *testing.T) {
			var full, bare []byte
			for _, ev := range upstreamEvents(t, readTestdata(t, f), false) {
				full = sse.AppendEvent(full, ev.Name, ev.Data)
				if !strings.HasSuffix(ev.Name, ".delta") && !strings.HasSuffix(ev.Name, "_item.added") {
					bare = sse.AppendEvent(bare, ev.Name, ev.Data)
				}
			}
			s := goldenSets["openai_responses"]
			reply := func(body []byte) string {
				out, err := drive(newStreamer(t, s), false, bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				return string(assembleChat(t, out))
			}
			if diff := cmp.Diff(reply(full), reply(bare)); diff != "" {
				t.Errorf("answer (-deltas +done only):\n%s", diff)
			}
		})
	}
}

// assembleChat joins a Chat stream's content and tool call arguments by index.
func assembleChat(t *testing.T, out []byte) []byte {
	var text string
	calls := map[int64]string{}
	for _, ev := range sseEvents(t, out) {
		d := gjson.GetBytes(ev.Data, "choices.0.delta")
		text += d.Get("content").String()
		d.Get("tool_calls").ForEach(func(_, tc gjson.Result) bool {
			i := tc.Get("index").Int()
			if name := tc.Get("function.name").String(); name != "" {
				calls[i] += name + ":"
			}
			calls[i] += tc.Get("function.arguments").String()
			return true
		})
	}
	return fmt.Appendf(nil, "%s %v", text, calls)
}
