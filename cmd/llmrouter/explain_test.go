package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tidwall/gjson"
)

// Canary keys: the whole key and its first 12 characters must never be printed.
const (
	canaryConfigKey = "sk-canary-CONFIGKEY-7f3a9c41d2e8b6a05f1c"
	canaryRouterKey = "sk-canary-ROUTERKEY-3b8e1f9a2c7d4e6f0a5b"
	canaryClientKey = "sk-canary-CLIENTKEY-9d2c4a7e1f3b8c6a0e5d"
	canaryHeaderKey = "pk-canary-HEADERKEY-5e1a7c3b9d2f4a6c8e0b" // set by a header rule
)

func noCanary(t *testing.T, what, s string) {
	t.Helper()
	for _, c := range []string{canaryConfigKey, canaryRouterKey, canaryClientKey, canaryHeaderKey} {
		if strings.Contains(s, c[:12]) {
			t.Errorf("%s holds a key (%s…):\n%s", what, c[:12], s)
		}
	}
}

// tripwire is an upstream address that counts every connection made to it:
// explain must never send anything.
func tripwire(t *testing.T) (addr string, contacted *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	contacted = new(atomic.Int32)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			contacted.Add(1)
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().String(), contacted
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// explained is explain's output split into its parts.
type explained struct {
	requestLine string
	header      map[string]string
	body        string
}

func parseExplain(t *testing.T, out string) explained {
	t.Helper()
	head, body, ok := strings.Cut(out, "\n\n")
	if !ok {
		t.Fatalf("no blank line between headers and body:\n%s", out)
	}
	lines := strings.Split(head, "\n")
	e := explained{requestLine: lines[0], header: map[string]string{}, body: strings.TrimSuffix(body, "\n")}
	for _, l := range lines[1:] {
		name, value, ok := strings.Cut(l, ": ")
		if !ok {
			t.Fatalf("header line %q is not `Name: value`", l)
		}
		e.header[name] = value
	}
	return e
}

const explainRequest = `{"model":"claude-via-openai","max_tokens":100,"system":"You are ACME's helper.","metadata":{"user_id":"u-1"},"messages":[{"role":"user","content":"Tell me about ACME"}]}`

// An Anthropic client's request to a model on an OpenAI upstream: the exact
// upstream request, translated to OpenAI's format, with the header rules and the
// transforms applied, the key masked, and nothing sent.
func TestExplainTranslatedRoute(t *testing.T) {
	addr, contacted := tripwire(t)
	cfg := writeFile(t, "llmrouter.yaml", `
server:
  api_keys: [`+canaryRouterKey+`]
models:
  - name: claude-via-openai
    provider: openai
    endpoint: http://`+addr+`/v1
    upstream_model: gpt-4o-mini
    api_key: `+canaryConfigKey+`
    headers:
      drop: [x-drop-*]
      add: {X-Added: added, X-Team: not-this}
      force: {X-Team: research, X-Portkey-Api-Key: `+canaryHeaderKey+`}
    transforms:
      - set: '$.temperature'
        value: 0.2
      - regex: 'ACME'
        replace: 'Acme'
`)
	req := writeFile(t, "request.json", explainRequest)
	args := []string{"explain", "-config", cfg, "-endpoint", "/v1/messages",
		"-H", "X-Drop-Me: gone", "-H", "X-Kept: kept", "-H", "x-api-key: " + canaryRouterKey}

	var fromFile, fromStdin, errb bytes.Buffer
	if code := run(append(args, req), nil, &fromFile, &errb); code != 0 {
		t.Fatalf("explain exit %d: %s", code, errb.String())
	}
	if code := run(args, strings.NewReader(explainRequest), &fromStdin, &errb); code != 0 {
		t.Fatalf("explain from stdin exit %d: %s", code, errb.String())
	}
	if d := cmp.Diff(fromFile.String(), fromStdin.String()); d != "" {
		t.Errorf("stdin and file give different output (-file +stdin):\n%s", d)
	}
	noCanary(t, "explain output", fromFile.String()+errb.String())

	e := parseExplain(t, fromFile.String())
	if want := "POST http://" + addr + "/v1/chat/completions"; e.requestLine != want {
		t.Errorf("request line %q, want %q", e.requestLine, want)
	}
	wantHeader := map[string]string{
		"Authorization": "Bearer ****" + canaryConfigKey[len(canaryConfigKey)-4:],
		"Content-Type":  "application/json",
		"X-Added":       "added",
		"X-Team":        "research",
		"X-Kept":        "kept",
		// A header rule's secret is masked like a key.
		"X-Portkey-Api-Key": "****" + canaryHeaderKey[len(canaryHeaderKey)-4:],
	}
	if d := cmp.Diff(wantHeader, e.header); d != "" {
		t.Errorf("headers (-want +got):\n%s", d)
	}
	b := gjson.Parse(e.body)
	if !gjson.Valid(e.body) {
		t.Fatalf("body is not JSON: %s", e.body)
	}
	checks := map[string]string{
		"model":              "gpt-4o-mini",
		"messages.0.role":    "system",
		"messages.0.content": "You are Acme's helper.",
		"messages.1.role":    "user",
		"messages.1.content": "Tell me about Acme",
		"temperature":        "0.2",
	}
	for path, want := range checks {
		if got := b.Get(path).String(); got != want {
			t.Errorf("body %s = %q, want %q", path, got, want)
		}
	}
	if b.Get("system").Exists() || b.Get("max_tokens").Int()+b.Get("max_completion_tokens").Int() != 100 {
		t.Errorf("body is not in OpenAI's format: %s", e.body)
	}
	if n := contacted.Load(); n != 0 {
		t.Errorf("explain connected to the upstream %d times", n)
	}
}

// With no key configured anywhere the client's own credential is what goes
// upstream, moved into the upstream's header kind, and printed masked.
func TestExplainPassthroughCredentialMasked(t *testing.T) {
	addr, contacted := tripwire(t)
	cfg := writeFile(t, "llmrouter.yaml", `
models:
  - name: claude-*
    provider: anthropic
    endpoint: http://`+addr+`
  - name: gpt-*
    provider: openai
    endpoint: http://`+addr+`/v1
`)
	tests := []struct {
		name, endpoint, body, header, wantName, wantValue string
	}{
		{"openai client to anthropic", "/v1/chat/completions", `{"model":"claude-x","messages":[{"role":"user","content":"hi"}]}`,
			"Authorization: Bearer " + canaryClientKey, "X-Api-Key", "****" + canaryClientKey[len(canaryClientKey)-4:]},
		{"anthropic client to openai", "/v1/messages", `{"model":"gpt-x","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`,
			"x-api-key: " + canaryClientKey, "Authorization", "Bearer ****" + canaryClientKey[len(canaryClientKey)-4:]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := run([]string{"explain", "-config", cfg, "-endpoint", tt.endpoint, "-H", tt.header}, strings.NewReader(tt.body), &out, &errb); code != 0 {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
			noCanary(t, "explain output", out.String()+errb.String())
			e := parseExplain(t, out.String())
			if got := e.header[tt.wantName]; got != tt.wantValue {
				t.Errorf("%s = %q, want %q\n%s", tt.wantName, got, tt.wantValue, out.String())
			}
		})
	}
	if n := contacted.Load(); n != 0 {
		t.Errorf("explain connected to the upstream %d times", n)
	}
}

// An invalid client request is reported, without the client's key, and nothing
// is printed as a request.
func TestExplainInvalidRequest(t *testing.T) {
	addr, contacted := tripwire(t)
	cfg := writeFile(t, "llmrouter.yaml", "models:\n  - name: gpt-*\n    provider: openai\n    endpoint: http://"+addr+"/v1\n    api_key: "+canaryConfigKey+"\n")
	var out, errb bytes.Buffer
	code := run([]string{"explain", "-config", cfg, "-H", "Authorization: Bearer " + canaryClientKey}, strings.NewReader(`{"model":"nope","messages":[]}`), &out, &errb)
	if code != 1 || out.Len() != 0 || !strings.Contains(errb.String(), `"nope"`) {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out.String(), errb.String())
	}
	noCanary(t, "explain error", out.String()+errb.String())
	if n := contacted.Load(); n != 0 {
		t.Errorf("explain connected to the upstream %d times", n)
	}
}

