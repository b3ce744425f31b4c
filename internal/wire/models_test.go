package wire

import (
	"slices"
	"testing"
)

// ParseModelIDs reads both shapes of the list: Anthropic's (ModelInfo in package
// anthropic; openai's test reads a recorded OpenAI list), skipping ids that are
// not non-empty strings.
func TestParseModelIDs(t *testing.T) {
	body := []byte(`{"data":[{"type":"model","id":"claude-a","display_name":"A"},{"type":"model","id":""},` +
		`{"type":"model","id":7},{"type":"model","id":"claude-b"}],"has_more":false,"first_id":"claude-a","last_id":"claude-b"}`)
	ids, err := ParseModelIDs(body)
	if err != nil || !slices.Equal(ids, []string{"claude-a", "claude-b"}) {
		t.Errorf("ParseModelIDs = %q, %v", ids, err)
	}
	for _, bad := range []string{`{"data":{}}`, `{"models":[]}`, `not json`} {
		if ids, err := ParseModelIDs([]byte(bad)); err == nil {
			t.Errorf("ParseModelIDs(%s) = %q, want an error", bad, ids)
		}
	}
}
