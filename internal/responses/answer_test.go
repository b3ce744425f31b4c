package responses

import "testing"

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
				m, f := ReadAnswer(data)
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
