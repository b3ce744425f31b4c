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
