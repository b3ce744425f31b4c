package openai

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestParseModelsReadsARecordedList(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "ollama-real", "v1_models.body"))
	if err != nil {
		t.Fatal(err)
	}
	ids, err := Chat.ParseModels(b)
	if err != nil || !slices.Equal(ids, []string{"tiny-think:latest", "tiny:latest"}) {
		t.Errorf("ParseModels = %q, %v", ids, err)
	}
	if _, err := Chat.ParseModels([]byte(`{"models":[]}`)); err == nil {
		t.Error("a body without data parsed as a model list")
	}
	// GET /v1/models/{id} as Ollama's OpenAI layer answers it (v1_model_retrieve).
	if got := Chat.Model("tiny", "library").(Model); got != (Model{ID: "tiny", Object: "model", OwnedBy: "library"}) {
		t.Errorf("Model = %+v", got)
	}
}