// explain -H without the colon ('Authorization Bearer sk-…', or
// 'Authorization=Bearer sk-…') is a usage error that does not repeat the argument:
// taken as a header named by the whole string, it once printed the key in clear.
func TestExplainRefusesHeaderWithoutColon(t *testing.T) {
	const key = "sk-audit-CLIENTKEY-9d2c4a7e1f3b8c6a0e5d"
	addr, contacted := tripwire(t)
	cfg := writeFile(t, "llmrouter.yaml", "models:\n  - name: gpt-*\n    provider: openai\n    endpoint: http://"+addr+"/v1\n")
	for _, h := range []string{"Authorization Bearer " + key, "Authorization=Bearer " + key, "x-api-key " + key} {
		var out, errb bytes.Buffer
		code := run([]string{"explain", "-config", cfg, "-H", h}, strings.NewReader(`{"model":"gpt-x","messages":[{"role":"user","content":"hi"}]}`), &out, &errb)
		s := out.String() + errb.String()
		if strings.Contains(s, key[:12]) {
			t.Errorf("explain -H %q prints the key:\n%s", h[:16]+"…", s)
		}
		if code != 2 || !strings.Contains(s, "-H number 1 is not 'Name: value'") {
			t.Errorf("explain -H %q: exit %d, want 2 and a usage error:\n%s", h[:16]+"…", code, s)
		}
	}
	if n := contacted.Load(); n != 0 {
		t.Errorf("explain connected to the upstream %d times", n)
	}
}

