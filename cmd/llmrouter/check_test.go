package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// checkFile runs `llmrouter check` on a config file and returns its exit code,
// stdout and stderr.
func checkFile(t *testing.T, doc string) (int, string, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "llmrouter.yaml")
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code := run([]string{"check", "-config", path}, nil, &out, &errb)
	return code, out.String(), errb.String()
}

const checkModel = "models:\n  - name: m\n    provider: openai\n    endpoint: https://x/v1\n"

// `check` refuses, with the rule's line, a JSONPath filter whose cost grows
// faster than the request; chained descendant wildcards, which the router
// evaluates in linear time, pass.
func TestCheckJSONPathCost(t *testing.T) {
	code, _, errs := checkFile(t, checkModel+"    transforms:\n      - drop: '$..*..*..*.x'\n      - drop: '$..[?@..x]'\n")
	if code != 1 || !strings.Contains(errs, "transform at line 7") || !strings.Contains(errs, "descendant query (..) inside a filter") {
		t.Errorf("exit %d:\n%s", code, errs)
	}
	if code, _, errs := checkFile(t, checkModel+"    transforms:\n      - drop: '$..*..*..*.x'\n"); code != 0 {
		t.Errorf("chained descendants refused: %s", errs)
	}
}

// A valid file of 50,000 models passes check; an alias bomb is refused with a
// clear error and its line.
func TestCheckFileSize(t *testing.T) {
	var b strings.Builder
	b.WriteString("models:\n")
	for i := range 50_000 {
		fmt.Fprintf(&b, "  - {name: model-%d, provider: openai, endpoint: https://x/v1}\n", i)
	}
	code, out, errs := checkFile(t, b.String())
	if code != 0 || !strings.Contains(out, "models: 50000") {
		t.Errorf("50,000 models: exit %d, %.300s", code, errs)
	}
	bomb := checkModel + "    transforms:\n"
	for level := range 9 {
		items := "x, x, x, x, x, x, x, x, x, x"
		if level > 0 {
			items = strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*l%d, ", level-1), 10), ", ")
		}
		bomb += fmt.Sprintf("      - set: $.a%d\n        value: &l%d [%s]\n", level, level, items)
	}
	code, _, errs = checkFile(t, bomb)
	if code != 1 || !strings.Contains(errs, "(an alias bomb?)") || !strings.Contains(errs, "line ") {
		t.Errorf("alias bomb: exit %d, %.300s", code, errs)
	}
}

// `check` never echoes a value used as a key, whatever its variable is called and
// however short or lower-case it is, in a problem or in its summary; and refuses
// unbounded retry counts with the line.
func TestCheckHidesKeysAndBoundsRetries(t *testing.T) {
	t.Setenv("UPSTREAM", "lowercase0123")
	code, _, errs := checkFile(t, "server:\n  listen: ${UPSTREAM}\n"+checkModel+"    api_key: ${UPSTREAM}\n    retry: {attempts: 1000}\n    transforms:\n      - regex: '(${UPSTREAM}'\n        replace: x\n")
	if code != 1 || strings.Contains(errs, "lowercase0123") {
		t.Errorf("exit %d, the key shows:\n%s", code, errs)
	}
	if !strings.Contains(errs, `line 8: models[0].retry.attempts: want a whole number from 1 to 10 (total tries, the first included), got "1000"`) {
		t.Errorf("no bound on retry.attempts:\n%s", errs)
	}
	// A JSONPath holding the key, refused when the gateway compiles it.
	code, out, errs := checkFile(t, checkModel+"    api_key: ${UPSTREAM}\n    upstream_model: ${UPSTREAM}\n    transforms:\n      - drop: \"$..[?@..${UPSTREAM}]\"\n")
	if code != 1 || strings.Contains(out+errs, "lowercase0123") || !strings.Contains(errs, "****0123") {
		t.Errorf("exit %d, the key shows or nothing was refused:\n%s%s", code, out, errs)
	}
	// A valid file: the summary masks the key in upstream_model.
	code, out, errs = checkFile(t, checkModel+"    api_key: ${UPSTREAM}\n    upstream_model: ${UPSTREAM}\n")
	if code != 0 || strings.Contains(out+errs, "lowercase0123") {
		t.Errorf("exit %d, the key shows:\n%s%s", code, out, errs)
	}
}

