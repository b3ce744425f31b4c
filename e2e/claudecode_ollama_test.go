package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// TestClaudeCodeRunsBashOnOllamaModels drives Claude Code through the router to a native
// Ollama upstream that refuses `think` exactly as Ollama 0.17.4 does: "tiny" has no
// thinking capability (any truthy think is a 400), "tiny-think" thinks but takes no level
// (think "high" is a 400). Claude Code asks for thinking on every turn (adaptive thinking
// plus output_config.effort for a model name it does not know), and Ollama's own Anthropic
// endpoint relaxes it for such models; through the router, Claude Code must run the Bash
// loop on both models and finish (issue 9 item 1: the router relaxes think, see
// internal/gateway/capability.go).
func TestClaudeCodeRunsBashOnOllamaModels(t *testing.T) {
	for _, model := range []string{"tiny", "tiny-think"} {
		t.Run(model, func(t *testing.T) {
			loop, marker := bashLoop(t)
			up := newOllamaFake(t, loop)
			rt := startRouter(t, fmt.Sprintf(`
models:
  - name: "*"
    provider: ollama
    endpoint: %s
`, up.URL))
			work := t.TempDir()
			t.Cleanup(func() {
				for i, ex := range up.rec.Exchanges() {
					t.Logf("Ollama request #%d: %s %s?%s model=%s think=%s options=%s tools=%d", i, ex.Method, ex.Path, ex.Query,
						gjson.GetBytes(ex.Body, "model"), gjson.GetBytes(ex.Body, "think").Raw, gjson.GetBytes(ex.Body, "options").Raw,
						len(gjson.GetBytes(ex.Body, "tools").Array()))
				}
			})

			out, res := runClaude(t, work, rt.URL, "Write the marker file with Bash, then report.", "--model", model)
			checkClaudeFinished(t, out, res, loop, work, marker)

			// The router learns from the one refusal: every later request is relaxed
			// before it is sent (a model that cannot think gets no think at all).
			var thinks []string
			for i, ex := range up.rec.Exchanges() {
				thinks = append(thinks, gjson.GetBytes(ex.Body, "think").Raw)
				checkNoAnthropicDetails(t, i, ex)
			}
			want := []string{"true", "", ""}
			if model == "tiny-think" {
				want = []string{"true", "true"}
			}
			if !slices.Equal(thinks, want) {
				t.Errorf("think of the requests Ollama received = %q, want %q", thinks, want)
			}

			results := up.toolResults()
			if !slices.ContainsFunc(results, func(s string) bool { return strings.Contains(s, marker) }) {
				t.Errorf("no tool result carrying the command's output %q reached Ollama; tool results: %q\nrequests:\n%s", marker, results, up.rec.Summary())
			}
		})
	}
}
