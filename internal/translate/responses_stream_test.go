package translate

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/llmrouter/llmrouter/internal/sse"
	"github.com/llmrouter/llmrouter/internal/wire"
)

// respStreamer is a fixed translator from a Responses client to upstream, after
// its Request of body.
func respStreamer(t *testing.T, upstream wire.Protocol, body string) Translator {
	t.Helper()
	tr := fixed(New(wire.OpenAIResponses, upstream, Options{Model: "up"}))
	if _, err := tr.Request([]byte(body)); err != nil {
		t.Fatal(err)
	}
	return tr
}

// anthropicToolStream is the recorded anthropic-messages-stream-tools.sse with
// the tool named name and its input_json_delta fragments replaced by args cut
// every cut bytes.
func anthropicToolStream(t *testing.T, name, args string, cut int) []byte {
	t.Helper()
	var b []byte
	replaced := false
	for _, ev := range upstreamEvents(t, readFixture(t, "anthropic-messages-stream-tools.sse"), false) {
		data := ev.Data
		switch {
		case gjson.GetBytes(data, "content_block.type").String() == "tool_use":
			data, _ = sjson.SetBytes(data, "content_block.name", name)
		case gjson.GetBytes(data, "delta.type").String() == "input_json_delta":
			if replaced {
				continue
			}
			replaced = true
			for i := 0; i < len(args); i += cut {
				frag, _ := sjson.SetBytes(data, "delta.partial_json", args[i:min(i+cut, len(args))])
				b = sse.AppendEvent(b, ev.Name, frag)
			}
			continue
		}
		b = sse.AppendEvent(b, ev.Name, data)
	}
	return b
}

// A custom tool called through a function with one string parameter comes back
// as a custom_tool_call whose input streams as it is written, however the
// arguments were cut (escapes and surrogate pairs included), as raw text.
func TestResponsesCustomToolCallStreams(t *testing.T) {
	const req = `{"model":"m","stream":true,"input":"patch it","tools":[{"type":"custom","name":"apply_patch",
		"format":{"type":"grammar","syntax":"lark","definition":"start: /.+/"}}]}`
	patch := "*** Begin Patch\n*** Add File: a.txt\n+café 😀 \"q\" \\ / \t\n*** End Patch\n"
	args := customArgs(patch)
	args = strings.Replace(args, "é", `\u00e9`, 1)
	args = strings.Replace(args, "😀", `\ud83d\ude00`, 1)
	args = strings.Replace(args, "/", `\/`, 1)
	for cut := 1; cut <= 9; cut++ {
		tr := respStreamer(t, wire.AnthropicMessages, req)
		out, err := drive(tr, false, bytes.NewReader(anthropicToolStream(t, "apply_patch", " "+args, cut)))
		if err != nil {
			t.Fatal(err)
		}
		r := checkResponsesStream(t, out)
		want := []string{`message completed [output_text:I'll check the current weather in Paris for you.]`,
			`custom_tool_call toolu_01NRLabsLyVHZPKxbKvkfSMn apply_patch(` + strconv.Quote(patch) + `) completed`}
		if diff := cmp.Diff(want, describe(r)); diff != "" {
			t.Errorf("cut %d: (-want +got):\n%s", cut, diff)
		}
		if n := bytes.Count(out, []byte("event: response.custom_tool_call_input.delta\n")); cut < 8 && n < 5 {
			t.Errorf("cut %d: %d input deltas: the input was not streamed", cut, n)
		}
	}
}

// Arguments that are not {"input": "…"} are read whole at the end: the only
// string member, or the text itself.
func TestResponsesCustomToolCallOtherShapes(t *testing.T) {
	const req = `{"model":"m","stream":true,"input":"x","tools":[{"type":"custom","name":"sql"}]}`
	tests := []struct{ args, want string }{
		{`{"query":"SELECT 1"}`, "SELECT 1"},
		{`{"a":1,"input":"late"}`, "late"},
		{`{}`, ""},
		{`{"a":1,"b":2}`, `{"a":1,"b":2}`},
	}
	for _, tt := range tests {
		tr := respStreamer(t, wire.AnthropicMessages, req)
		out, err := drive(tr, false, bytes.NewReader(anthropicToolStream(t, "sql", tt.args, 3)))
		if err != nil {
			t.Fatal(err)
		}
		r := checkResponsesStream(t, out)
		if got := r.Output[1].Input; got != tt.want {
			t.Errorf("args %s: input %q, want %q", tt.args, got, tt.want)
		}
	}
}

