package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/llmrouter/llmrouter/e2e/clienttest"
)

// codexKeyEnv is the variable Codex reads its provider's key from (the provider's
// env_key); codexKey is the value, which must reach the upstream as a Bearer token.
const (
	codexKeyEnv = "LLMROUTER_E2E_CODEX_KEY"
	codexKey    = "sk-e2e-codex-key-2222"
	codexModel  = "gpt-4o"
)

// codexConfig is $CODEX_HOME/config.toml: one provider speaking the Responses API at
// baseURL (ending in /v1), no retries, no analytics. approval_policy "never" with
// sandbox_mode "danger-full-access" is what lets `codex exec` run a command with no one to
// approve it on any Linux machine: the sandboxed modes (workspace-write, read-only) run
// each command under bubblewrap, which needs user namespaces; where they are unavailable
// (a CI container, root in a restricted sandbox) the command fails with bwrap's ENOSPC
// error while codex itself still exits 0 (see docs/clients/codex.md).
func codexConfig(baseURL string) string {
	return fmt.Sprintf(`model = %q
model_provider = "e2e"
approval_policy = "never"
sandbox_mode = "danger-full-access"

[model_providers.e2e]
name = "llmrouter e2e"
base_url = %q
wire_api = "responses"
env_key = %q
request_max_retries = 0
stream_max_retries = 0

[analytics]
enabled = false
`, codexModel, baseURL, codexKeyEnv)
}

// codexEvent is one line of `codex exec --json`.
type codexEvent struct {
	Type string `json:"type"`
	Item struct {
		Type             string `json:"type"`
		Text             string `json:"text"`
		Command          string `json:"command"`
		AggregatedOutput string `json:"aggregated_output"`
		ExitCode         *int   `json:"exit_code"`
		Status           string `json:"status"`
	} `json:"item"`
}

// runCodex runs `codex exec --json` in work with a fresh CODEX_HOME configured for baseURL
// and returns its events.
func runCodex(t *testing.T, work, baseURL, prompt string) ([]codexEvent, clienttest.Result) {
	t.Helper()
	home := t.TempDir()
	if err := os.WriteFile(filepath.Join(home, "config.toml"), []byte(codexConfig(baseURL)), 0o600); err != nil {
		t.Fatal(err)
	}
	res := clienttest.Codex.Run(t, clienttest.Run{
		Dir: work,
		Args: []string{"exec", "--strict-config", "--ephemeral", "--color", "never", "--json",
			"--skip-git-repo-check", "-C", work, prompt},
		Env: map[string]string{"CODEX_HOME": home, codexKeyEnv: codexKey},
	})
	var evs []codexEvent
	sc := bufio.NewScanner(bytes.NewReader(res.Stdout))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var ev codexEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("codex --json printed a line that is not JSON: %q (%v)", sc.Text(), err)
		}
		evs = append(evs, ev)
	}
	return evs, res
}

// TestCodexExecRunsCommandAgainstResponsesUpstream drives Codex CLI directly against a
// fake OpenAI Responses upstream: the upstream calls exec_command, Codex runs the command
// in its workspace and sends the output back, and the upstream's final text is Codex's
// last message. It pins what Codex sends, which the router's Responses support carries
// (the tests below run the same loop through the router), and that the fake plays the
// loop as Codex needs.
func TestCodexExecRunsCommandAgainstResponsesUpstream(t *testing.T) {
	marker := "codex-marker-" + nonce(t)
	loop := toolLoop{
		Tool:    "exec_command",
		Arg:     "cmd",
		Command: fmt.Sprintf("echo %s > marker.txt && cat marker.txt", marker),
		CallID:  "call_e2e" + nonce(t),
		Final:   "Done: marker.txt holds " + marker,
	}
	up := newResponsesFake(t, loop)
	work := t.TempDir()

	evs, res := runCodex(t, work, up.URL+"/v1", "Write the marker file, then report.")
	if res.ExitCode != 0 {
		t.Fatalf("codex exit %d\nstdout:\n%s\nstderr:\n%s\nrequests:\n%s", res.ExitCode, res.Stdout, res.Stderr, up.rec.Summary())
	}
	checkCodexEvents(t, evs, loop, marker)
	if got := readFile(t, filepath.Join(work, "marker.txt")); got != marker+"\n" {
		t.Errorf("marker.txt = %q, want %q", got, marker+"\n")
	}
	outputs := up.callOutputs()
	if !slices.ContainsFunc(outputs, func(s string) bool {
		return strings.Contains(s, marker) && strings.Contains(s, "Process exited with code 0")
	}) {
		t.Errorf("no function_call_output with the command's output %q reached the upstream; outputs: %q", marker, outputs)
	}
	checkCodexRequests(t, up.rec.Exchanges())
}

