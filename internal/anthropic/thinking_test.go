package anthropic

import "testing"

func TestAdaptiveThinking(t *testing.T) {
	tests := []struct {
		model string
		want  bool
	}{
		{"claude-3-7-sonnet-20250219", false},
		{"claude-3-7-sonnet-latest", false},
		{"claude-sonnet-4-20250514", false},
		{"claude-opus-4-1", false},
		{"claude-sonnet-4-5", false},
		{"claude-haiku-4-5-20251001", false},
		{"claude-opus-4-5-20251101", false},
		{"anthropic.claude-sonnet-4-5-20250929-v1:0", false}, // a provider's name for it
		{"claude-opus-4-6", true},
		{"claude-sonnet-4-6", true},
		{"claude-opus-4-8", true},
		{"claude-opus-5", true},
		{"claude-sonnet-5-5", true},
		{"claude-fable-5-2", true},
		{"claude-mythos-preview", true}, // no version: a new name
		{"my-router-alias", true},
		{"", true},
	}
	for _, tt := range tests {
		if got := AdaptiveThinking(tt.model); got != tt.want {
			t.Errorf("AdaptiveThinking(%q) = %v, want %v", tt.model, got, tt.want)
		}
	}
}
