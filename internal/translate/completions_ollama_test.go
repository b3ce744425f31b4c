package translate

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tidwall/gjson"
)

func TestOllamaCompletionsRequestGolden(t *testing.T) {
	goldenRequests(t, goldenSets["completions_ollama"])
}

func TestOllamaCompletionsRequest(t *testing.T) {
	ollRunRequestCases(t, "completions_ollama", []ollRequestCase{{
		name: "legacy default of 16 tokens when max_tokens is absent",
		in:   `{"model":"babbage","prompt":"Once upon"}`,
		want: `{"model":"tiny","prompt":"Once upon","options":{"num_predict":16},"stream":false}`,
	}, {
		name: "max_tokens null is the default too",
		in:   `{"prompt":"x","max_tokens":null,"stream":true}`,
		want: `{"model":"tiny","prompt":"x","options":{"num_predict":16},"stream":true}`,
	}, {
		name: "array of one string, suffix and options",
		in: `{"prompt":["def f():"],"suffix":"return 1","max_tokens":40,"temperature":0.2,"top_p":0.5,"seed":3,
			"stop":"\n\n","frequency_penalty":0.1,"presence_penalty":0.2,"n":1}`,
		want: `{"model":"tiny","prompt":"def f():","suffix":"return 1","options":{"num_predict":40,"temperature":0.2,"top_p":0.5,
			"seed":3,"stop":["\n\n"],"frequency_penalty":0.1,"presence_penalty":0.2},"stream":false}`,
	}, {
		name:        "fields without equivalent are dropped",
		in:          `{"prompt":"x","echo":true,"best_of":3,"logprobs":2,"logit_bias":{"5":1},"user":"u","stream_options":{"include_usage":true}}`,
		want:        `{"model":"tiny","prompt":"x","options":{"num_predict":16},"stream":false}`,
		wantDropped: []string{"echo", "best_of", "logprobs", "logit_bias", "user"},
	}, {
		name: "echo false is not a loss",
		in:   `{"prompt":"x","echo":false}`,
		want: `{"model":"tiny","prompt":"x","options":{"num_predict":16},"stream":false}`,
	}, {
		name:      "several prompts",
		in:        `{"prompt":["a","b"]}`,
		wantParam: "prompt",
	}, {
		name:      "token prompt",
		in:        `{"prompt":[1,2,3]}`,
		wantParam: "prompt",
	}, {
		name:      "missing prompt",
		in:        `{"model":"x"}`,
		wantParam: "prompt",
	}, {
		name:      "n above 1",
		in:        `{"prompt":"x","n":3}`,
		wantParam: "n",
	}})
}

func TestOllamaCompletionsResponseGolden(t *testing.T) {
	goldenResponses(t, goldenSets["completions_ollama"])
}

func TestOllamaCompletionsFacts(t *testing.T) {
	out, err := ollNew("completions_ollama").Response(readTestdata(t, "ollama-real/api_generate_nostream.body"))
	if err != nil {
		t.Fatal(err)
	}
	got := []string{
		gjson.GetBytes(out, "object").String(),
		gjson.GetBytes(out, "choices.0.text").String(),
		gjson.GetBytes(out, "choices.0.finish_reason").String(),
		gjson.GetBytes(out, "usage").Raw,
	}
	want := []string{"text_completion", "Hello! I am a tiny test model.", "stop", `{"prompt_tokens":29,"completion_tokens":10,"total_tokens":39}`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}

	tests := []struct {
		name      string
		file      string
		usage     bool
		wantLast  string // the last chunk before [DONE]
		wantFinal string // the chunk with finish_reason
	}{{
		name:      "length, text on the done line, no usage",
		file:      "fixtures/ollama-generate-stream.ndjson",
		wantFinal: `[{"text":"!","index":0,"logprobs":null,"finish_reason":"stop"}]`,
		wantLast:  `[{"text":"!","index":0,"logprobs":null,"finish_reason":"stop"}]`,
	}, {
		name:      "usage chunk with empty choices",
		file:      "ollama-real/api_generate_raw_length.body",
		usage:     true,
		wantFinal: `[{"text":"","index":0,"logprobs":null,"finish_reason":"length"}]`,
		wantLast:  `[]`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs := ollEvents(t, ollStreamOf(t, "completions_ollama", tt.usage, readTestdata(t, tt.file), nil))
			n := len(evs)
			if evs[n-1][1] != "[DONE]" {
				t.Fatalf("last event %q, want [DONE]", evs[n-1][1])
			}
			final := n - 2
			if tt.usage {
				final = n - 3
				if u := gjson.Get(evs[n-2][1], "usage").Raw; u != `{"prompt_tokens":9,"completion_tokens":32,"total_tokens":41}` {
					t.Errorf("usage = %s", u)
				}
			}
			got := []string{gjson.Get(evs[final][1], "choices").Raw, gjson.Get(evs[n-2][1], "choices").Raw}
			if diff := cmp.Diff([]string{tt.wantFinal, tt.wantLast}, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			for i, ev := range evs[:n-1] {
				if has := gjson.Get(ev[1], "usage").Exists(); has != tt.usage {
					t.Errorf("chunk %d: usage key present = %v, want %v", i, has, tt.usage)
				}
			}
		})
	}
}
