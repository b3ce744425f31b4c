package translate

// Wire-format fidelity: each test pins one rule of the target protocol that an
// audit found broken (each failed before its fix). Every test cites the line of the
// protocol digest (docs/protocols.md), of a recorded
// fixture (testdata/fixtures, copies of the digest's fixtures) or of the
// official SDK source that fixes the expected shape.

import (
	"bytes"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/llmrouter/llmrouter/internal/wire"
)

// An OpenAI chat.completion built from an Anthropic message must carry
// message.refusal (null when there is none).
//
//   - docs/protocols.md:58 (§1.2): `message:{role:"assistant", content:string|null,
//     refusal:string|null, annotations?, tool_calls?:[…]}`: refusal has no "?",
//     unlike the optional annotations/tool_calls.
//   - fixtures/openai-chat-response.json:12: `"refusal": null` (official example).
//   - openai-go v3.98.0 chatcompletion.go:2597: ChatCompletionMessage
//     Refusal string with tag json:"refusal" api:"required".
//
// The Ollama converter wrote it and the Anthropic one did not; both now go through
// the chat encoder (encode_openai.go).
func TestFidelityAnthropicToChatResponseCarriesRefusal(t *testing.T) {
	out, err := fixed(New(wire.OpenAIChat, wire.AnthropicMessages, Options{})).
		Response(readFixture(t, "anthropic-messages-response.json"))
	if err != nil {
		t.Fatal(err)
	}
	ref := gjson.GetBytes(out, "choices.0.message.refusal")
	if !ref.Exists() || ref.Type != gjson.Null {
		t.Errorf("choices[0].message.refusal = %q (exists=%v), want null; message: %s",
			ref.Raw, ref.Exists(), gjson.GetBytes(out, "choices.0.message").Raw)
	}
}

// usageChunksCheck runs an Anthropic stream fixture through pair (whose client asked
// for stream_options.include_usage) and checks that every chunk before the final
// usage chunk carries "usage": null.
func usageChunksCheck(t *testing.T, pair, fixture string) {
	t.Helper()
	out, err := runStream(newTranslator(t, pair), bytes.NewReader(readFixture(t, fixture)))
	if err != nil {
		t.Fatal(err)
	}
	evs := sseEvents(t, out)
	if len(evs) < 3 || string(evs[len(evs)-1].Data) != "[DONE]" {
		t.Fatalf("unexpected stream shape:\n%s", out)
	}
	usage := evs[len(evs)-2]
	if gjson.GetBytes(usage.Data, "choices").Raw != "[]" || !gjson.GetBytes(usage.Data, "usage").IsObject() {
		t.Fatalf("second to last event is not the usage chunk: %s", usage.Data)
	}
	for i, ev := range evs[:len(evs)-2] {
		if u := gjson.GetBytes(ev.Data, "usage"); !u.Exists() || u.Type != gjson.Null {
			t.Errorf("chunk %d has usage %q (exists=%v), want null: %s", i, u.Raw, u.Exists(), ev.Data)
		}
	}
}

// With stream_options.include_usage, every chat chunk before the usage chunk says
// "usage": null.
//
//   - docs/protocols.md:88 (§1.3 step 5): "Every earlier chunk then carries `"usage":null`."
//   - fixtures/openai-chat-stream-usage.sse:1 (recorded gpt-4o traffic): the role chunk
//     ends with `"usage":null`, as do all chunks up to the usage chunk.
//
// The Ollama converter wrote it and the Anthropic one did not (its chunk's usage was
// `omitempty` and never set to null); both now go through the chat encoder.
func TestFidelityAnthropicStreamToChatUsageNullBeforeUsageChunk(t *testing.T) {
	usageChunksCheck(t, "openai_anthropic", "anthropic-messages-stream-text.sse")
}

// The same rule for legacy completions chunks.
//
//   - docs/protocols.md:113-115 (§2 Streaming): chunks have "the same shape as the
//     response"; with include_usage a final chunk has `"choices":[]` and usage
//     (pointing at fixtures/openai-completions-stream-usage.sse).
//   - fixtures/openai-completions-stream-usage.sse:1 (recorded): every text_completion
//     chunk before the usage chunk ends with `"usage":null`.
//
// The Ollama converter wrote it and the Anthropic one did not; both now go through
// the completions encoder (encode_openai.go).
func TestFidelityAnthropicStreamToCompletionsUsageNullBeforeUsageChunk(t *testing.T) {
	usageChunksCheck(t, "completions_anthropic", "anthropic-messages-stream-text.sse")
}

// Ollama omits a token's top_logprobs when the request asked for none (ollama/ollama
// api/types.go: TopLogprobs []TokenLogprob with tag json:"top_logprobs,omitempty"), and
// ollamaLogprobs (decode_ollama.go) passed the entries through unchanged, so the
// OpenAI token logprob lacked a required member.
//
//   - openai-go v3.98.0 chatcompletion.go:3545/3552: ChatCompletionTokenLogprob
//     Bytes []int64 with tag json:"bytes" api:"required" and
//     TopLogprobs with tag json:"top_logprobs" api:"required".
//   - fixtures/openai-chat-stream-tools.sse:3 (openai-go test body): a request with
//     logprobs but no top_logprobs gets `"top_logprobs":[]`, present and empty.
func TestFidelityOllamaLogprobsKeepRequiredTopLogprobs(t *testing.T) {
	// What Ollama writes for {"logprobs":true} without top_logprobs.
	body := `{"model":"m","created_at":"2025-01-01T00:00:00Z","message":{"role":"assistant","content":"Hi"},` +
		`"done":true,"done_reason":"stop","logprobs":[{"token":"Hi","logprob":-0.1,"bytes":[72,105]}]}`
	out, err := ollNew("openai_ollama").Response([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	entry := gjson.GetBytes(out, "choices.0.logprobs.content.0")
	if top := entry.Get("top_logprobs"); !top.IsArray() {
		t.Errorf("choices[0].logprobs.content[0] = %s, want a top_logprobs array (empty when none)", entry.Raw)
	}
}
