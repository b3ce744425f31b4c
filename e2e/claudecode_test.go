package e2e

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/llmrouter/llmrouter/e2e/clienttest"
)

// The keys of the Claude Code tests: the client's own key must never reach an upstream of
// a route that has its own.
const (
	claudeClientKey = "sk-ant-e2e-client-key-0000"
	upstreamKey     = "sk-e2e-upstream-key-1111"
)

// claudeEnv is the environment Claude Code runs with: pointed at the router, no login
// (any key), no traffic but the API, and no retries so that an error shows at once
// instead of after minutes of backoff.
func claudeEnv(baseURL string) map[string]string {
	return map[string]string{
		"ANTHROPIC_BASE_URL":                       baseURL,
		"ANTHROPIC_API_KEY":                        claudeClientKey,
		"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
		"CLAUDE_CODE_MAX_RETRIES":                  "0",
	}
}

// claudeResult is the part of `claude -p --output-format json` the tests read.
type claudeResult struct {
	Type     string `json:"type"`
	Subtype  string `json:"subtype"`
	IsError  bool   `json:"is_error"`
	Result   string `json:"result"`
	NumTurns int    `json:"num_turns"`
}

// runClaude runs `claude -p prompt --output-format json --allowedTools Bash` in work
// against baseURL, with extra arguments (such as --model), and decodes its result.
func runClaude(t *testing.T, work, baseURL, prompt string, extra ...string) (claudeResult, clienttest.Result) {
	t.Helper()
	args := append([]string{"-p", prompt, "--output-format", "json", "--allowedTools", "Bash"}, extra...)
	res := clienttest.ClaudeCode.Run(t, clienttest.Run{Dir: work, Args: args, Env: claudeEnv(baseURL)})
	var out claudeResult
	if err := json.Unmarshal(res.Stdout, &out); err != nil {
		t.Fatalf("claude printed no JSON result (exit %d): %v\nstdout:\n%s\nstderr:\n%s", res.ExitCode, err, res.Stdout, res.Stderr)
	}
	return out, res
}

// bashLoop is the loop the fakes play with Claude Code: one Bash call that writes a fresh
// marker into a file of the workspace and prints it, then a final text.
func bashLoop(t *testing.T) (toolLoop, string) {
	marker := "e2e-marker-" + nonce(t)
	return toolLoop{
		Tool:    "Bash",
		Arg:     "command",
		Command: fmt.Sprintf("echo %s > marker.txt && cat marker.txt", marker),
		CallID:  "call_e2e" + nonce(t),
		Final:   "Done: marker.txt holds " + marker,
	}, marker
}

// checkClaudeFinished asserts that Claude Code ran the loop's command in work and ended
// with the fake's final text.
func checkClaudeFinished(t *testing.T, out claudeResult, res clienttest.Result, loop toolLoop, work, marker string) {
	t.Helper()
	if res.ExitCode != 0 || out.IsError || out.Subtype != "success" {
		t.Fatalf("claude exit %d, subtype %q, is_error %v, result %q\nstderr:\n%s", res.ExitCode, out.Subtype, out.IsError, out.Result, res.Stderr)
	}
	if out.Result != loop.Final {
		t.Errorf("claude's final result = %q, want the fake's final text %q", out.Result, loop.Final)
	}
	if out.NumTurns != 2 {
		t.Errorf("claude took %d turns, want 2 (tool call, then final text)", out.NumTurns)
	}
	if got := readFile(t, filepath.Join(work, "marker.txt")); got != marker+"\n" {
		t.Errorf("marker.txt = %q, want %q", got, marker+"\n")
	}
}

// checkNoAnthropicDetails asserts that request i to an upstream of another API
// carries none of the Anthropic API's query string and headers, nor its SDK's
// (issue 9 item 7): Claude Code sends ?beta=true, anthropic-* and X-Stainless-*.
func checkNoAnthropicDetails(t *testing.T, i int, ex clienttest.Exchange) {
	t.Helper()
	if ex.Query != "" {
		t.Errorf("request #%d: the client's query %q reached an upstream of another API", i, ex.Query)
	}
	for name := range ex.Header {
		if strings.HasPrefix(name, "Anthropic-") || strings.HasPrefix(name, "X-Stainless-") {
			t.Errorf("request #%d: %s reached an upstream of another API", i, name)
		}
	}
}

// TestClaudeCodeRunsBashThroughOpenAIRoute drives Claude Code through the router to an
// OpenAI-speaking upstream (Anthropic Messages in, Chat Completions out, streams
// translated both ways): the upstream calls Bash, Claude Code runs the command in its
// workspace and sends the output back, and the upstream's final text is Claude Code's
// result.
func TestClaudeCodeRunsBashThroughOpenAIRoute(t *testing.T) {
	loop, marker := bashLoop(t)
	up := newChatFake(t, loop)
	rt := startRouter(t, fmt.Sprintf(`
models:
  - name: "*"
    provider: openai
    endpoint: %s/v1
    api_key: %s
`, up.URL, upstreamKey))
	work := t.TempDir()

	out, res := runClaude(t, work, rt.URL, "Write the marker file with Bash, then report.")
	checkClaudeFinished(t, out, res, loop, work, marker)

	results := up.toolResults()
	if !slices.ContainsFunc(results, func(s string) bool { return strings.Contains(s, marker) }) {
		t.Errorf("no tool result carrying the command's output %q reached the upstream; tool results: %q\nrequests:\n%s", marker, results, up.rec.Summary())
	}
	for i, ex := range up.rec.Exchanges() {
		if ex.Method != "POST" || ex.Path != "/v1/chat/completions" {
			t.Errorf("request #%d to the upstream: %s %s, want POST /v1/chat/completions", i, ex.Method, ex.Path)
		}
		if got := ex.Header.Get("Authorization"); got != "Bearer "+upstreamKey {
			t.Errorf("request #%d: Authorization %q, want the route's key", i, got)
		}
		for name, vs := range ex.Header {
			if slices.ContainsFunc(vs, func(v string) bool { return strings.Contains(v, claudeClientKey) }) {
				t.Errorf("request #%d: the client's key reached the upstream in %s", i, name)
			}
		}
		checkNoAnthropicDetails(t, i, ex)
		t.Logf("upstream request #%d: %s %s?%s model=%s stream=%v tools=%d messages=%d", i, ex.Method, ex.Path, ex.Query,
			gjson.GetBytes(ex.Body, "model"), gjson.GetBytes(ex.Body, "stream"),
			len(gjson.GetBytes(ex.Body, "tools").Array()), len(gjson.GetBytes(ex.Body, "messages").Array()))
	}
}