// Signed thinking from Anthropic goes to a Responses client that asked for
// encrypted reasoning inside the reasoning item, and comes back from it as the
// very block, signature included; without include it is not sent, and on a
// route to another provider it is dropped.
func TestResponsesCarryAnthropicThinking(t *testing.T) {
	const req = `{"model":"m","stream":true,"include":["reasoning.encrypted_content"],"reasoning":{"effort":"high"},
		"input":"weather?","tools":[{"type":"function","name":"weather","parameters":{"type":"object"}}]}`
	fixture := readFixture(t, "anthropic-messages-stream-thinking.sse")
	var thinking, signature strings.Builder
	for _, ev := range upstreamEvents(t, fixture, false) {
		thinking.WriteString(gjson.GetBytes(ev.Data, "delta.thinking").String())
		signature.WriteString(gjson.GetBytes(ev.Data, "delta.signature").String())
	}
	out, err := drive(respStreamer(t, wire.AnthropicMessages, req), false, bytes.NewReader(fixture))
	if err != nil {
		t.Fatal(err)
	}
	r := checkResponsesStream(t, out)
	rs, call := r.Output[0], r.Output[1]
	if rs.Type != "reasoning" || !strings.HasPrefix(rs.EncryptedContent, carryPrefix) || rs.Summary[0].Text != thinking.String() {
		t.Fatalf("reasoning item %+v", rs)
	}
	// The next turn, as Codex sends it: the reasoning item, the call, its output.
	items, _ := json.Marshal([]any{
		map[string]any{"type": "message", "role": "user", "content": "weather?"},
		map[string]any{"type": "reasoning", "id": rs.ID, "summary": []any{map[string]any{"type": "summary_text", "text": rs.Summary[0].Text}},
			"encrypted_content": rs.EncryptedContent},
		map[string]any{"type": "function_call", "id": call.ID, "call_id": call.CallID, "name": call.Name, "arguments": call.Arguments.OfString},
		map[string]any{"type": "function_call_output", "call_id": call.CallID, "output": "sunny"},
	})
	next := `{"model":"m","input":` + string(items) + `}`
	got, dropped, err := convertResponses(t, wire.AnthropicMessages, Options{}, next)
	if err != nil || len(dropped) > 0 {
		t.Fatalf("err %v, dropped %v", err, dropped)
	}
	block := got.(map[string]any)["messages"].([]any)[1].(map[string]any)["content"].([]any)[0]
	want := map[string]any{"type": "thinking", "thinking": thinking.String(), "signature": signature.String()}
	if diff := cmp.Diff(want, block); diff != "" {
		t.Errorf("thinking block sent back (-want +got):\n%s", diff)
	}
	if _, dropped, _ := convertResponses(t, wire.OllamaChat, Options{}, next); !cmp.Equal(dropped, []string{"input[1].encrypted_content"}) {
		t.Errorf("to ollama: dropped %v", dropped)
	}
	plain := strings.Replace(req, `"include":["reasoning.encrypted_content"],`, "", 1)
	out, _ = drive(respStreamer(t, wire.AnthropicMessages, plain), false, bytes.NewReader(fixture))
	if r := checkResponsesStream(t, out); r.Output[0].EncryptedContent != "" {
		t.Error("encrypted_content sent without include")
	}
}

// The same, for a whole (non-streaming) answer.
func TestResponsesCarryAnthropicThinkingWhole(t *testing.T) {
	body := readFixture(t, "anthropic-messages-response-thinking.json")
	tr := respStreamer(t, wire.AnthropicMessages, `{"model":"m","include":["reasoning.encrypted_content"],"input":"x"}`)
	out, err := tr.Response(body)
	if err != nil {
		t.Fatal(err)
	}
	r := checkResponseBody(t, out)
	block, ok := carriedThinking(r.Output[0].EncryptedContent)
	want := map[string]any{"type": "thinking", "thinking": gjson.GetBytes(body, "content.0.thinking").String(),
		"signature": gjson.GetBytes(body, "content.0.signature").String()}
	b, _ := json.Marshal(block)
	if diff := cmp.Diff(want, decodeJSON(t, b)); !ok || diff != "" {
		t.Errorf("carried block (-want +got):\n%s", diff)
	}
}

