package translate

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"

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

func TestResponsesUpstreamStreamSplitEveryByte(t *testing.T) {
	splitEveryByte(t, respUpstreamSets...)
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
