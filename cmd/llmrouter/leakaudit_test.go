package main

import (
	"bytes"
	"strings"
	"testing"
)

// Regression tests for credential leaks found by a leak audit (each failed before
// its fix).

// Leak 7. A clumsy user pastes Gemini's OpenAI-compatible endpoint with its
// ?key= into endpoint. check rejects it, rightly, but quotes the whole URL, key
// included: config/parse.go endpoint() quotes s and hideValue only hides a value
// that looks like a key as a whole or comes from a secret-named ${VAR}.
func TestLeakAuditCheckQuotesKeyInEndpointQuery(t *testing.T) {
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

// Leak 8. explain -H without the colon ('Authorization Bearer sk-…', or
// 'Authorization=Bearer sk-…') is taken as a header named by the whole string with
// an empty value: maskHeader masks the (empty) value and prints the name, key
// included, in clear.
func TestLeakAuditExplainHeaderWithoutColon(t *testing.T) {
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