// checkCodexEvents asserts that Codex ran the command and ended with the fake's text.
func checkCodexEvents(t *testing.T, evs []codexEvent, loop toolLoop, marker string) {
	t.Helper()
	var ran, said bool
	for _, ev := range evs {
		if ev.Type != "item.completed" {
			continue
		}
		switch ev.Item.Type {
		case "command_execution":
			ran = strings.Contains(ev.Item.Command, loop.Command) && ev.Item.ExitCode != nil && *ev.Item.ExitCode == 0 &&
				strings.Contains(ev.Item.AggregatedOutput, marker)
			if !ran {
				t.Errorf("codex ran %q: exit %v, output %q", ev.Item.Command, ev.Item.ExitCode, ev.Item.AggregatedOutput)
			}
		case "agent_message":
			said = ev.Item.Text == loop.Final
			if !said {
				t.Errorf("codex's message = %q, want the fake's final text %q", ev.Item.Text, loop.Final)
			}
		}
	}
	if !ran || !said {
		t.Errorf("codex events lack the command run (%v) or the final message (%v): %+v", ran, said, evs)
	}
}

// checkCodexRequests pins the shape of Codex's requests: streaming Responses calls with
// the provider key as a Bearer token, stateless (store:false, the whole history resent),
// declaring exec_command as a function tool.
func checkCodexRequests(t *testing.T, exs []clienttest.Exchange) {
	t.Helper()
	if len(exs) != 2 {
		t.Errorf("codex made %d requests, want 2 (the task, then the command's output)", len(exs))
	}
	for i, ex := range exs {
		body := gjson.ParseBytes(ex.Body)
		for _, c := range []struct{ what, got, want string }{
			{"request", ex.Method + " " + ex.Path, "POST /v1/responses"},
			{"Authorization", ex.Header.Get("Authorization"), "Bearer " + codexKey},
			{"Accept", ex.Header.Get("Accept"), "text/event-stream"},
			{"Originator", ex.Header.Get("Originator"), "codex_exec"},
			{"model", body.Get("model").String(), codexModel},
			{"stream", body.Get("stream").Raw, "true"},
			{"store", body.Get("store").Raw, "false"},
		} {
			if c.got != c.want {
				t.Errorf("request #%d: %s = %q, want %q", i, c.what, c.got, c.want)
			}
		}
		if !slices.ContainsFunc(body.Get("tools").Array(), func(tool gjson.Result) bool {
			return tool.Get("type").String() == "function" && tool.Get("name").String() == "exec_command"
		}) {
			t.Errorf("request #%d declares no exec_command function tool: %s", i, body.Get("tools.#.name").Raw)
		}
		var types []string
		for _, item := range body.Get("input").Array() {
			types = append(types, item.Get("type").String()+"/"+item.Get("role").String())
		}
		t.Logf("codex request #%d: %s %s keys=%s tools=%s input=%v", i, ex.Method, ex.Path,
			gjson.GetBytes(ex.Body, "@keys").Raw, body.Get("tools.#.type").Raw, types)
	}
}

// codexLoop is the loop the fakes play with Codex: one exec_command call that writes a
// fresh marker into a file of the workspace and prints it, then a final text.
func codexLoop(t *testing.T, callID string) (toolLoop, string) {
	marker := "codex-marker-" + nonce(t)
	return toolLoop{
		Tool:    "exec_command",
		Arg:     "cmd",
		Command: fmt.Sprintf("echo %s > marker.txt && cat marker.txt", marker),
		CallID:  callID,
		Final:   "Done: marker.txt holds " + marker,
	}, marker
}

// checkCodexFinished asserts that Codex ran the loop's command in work, that the command's
// output reached the upstream as the tool result (results), and that Codex ended with
// the upstream's final text.
func checkCodexFinished(t *testing.T, evs []codexEvent, res clienttest.Result, loop toolLoop, work, marker string, results []string) {
	t.Helper()
	if res.ExitCode != 0 {
		t.Fatalf("codex exit %d\nstdout:\n%s\nstderr:\n%s", res.ExitCode, res.Stdout, res.Stderr)
	}
	checkCodexEvents(t, evs, loop, marker)
	if got := readFile(t, filepath.Join(work, "marker.txt")); got != marker+"\n" {
		t.Errorf("marker.txt = %q, want %q", got, marker+"\n")
	}
	if !slices.ContainsFunc(results, func(s string) bool {
		return strings.Contains(s, marker) && strings.Contains(s, "Process exited with code 0")
	}) {
		t.Errorf("no tool result with the command's output %q reached the upstream; results: %q", marker, results)
	}
}

