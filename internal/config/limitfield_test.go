package config

import (
	"strings"
	"testing"
)

// max_tokens_field names the Chat Completions member an openai endpoint reads the
// output limit from (issue 9 item 2); unset, the router chooses by endpoint.
func TestMaxTokensField(t *testing.T) {
	cleanEnv(t)
	c := mustParse(t, head+"\t\tmax_tokens_field: max_tokens\n\t- name: n\n\t\tprovider: openai\n\t\tendpoint: https://x/v1\n"+
		"\t\tmax_tokens_field: MAX_COMPLETION_TOKENS\n\t- name: o\n\t\tprovider: openai\n\t\tendpoint: https://x/v1\n")
	for i, want := range []string{MaxTokensFieldMaxTokens, MaxTokensFieldMaxCompletionTokens, ""} {
		if got := c.Models[i].MaxTokensField; got != want {
			t.Errorf("models[%d].max_tokens_field = %q, want %q", i, got, want)
		}
	}
	if s := Summary(c); !strings.Contains(s, "limit in max_tokens") {
		t.Errorf("summary does not show the field:\n%s", s)
	}
	for _, tt := range []struct{ name, doc, want string }{
		{"unknown field", head + "\t\tmax_tokens_field: max_output_tokens\n",
			`line 5: models[0].max_tokens_field: unknown field "max_output_tokens" (want max_tokens or max_completion_tokens)`},
		{"not openai", "models:\n\t- name: c\n\t\tprovider: ollama\n\t\tendpoint: http://x\n\t\tmax_tokens_field: max_tokens\n",
			"line 5: models[0].max_tokens_field: only for provider openai"},
		{"in defaults", "defaults:\n\tmax_tokens_field: max_tokens\n" + head, "line 2: defaults.max_tokens_field: unknown key"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cleanEnv(t)
			_, err := Parse(yamlDoc(tt.doc), "test.yaml")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v\nwant it to contain %q", err, tt.want)
			}
		})
	}
}
