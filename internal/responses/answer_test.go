package responses

import (
	"strings"
	"testing"
)

func TestReadAnswer(t *testing.T) {
	type answer struct{ model, finish string }
	tests := []struct {
		name string
		want answer
	}{
		{"responses/openai-responses-response-text.json", answer{"gpt-4o-2024-08-06", "completed"}},
		{"responses/openai-responses-response-incomplete-reasoning.json", answer{"gpt-5-nano-2025-08-07", "max_output_tokens"}},
		{"responses/openai-responses-stream-text.sse", answer{"gpt-4o-2024-08-06", "completed"}},
		{"responses/openai-responses-stream-incomplete-reasoning.sse", answer{"gpt-5-nano-2025-08-07", "max_output_tokens"}},
		{"responses/openai-responses-stream-error-failed.sse", answer{"", "failed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got answer
			read := func(data []byte) {
				m, f, _ := ReadAnswer(data, false)
				if m != "" {
					got.model = m
				}
				if f != "" {
					got.finish = f
				}
			}
			if b := readTestdata(t, tt.name); b[0] == '{' {
				read(b)
			} else {
				for _, ev := range events(t, tt.name) {
					read(ev.Data)
				}
			}
			if got.finish != tt.want.finish || (tt.want.model != "" && got.model != tt.want.model) {
				t.Errorf("answer = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// With content, the text of a body and of a stream's deltas is the same answer,
// and a terminal event's copy of the output is not counted twice.
func TestReadAnswerText(t *testing.T) {
	_, _, body := ReadAnswer(readTestdata(t, "responses/openai-responses-response-text.json"), true)
	var stream strings.Builder
	for _, ev := range events(t, "responses/openai-responses-stream-text.sse") {
		_, _, piece := ReadAnswer(ev.Data, true)
		stream.WriteString(piece)
	}
	if body == "" || stream.String() == "" {
		t.Fatalf("no text: body %q, stream %q", body, stream.String())
	}
	if _, _, none := ReadAnswer(readTestdata(t, "responses/openai-responses-response-text.json"), false); none != "" {
		t.Errorf("text read without content: %q", none)
	}
}