// How the stream ends: a length cut is response.incomplete with the item it
// cut incomplete; a refusal is incomplete for content_filter.
func TestResponsesStreamEnds(t *testing.T) {
	tests := []struct {
		pair, fixture, reason string
		itemStatus            string
	}{
		{"responses_anthropic", "fixtures/anthropic-messages-stream-max-tokens.sse", "max_output_tokens", "incomplete"},
		{"responses_anthropic", "fixtures/anthropic-messages-stream-refusal.sse", "content_filter", ""},
		{"responses_openai", "fixtures/openai-chat-stream-reasoning-length.sse", "max_output_tokens", ""},
		{"responses_ollama", "ollama-real/api_chat_length_stream.body", "max_output_tokens", "incomplete"},
	}
	for _, tt := range tests {
		t.Run(stem(tt.fixture), func(t *testing.T) {
			s := goldenSets[tt.pair]
			out, err := drive(newStreamer(t, s), s.upstream.NDJSON(), bytes.NewReader(readTestdata(t, tt.fixture)))
			if err != nil {
				t.Fatal(err)
			}
			r := checkResponsesStream(t, out)
			if r.Status != "incomplete" || r.IncompleteDetails.Reason != tt.reason {
				t.Errorf("status %s reason %q, want incomplete %s", r.Status, r.IncompleteDetails.Reason, tt.reason)
			}
			if tt.itemStatus == "" {
				return
			}
			if last := r.Output[len(r.Output)-1]; string(last.Status) != tt.itemStatus {
				t.Errorf("the cut item %s has status %s, want %s", last.ID, last.Status, tt.itemStatus)
			}
		})
	}
}

// Usage reaches the client's response.usage: input with the cache reads,
// cached_tokens, cache writes, output.
func TestResponsesUsageCarriesCache(t *testing.T) {
	tr := respStreamer(t, wire.AnthropicMessages, `{"model":"m","input":"x"}`)
	out, err := tr.Response([]byte(`{"type":"message","content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn",
		"usage":{"input_tokens":10,"cache_creation_input_tokens":5,"cache_read_input_tokens":20,"output_tokens":7}}`))
	if err != nil {
		t.Fatal(err)
	}
	r := checkResponseBody(t, out)
	got := []int64{r.Usage.InputTokens, r.Usage.InputTokensDetails.CachedTokens, r.Usage.InputTokensDetails.CacheWriteTokens,
		r.Usage.OutputTokens, r.Usage.TotalTokens}
	if diff := cmp.Diff([]int64{35, 20, 5, 7, 42}, got); diff != "" {
		t.Errorf("usage (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(Usage{Input: 35, Output: 7, CacheRead: 20, CacheWrite: 5}, tr.Usage()); diff != "" {
		t.Errorf("Usage() (-want +got):\n%s", diff)
	}
}

// A Responses client's stream repeats its whole output in its done and terminal
// events, so the encoder keeps it, up to maxResponsesOutput: past that the stream
// fails with a *StreamError instead of growing without bound.
func TestResponsesClientOutputBounded(t *testing.T) {
	tr := respStreamer(t, wire.OllamaChat, `{"model":"m","stream":true,"input":"x"}`)
	chunk := strings.Repeat("x", 64<<10)
	line, _ := json.Marshal(map[string]any{"model": "m", "created_at": "2026-11-27T04:31:58Z",
		"message": map[string]any{"role": "assistant", "content": chunk}, "done": false})
	var err error
	n := 0
	for ; n < 2*maxResponsesOutput/len(chunk) && err == nil; n++ {
		_, err = tr.Stream(nil, sse.Event{Data: line})
	}
	var se *StreamError
	if !errors.As(err, &se) || n != maxResponsesOutput/len(chunk)+1 {
		t.Fatalf("after %d events of 64 KiB: %v, want a *StreamError on the event that passes %d bytes", n, err, maxResponsesOutput)
	}
}

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