// `check` prints the deployments, fallback chains, named keys and the limit store
// of a valid file without any of its secrets: named keys, the metrics key and the
// store's password appear nowhere, in the summary or in a problem.
func TestCheckShowsRoutingWithoutSecrets(t *testing.T) {
	t.Setenv("TEAM_KEY", "team-canary-0123456789")
	t.Setenv("REDIS_PASSWORD", "redis-canary-0123")
	const doc = `server:
  metrics_key: metrics-canary-0123456789
  api_keys:
    - name: team
      key: ${TEAM_KEY}
      models: ["gpt-*"]
      tpm: 1000
limits:
  store: redis://app:${REDIS_PASSWORD}@127.0.0.1:6379/0
models:
  - {name: gpt-4o, id: gpt-4o-a, provider: openai, endpoint: "https://a.example.com/v1", weight: 2}
  - {name: gpt-4o, id: gpt-4o-b, provider: openai, endpoint: "https://b.example.com/v1"}
  - {name: "claude-*", provider: anthropic, endpoint: "https://api.anthropic.com"}
routing:
  fallbacks: {gpt-4o: [claude-sonnet-4-5]}
`
	code, out, errs := checkFile(t, doc)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"gpt-4o-a", "gpt-4o-b", "gpt-4o -> claude-sonnet-4-5", "team  gpt-*", "tpm 1000",
		"redis://app:xxxxx@127.0.0.1:6379/0", "server api_keys: 1 (team)"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out+errs, "canary") {
		t.Errorf("check shows a secret:\n%s%s", out, errs)
	}
	// An invalid file: the problems do not show them either.
	code, out, errs = checkFile(t, doc+"  health: {failures: \"${REDIS_PASSWORD}\"}\n  strategy: ${TEAM_KEY}\n")
	if code != 1 || strings.Contains(out+errs, "canary") || !strings.Contains(errs, "routing.health.failures") {
		t.Errorf("exit %d, the secret shows or the problem is missing:\n%s%s", code, out, errs)
	}
}

// A clumsy user pastes Gemini's OpenAI-compatible endpoint with its ?key= into
// endpoint: check rejects it and quotes the URL without its query (quoting it
// whole once showed the key: a value is hidden as a whole only when it looks like
// a key or comes from a secret-named ${VAR}).
func TestCheckHidesKeyInEndpointQuery(t *testing.T) {
	const key = "AIzaSyAuditQUERYKEY3b8e1f9a2c7d4e6f0a5b"
	cfg := writeFile(t, "llmrouter.yaml", `
models:
  - name: gemini-*
    provider: openai
    endpoint: https://generativelanguage.googleapis.com/v1beta/openai?key=`+key+`
`)
	var out, errb bytes.Buffer
	if code := run([]string{"check", "-config", cfg}, nil, &out, &errb); code != 1 {
		t.Fatalf("check exit %d, want 1", code)
	}
	s := out.String() + errb.String()
	if strings.Contains(s, key[:12]) {
		t.Errorf("check output holds the key:\n%s", s)
	}
	if want := `line 5: models[0].endpoint: must not have a query or fragment (a key in ?key= belongs in api_key): "https://generativelanguage.googleapis.com/v1beta/openai?…"`; !strings.Contains(s, want) {
		t.Errorf("check output lacks %s:\n%s", want, s)
	}
}

// check prints a summary with every key masked, for a valid config and for an
// invalid one alike.
func TestCheckNeverPrintsKeys(t *testing.T) {
	t.Setenv("CANARY_KEY", canaryConfigKey)
	valid := writeFile(t, "valid.yaml", `
server:
  api_keys: [`+canaryRouterKey+`]
models:
  - name: gpt-4o
    provider: openai
    endpoint: https://api.openai.com/v1
    api_key: ${CANARY_KEY}
  - name: claude-*
    provider: anthropic
    endpoint: https://api.anthropic.com
    api_key: `+canaryClientKey+`
`)
	var out, errb bytes.Buffer
	if code := run([]string{"check", "-config", valid}, nil, &out, &errb); code != 0 {
		t.Fatalf("check exit %d: %s", code, errb.String())
	}
	noCanary(t, "check output", out.String()+errb.String())
	for _, masked := range []string{"****0a5b", "****5f1c", "****0e5d"} {
		if !strings.Contains(out.String(), masked) {
			t.Errorf("summary lacks the masked key %s:\n%s", masked, out.String())
		}
	}

	invalid := writeFile(t, "invalid.yaml", `
server:
  api_keys: [`+canaryRouterKey+`]
  listen: nowhere
models:
  - name: gpt-4o
    provider: openai
    endpoint: https://api.openai.com/v1
    api_key: `+canaryConfigKey+`
    typo_field: 1
`)
	out.Reset()
	errb.Reset()
	if code := run([]string{"check", "-config", invalid}, nil, &out, &errb); code != 1 {
		t.Fatalf("check of an invalid config exit %d", code)
	}
	noCanary(t, "check errors", out.String()+errb.String())
	if !strings.Contains(errb.String(), "typo_field") {
		t.Errorf("check errors do not name the problem:\n%s", errb.String())
	}
}
