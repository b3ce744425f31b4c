package wire

import "testing"

func TestOpenAIUpstream(t *testing.T) {
	tests := []struct {
		name   string
		client Protocol
		apis   []string
		want   Protocol
	}{
		{"default serves responses", OpenAIResponses, nil, OpenAIResponses},
		{"default serves chat", OpenAIChat, nil, OpenAIChat},
		{"default: anthropic clients are translated to chat", AnthropicMessages, nil, OpenAIChat},
		{"chat-only endpoint: responses translated to chat", OpenAIResponses, []string{"chat", "completions"}, OpenAIChat},
		{"chat-only endpoint: completions pass through", OpenAICompletions, []string{"chat", "completions"}, OpenAICompletions},
		{"responses-only endpoint: chat translated", OpenAIChat, []string{"responses"}, OpenAIResponses},
		{"responses-only endpoint: completions translated", OpenAICompletions, []string{"responses"}, OpenAIResponses},
		{"responses-only endpoint: anthropic translated", AnthropicMessages, []string{"responses"}, OpenAIResponses},
		{"order is preference", AnthropicMessages, []string{"responses", "chat"}, OpenAIResponses},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := OpenAIUpstream(tt.client, tt.apis); got != tt.want {
				t.Errorf("OpenAIUpstream(%v, %v) = %v, want %v", tt.client, tt.apis, got, tt.want)
			}
		})
	}
}
