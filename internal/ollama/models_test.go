package ollama

import (
	"slices"
	"testing"
)

func TestParseModelsReadsCapturedTags(t *testing.T) {
	names, err := Chat.ParseModels(readTestdata(t, "ollama-real/api_tags.body"))
	if err != nil || !slices.Equal(names, []string{"tiny:latest", "tiny-think:latest"}) {
		t.Errorf("ParseModels = %q, %v", names, err)
	}
	if _, err := Chat.ParseModels(readTestdata(t, "ollama-real/v1_models.body")); err == nil {
		t.Error("an OpenAI list parsed as Ollama tags")
	}
	for _, tc := range []struct {
		listed, asked string
		same          bool
	}{
		{"tiny:latest", "tiny:latest", true},
		{"tiny:latest", "tiny", true},
		{"tiny:8b", "tiny", false},
		{"tiny:latest", "tiny:8b", false},
		{"tiny", "tiny", true},
	} {
		if got := Chat.SameModel(tc.listed, tc.asked); got != tc.same {
			t.Errorf("SameModel(%q, %q) = %v", tc.listed, tc.asked, got)
		}
	}
}