// checkRoutedRequests asserts that every request reached the upstream at path with the
// route's key in header (want), and that Codex's own key never reached it.
func checkRoutedRequests(t *testing.T, exs []clienttest.Exchange, path, header, want string) {
	t.Helper()
	if len(exs) != 2 {
		t.Errorf("the upstream got %d requests, want 2 (the task, then the command's output)", len(exs))
	}
	for i, ex := range exs {
		if ex.Method != "POST" || ex.Path != path {
			t.Errorf("request #%d to the upstream: %s %s, want POST %s", i, ex.Method, ex.Path, path)
		}
		if got := ex.Header.Get(header); got != want {
			t.Errorf("request #%d: %s %q, want the route's key", i, header, got)
		}
		for name, vs := range ex.Header {
			if slices.ContainsFunc(vs, func(v string) bool { return strings.Contains(v, codexKey) }) {
				t.Errorf("request #%d: Codex's key reached the upstream in %s", i, name)
			}
		}
	}
}

// TestCodexExecRunsCommandThroughRouterToResponsesUpstream drives Codex CLI through the
// router to a fake OpenAI Responses upstream: the route passes the bytes through, with
// the model renamed and the route's key, and Codex runs the upstream's exec_command
// call and finishes with its text.
func TestCodexExecRunsCommandThroughRouterToResponsesUpstream(t *testing.T) {
	loop, marker := codexLoop(t, "call_e2e"+nonce(t))
	up := newResponsesFake(t, loop)
	rt := startRouter(t, fmt.Sprintf(`
models:
  - name: %s
    provider: openai
    endpoint: %s/v1
    api_key: %s
    upstream_model: gpt-4o-2024-08-06
`, codexModel, up.URL, upstreamKey))
	work := t.TempDir()

	evs, res := runCodex(t, work, rt.URL+"/v1", "Write the marker file, then report.")
	checkCodexFinished(t, evs, res, loop, work, marker, up.callOutputs())
	exs := up.rec.Exchanges()
	checkRoutedRequests(t, exs, "/v1/responses", "Authorization", "Bearer "+upstreamKey)
	for i, ex := range exs {
		if m := gjson.GetBytes(ex.Body, "model").String(); m != "gpt-4o-2024-08-06" {
			t.Errorf("request #%d: model %q, want the route's upstream_model", i, m)
		}
	}
}

// TestCodexExecRunsCommandThroughRouterToAnthropicUpstream drives Codex CLI through the
// router to a fake Anthropic upstream (Responses in, Messages out, streams translated both
// ways): the upstream answers with a tool_use of Codex's exec_command, Codex runs the
// command and sends its output back, which reaches the upstream as a tool_result, and the
// upstream's final text is Codex's last message.
func TestCodexExecRunsCommandThroughRouterToAnthropicUpstream(t *testing.T) {
	loop, marker := codexLoop(t, "toolu_e2e"+nonce(t))
	up := newAnthropicFake(t, loop)
	rt := startRouter(t, fmt.Sprintf(`
models:
  - name: %s
    provider: anthropic
    endpoint: %s
    api_key: %s
    upstream_model: claude-sonnet-4-20250514
`, codexModel, up.URL, upstreamKey))
	work := t.TempDir()

	evs, res := runCodex(t, work, rt.URL+"/v1", "Write the marker file, then report.")
	checkCodexFinished(t, evs, res, loop, work, marker, up.toolResults())
	exs := up.rec.Exchanges()
	checkRoutedRequests(t, exs, "/v1/messages", "X-Api-Key", upstreamKey)
	for i, ex := range exs {
		body := gjson.ParseBytes(ex.Body)
		if !slices.ContainsFunc(body.Get("tools").Array(), func(tool gjson.Result) bool {
			return tool.Get("name").String() == loop.Tool && tool.Get("input_schema.properties.cmd").Exists()
		}) {
			t.Errorf("request #%d declares no exec_command tool with its cmd parameter: %s", i, body.Get("tools.#.name").Raw)
		}
		t.Logf("upstream request #%d: model=%s stream=%v tools=%d messages=%d system=%d bytes", i, body.Get("model"),
			body.Get("stream"), len(body.Get("tools").Array()), len(body.Get("messages").Array()), len(body.Get("system").Raw))
	}
}
