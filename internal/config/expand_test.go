package config

import (
	"strings"
	"testing"
)

func TestExpand(t *testing.T) {
	env := map[string]string{"HOST": "example.com", "EMPTY": "", "_K1": "v1"}
	lookup := func(name string) (string, bool) { v, ok := env[name]; return v, ok }
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr string
	}{
		{name: "no dollar", in: "plain", want: "plain"},
		{name: "variable", in: "https://${HOST}/v1", want: "https://example.com/v1"},
		{name: "underscore and digits", in: "${_K1}", want: "v1"},
		{name: "default unused", in: "${HOST:-other}", want: "example.com"},
		{name: "default for unset", in: "${NOPE:-http://127.0.0.1:11434}", want: "http://127.0.0.1:11434"},
		{name: "default for empty", in: "${EMPTY:-d}", want: "d"},
		{name: "empty default", in: "a${NOPE:-}b", want: "ab"},
		{name: "set but empty", in: "a${EMPTY}b", want: "ab"},
		{name: "double dollar", in: "cost: $$5", want: "cost: $5"},
		{name: "double dollar before brace", in: "$${HOST}", want: "${HOST}"},
		{name: "group reference", in: "$1-$2", want: "$1-$2"},
		{name: "braced group reference", in: "${1}x", want: "${1}x"},
		{name: "jsonpath", in: "$.messages[0]", want: "$.messages[0]"},
		{name: "unbraced name", in: "$HOME", want: "$HOME"},
		{name: "trailing dollar", in: "end$", want: "end$"},
		{name: "lone brace", in: "${", want: "${"},
		{name: "unset", in: "${NOPE}", wantErr: "environment variable NOPE is not set (write ${NOPE:-} to allow it unset)"},
		{name: "malformed", in: "${HOST-x}", wantErr: "malformed reference to HOST"},
		{name: "unterminated", in: "${HOST", wantErr: "malformed reference to HOST"},
		{name: "unterminated default", in: "${HOST:-x", wantErr: "unterminated ${HOST:-...}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := expand(tt.in, lookup)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("expand(%q) error = %v, want %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("expand(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("expand(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestExpandInConfig checks that expansion reaches every string value, after YAML
// parsing: keys, header values, transform values and regex replacements.
func TestExpandInConfig(t *testing.T) {
	cleanEnv(t)
	t.Setenv("LLMROUTER_TEST_KEY", "sk-test-0123456789")
	t.Setenv("LLMROUTER_TEST_TEAM", "research")
	t.Setenv("LLMROUTER_TEST_TEMP", "0.7")
	t.Setenv("LLMROUTER_TEST_QUOTE", `"quoted" # not a comment`)
	c := mustParse(t, `
models:
	- name: ${LLMROUTER_TEST_NAME:-gpt-4o}
		provider: openai
		endpoint: https://${LLMROUTER_TEST_HOST:-api.openai.com}/v1/
		api_key: ${LLMROUTER_TEST_KEY}
		headers:
			force: {X-Team: "${LLMROUTER_TEST_TEAM}", X-Raw: "$${LLMROUTER_TEST_TEAM}"}
		transforms:
			- regex: '(\w+)@example\.com'
				replace: '$1 at ${LLMROUTER_TEST_TEAM}'
			- set: $.temperature
				value: ${LLMROUTER_TEST_TEMP}
			- set: $.metadata
				value:
					team: ["${LLMROUTER_TEST_TEAM}"]
					temp: "${LLMROUTER_TEST_TEMP}"
					note: ${LLMROUTER_TEST_QUOTE}
					n: 3
					ok: true
					none: null
`)
	m := c.Models[0]
	got := struct {
		Name, Endpoint, Key, Replace string
		Force                        map[string]string
		Temperature, Metadata        any
	}{m.Name, m.Endpoint, m.APIKey.Reveal(), m.Transforms[0].Replace, m.Headers.Force, m.Transforms[1].Value, m.Transforms[2].Value}
	want := got
	want.Name, want.Endpoint = "gpt-4o", "https://api.openai.com/v1"
	want.Key, want.Replace = "sk-test-0123456789", "$1 at research"
	want.Force = map[string]string{"X-Team": "research", "X-Raw": "${LLMROUTER_TEST_TEAM}"}
	want.Temperature = 0.7 // a plain scalar is typed after expansion
	want.Metadata = map[string]any{
		"team": []any{"research"},
		"temp": "0.7", // quoted: stays a string
		"note": `"quoted" # not a comment`,
		"n":    int64(3), "ok": true, "none": nil,
	}
	if diff := cmpDiff(want, got); diff != "" {
		t.Errorf("expanded config (-want +got):\n%s", diff)
	}
}
