package openai

import "testing"

func TestLimitFieldFor(t *testing.T) {
	tests := []struct {
		endpoint string
		want     LimitField
	}{
		{"https://api.openai.com/v1", MaxCompletionTokens},
		{"https://API.OpenAI.com:443/v1", MaxCompletionTokens},
		{"https://api.openai.com./v1", MaxCompletionTokens},
		{"https://my-resource.openai.azure.com/openai/deployments/o3/", MaxCompletionTokens},
		{"http://127.0.0.1:11434/v1", MaxTokens},    // Ollama's OpenAI layer
		{"http://vllm.internal:8000/v1", MaxTokens}, // vLLM
		{"https://openrouter.ai/api/v1", MaxTokens}, // OpenRouter
		{"https://api.openai.com.evil.example/v1", MaxTokens},
		{"https://notopenai.azure.com/v1", MaxTokens},
		{"::not a url", MaxTokens},
	}
	for _, tt := range tests {
		if got := LimitFieldFor(tt.endpoint); got != tt.want {
			t.Errorf("LimitFieldFor(%q) = %q, want %q", tt.endpoint, got, tt.want)
		}
	}
}

func TestFitLimit(t *testing.T) {
	tests := []struct {
		name, field, body, want string
		api                     API
	}{
		{"renamed for a server that reads max_tokens", "max_tokens",
			`{"model":"m","max_completion_tokens":5,"messages":[]}`, `{"model":"m","messages":[],"max_tokens":5}`, Chat},
		{"kept for OpenAI", "max_completion_tokens",
			`{"model":"m","max_completion_tokens":5}`, `{"model":"m","max_completion_tokens":5}`, Chat},
		{"the client's own max_tokens wins", "max_tokens",
			`{"max_tokens":3,"max_completion_tokens":5}`, `{"max_tokens":3,"max_completion_tokens":5}`, Chat},
		{"max_tokens is left alone", "max_completion_tokens", `{"max_tokens":3}`, `{"max_tokens":3}`, Chat},
		{"no limit", "max_tokens", `{"model":"m"}`, `{"model":"m"}`, Chat},
		{"legacy completions", "max_tokens", `{"max_completion_tokens":5}`, `{"max_completion_tokens":5}`, Completions},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.body)
			got, err := tt.api.FitLimit(in, tt.field)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("FitLimit = %s, want %s", got, tt.want)
			}
			if string(in) != tt.body {
				t.Errorf("FitLimit wrote into its input: %s", in)
			}
		})
	}
}
