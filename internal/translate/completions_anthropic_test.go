package translate

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/llmrouter/llmrouter/internal/openai"
	"github.com/llmrouter/llmrouter/internal/wire"
)

func TestCompletionsToAnthropicGolden(t *testing.T) {
	runGoldens(t, goldenSets["completions_anthropic"])
}

func TestCompletionsToAnthropicRequest(t *testing.T) {
	tests := []struct {
		name        string
		opt         Options
		body        string
		want        string
		wantDropped []string
	}{{
		name: "prompt string, legacy default max_tokens 16 even with Options.MaxTokens",
		opt:  Options{Model: "claude-test", MaxTokens: 999},
		body: `{"model":"gpt-3.5-turbo-instruct","prompt":"Once upon"}`,
		want: `{"model":"claude-test","max_tokens":16,"messages":[{"role":"user","content":"Once upon"}]}`,
	}, {
		name: "array of one prompt, sampling, stop, user, stream; unsupported fields dropped",
		opt:  Options{Model: "claude-test"},
		body: `{"prompt":["p"],"max_tokens":5,"temperature":0.2,"top_p":0.5,"stop":["\n"],"user":"u","stream":true,
			"stream_options":{"include_usage":true},"suffix":"s","best_of":2,"logprobs":3,"logit_bias":{},"echo":false,"n":1,"seed":7}`,
		want: `{"model":"claude-test","max_tokens":5,"messages":[{"role":"user","content":"p"}],"metadata":{"user_id":"u"},
			"stop_sequences":["\n"],"temperature":0.2,"top_p":0.5,"stream":true}`,
		wantDropped: []string{"suffix", "best_of", "logprobs", "logit_bias", "seed"},
	}, {
		name: "client model when Options.Model is empty",
		body: `{"model":"claude-direct","prompt":"x","max_tokens":3}`,
		want: `{"model":"claude-direct","max_tokens":3,"messages":[{"role":"user","content":"x"}]}`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := New(wire.OpenAICompletions, wire.AnthropicMessages, tt.opt)
			out, err := tr.Request([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(decodeJSON(t, []byte(tt.want)), decodeJSON(t, out)); diff != "" {
				t.Errorf("request (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantDropped, tr.Dropped()); diff != "" {
				t.Errorf("Dropped (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCompletionsToAnthropicRequestErrors(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		wantParam string
	}{
		{"no prompt", `{"model":"m"}`, "prompt"},
		{"several prompts", `{"prompt":["a","b"]}`, "prompt"},
		{"token prompt", `{"prompt":[1,2,3]}`, "prompt"},
		{"token prompts", `{"prompt":[[1,2]]}`, "prompt"},
		{"n above 1", `{"prompt":"a","n":3}`, "n"},
		{"echo", `{"prompt":"a","echo":true}`, "echo"},
		{"temperature string", `{"prompt":"a","temperature":"hot"}`, "temperature"},
		{"invalid JSON", `{"prompt":`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(wire.OpenAICompletions, wire.AnthropicMessages, Options{}).Request([]byte(tt.body))
			var re *RequestError
			if !errors.As(err, &re) {
				t.Fatalf("err = %v, want a *RequestError", err)
			}
			if re.Param != tt.wantParam {
				t.Errorf("Param = %q, want %q (%v)", re.Param, tt.wantParam, err)
			}
		})
	}
}

func TestCompletionsToAnthropicResponse(t *testing.T) {
	body := `{"id":"msg_1","model":"claude-x","content":[{"type":"thinking","thinking":"t","signature":"s"},
		{"type":"text","text":"def fib"}],"stop_reason":"max_tokens",
		"usage":{"input_tokens":3,"cache_read_input_tokens":2,"output_tokens":16}}`
	want := `{"id":"cmpl-1","object":"text_completion","created":1700000000,"model":"claude-x",
		"choices":[{"text":"def fib","index":0,"logprobs":null,"finish_reason":"length"}],
		"usage":{"prompt_tokens":5,"completion_tokens":16,"total_tokens":21}}`
	out, err := fixed(New(wire.OpenAICompletions, wire.AnthropicMessages, Options{})).Response([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(decodeJSON(t, []byte(want)), decodeJSON(t, out)); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}
}

// TestCompletionsStreamShape checks the legacy chunk sequence: text chunks with
// finish_reason null, one chunk with text "" and the finish reason, the usage chunk
// with empty choices (only with include_usage), then [DONE].
func TestCompletionsStreamShape(t *testing.T) {
	tests := []struct {
		name       string
		usage      bool
		wantTexts  []string
		wantFinish string
		wantUsage  *openai.Usage
	}{
		{"with include_usage", true, []string{"Hello", " there", "!"}, "stop", &openai.Usage{PromptTokens: 11, CompletionTokens: 6, TotalTokens: 17}},
		{"without include_usage", false, []string{"Hello", " there", "!"}, "stop", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := fixed(New(wire.OpenAICompletions, wire.AnthropicMessages, Options{}))
			req := `{"prompt":"p","stream":true}`
			if tt.usage {
				req = `{"prompt":"p","stream":true,"stream_options":{"include_usage":true}}`
			}
			if _, err := tr.Request([]byte(req)); err != nil {
				t.Fatal(err)
			}
			out, err := runStream(tr, bytes.NewReader(readFixture(t, "anthropic-messages-stream-text.sse")))
			if err != nil {
				t.Fatal(err)
			}
			var texts []string
			var finish string
			var usage *openai.Usage
			evs := sseEvents(t, out)
			if string(evs[len(evs)-1].Data) != "[DONE]" {
				t.Fatalf("last event is %s", evs[len(evs)-1].Data)
			}
			for _, ev := range evs[:len(evs)-1] {
				var c struct {
					openai.TextCompletion
					Usage *openai.Usage `json:"usage"` // null on ordinary chunks
				}
				if err := json.Unmarshal(ev.Data, &c); err != nil {
					t.Fatal(err)
				}
				if c.Object != "text_completion" || c.ID != "cmpl-4QpJur2dWWDjF6C758FbBw5vm12BaVipnK" || c.Model != "claude-3-opus-latest" {
					t.Errorf("chunk header %q %q %q", c.Object, c.ID, c.Model)
				}
				switch {
				case c.Usage != nil:
					usage = c.Usage
				case c.Choices[0].FinishReason != nil:
					finish = *c.Choices[0].FinishReason
					if c.Choices[0].Text != "" {
						t.Errorf("finish chunk has text %q", c.Choices[0].Text)
					}
				default:
					texts = append(texts, c.Choices[0].Text)
				}
			}
			if diff := cmp.Diff(tt.wantTexts, texts); diff != "" {
				t.Errorf("texts (-want +got):\n%s", diff)
			}
			if finish != tt.wantFinish {
				t.Errorf("finish = %q, want %q", finish, tt.wantFinish)
			}
			if diff := cmp.Diff(tt.wantUsage, usage); diff != "" {
				t.Errorf("usage (-want +got):\n%s", diff)
			}
		})
	}
}