// explain -endpoint /v1/responses shows where a Responses request goes: passed
// through to an openai model serving the Responses API, translated for an
// anthropic one (with what was dropped), and for a chat-only openai model
// (apis: [chat]) translated to Chat Completions.
func TestExplainResponses(t *testing.T) {
	addr, contacted := tripwire(t)
	cfg := writeFile(t, "llmrouter.yaml", `
models:
  - {name: claude-x, provider: anthropic, endpoint: "http://`+addr+`"}
  - {name: gpt-x, provider: openai, endpoint: "http://`+addr+`/v1"}
  - {name: vllm-x, provider: openai, endpoint: "http://`+addr+`/v1", apis: [chat]}
`)
	const body = `{"model":"%s","instructions":"Be brief.","input":"hi","store":true}`
	tests := []struct{ model, line, bodyHas string }{
		{"gpt-x", "POST http://" + addr + "/v1/responses", `"instructions":"Be brief."`},
		{"claude-x", "POST http://" + addr + "/v1/messages", `"system":"Be brief."`},
		{"vllm-x", "POST http://" + addr + "/v1/chat/completions", `"role":"system"`},
	}
	for _, tt := range tests {
		t.Run(tt.model, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := run([]string{"explain", "-config", cfg, "-endpoint", "/v1/responses"},
				strings.NewReader(fmt.Sprintf(body, tt.model)), &out, &errb); code != 0 {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
			e := parseExplain(t, out.String())
			if e.requestLine != tt.line || !strings.Contains(e.body, tt.bodyHas) {
				t.Errorf("explain printed %q with body %s; want %q with %s", e.requestLine, e.body, tt.line, tt.bodyHas)
			}
		})
	}
	if n := contacted.Load(); n != 0 {
		t.Errorf("explain connected to the upstream %d times", n)
	}
}

// explain prints, on stderr, how the request is routed: the deployments in
// the order they are considered and why (priority, weight, share), the fallback
// chains by cause, and the attempt budget; the upstream request printed is the
// first candidate's, and no key shows.
func TestExplainPrintsTheRoute(t *testing.T) {
	addr, contacted := tripwire(t)
	cfg := writeFile(t, "llmrouter.yaml", `
routing:
  fallbacks: {gpt-4o: [claude-x, llama]}
  context_window_fallbacks: {gpt-4o: [gpt-big]}
models:
  - {name: gpt-4o, id: eu, provider: openai, endpoint: "http://`+addr+`/eu/v1", api_key: `+canaryConfigKey+`}
  - {name: gpt-4o, id: us, provider: openai, endpoint: "http://`+addr+`/us/v1", weight: 3}
  - {name: gpt-4o, id: box, provider: openai, endpoint: "http://`+addr+`/box/v1", upstream_model: qwen2.5, priority: 1}
  - {name: gpt-big, provider: openai, endpoint: "http://`+addr+`/v1"}
  - {name: claude-x, provider: anthropic, endpoint: "http://`+addr+`"}
  - {name: llama, provider: ollama, endpoint: "http://`+addr+`"}
`)
	var out, errb bytes.Buffer
	body := `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`
	if code := run([]string{"explain", "-config", cfg}, strings.NewReader(body), &out, &errb); code != 0 {
		t.Fatalf("explain exit %d: %s", code, errb.String())
	}
	want := `route: gpt-4o, strategy weighted; lower priority first, equal priorities balanced
  1. us: openai http://` + addr + `/us/v1, model gpt-4o; priority 0, weight 3, 75% of priority 0
  2. eu: openai http://` + addr + `/eu/v1, model gpt-4o; priority 0, weight 1, 25% of priority 0
  3. box: openai http://` + addr + `/box/v1, model qwen2.5; priority 1, weight 1, 100% of priority 1
fallbacks (retryable failures): claude-x -> llama
context_window_fallbacks: gpt-big
content_policy_fallbacks: none
attempts: up to 3 on gpt-4o, 6 for the whole request, within 10m0s
the request printed is the one sent to us
`
	if d := cmp.Diff(want, errb.String()); d != "" {
		t.Errorf("route (-want +got):\n%s", d)
	}
	if e := parseExplain(t, out.String()); e.requestLine != "POST http://"+addr+"/us/v1/chat/completions" {
		t.Errorf("request line %q, want the first candidate's", e.requestLine)
	}
	noCanary(t, "explain output", out.String()+errb.String())
	if n := contacted.Load(); n != 0 {
		t.Errorf("explain contacted the upstream %d times", n)
	}
}
