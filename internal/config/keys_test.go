package config

import (
	"strings"
	"testing"
)

// keysModels are the models the key tests refer to: priced OpenAI and Claude
// deployments, and an unpriced local catch-all.
const keysModels = `
models:
	- name: gpt-4o
		provider: openai
		endpoint: https://api.openai.com/v1
		price: {input_per_mtok: 2.5, output_per_mtok: 10}
	- name: claude-*
		provider: anthropic
		endpoint: https://api.anthropic.com
		price: {input_per_mtok: 3, output_per_mtok: 15}
	- name: "*"
		provider: ollama
		endpoint: http://127.0.0.1:11434
`

// Plain and object keys decode in file order; every key authenticates (APIKeys)
// and Keys carries names, models and limits.
func TestRouterKeys(t *testing.T) {
	cleanEnv(t)
	t.Setenv("TEAM_KEY", "team-key-0123456789")
	c := mustParse(t, `
server:
	api_keys:
		- plain-key-0123456789
		- name: team-search
			key: ${TEAM_KEY}
			models: [gpt-4o, "claude-*"]
			rpm: 600
			tpm: 200000
			budget: {tokens: 50000000, cost: 500, period: month}
		- name: batch
			key: batch-key-0123456789
			budget: {period: day}
			admin: true
`+keysModels)
	want := []Key{
		{Key: "plain-key-0123456789", Line: 3},
		{Name: "team-search", Key: "team-key-0123456789", Models: []string{"gpt-4o", "claude-*"}, RPM: 600, TPM: 200000,
			Budget: Budget{Tokens: 50000000, Cost: 500, Period: PeriodMonth}, Line: 4},
		{Name: "batch", Key: "batch-key-0123456789", Budget: Budget{Period: PeriodDay}, Admin: true, Line: 10},
	}
	if diff := cmpDiff(want, c.Server.Keys); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}
	wantAuth := []Secret{"plain-key-0123456789", "team-key-0123456789", "batch-key-0123456789"}
	if diff := cmpDiff(wantAuth, c.Server.APIKeys); diff != "" {
		t.Errorf("api keys (-want +got):\n%s", diff)
	}
	team := c.Server.Keys[1]
	for name, want := range map[string]bool{"gpt-4o": true, "claude-sonnet-4-5": true, "gpt-4o-mini": false, "llama3": false} {
		if got := team.Allows(name); got != want {
			t.Errorf("team-search Allows(%q) = %v", name, got)
		}
	}
	if !c.Server.Keys[0].Allows("anything") {
		t.Error("a plain key does not allow every model")
	}
}

// Every key rule, each problem with its line; no problem shows a key.
func TestRouterKeyErrors(t *testing.T) {
	const secret = "team-key-0123456789"
	tests := []struct {
		name, doc, want string
	}{
		{"no name", "\t\t- key: " + secret + "\n", "line 3: server.api_keys[0].name: required in a key object"},
		{"no key", "\t\t- name: a\n", "line 3: server.api_keys[0].key: required in a key object"},
		{"empty key", "\t\t- {name: a, key: \"\"}\n", "line 3: server.api_keys[0].key: empty key"},
		{"key with a space", "\t\t- {name: a, key: \"abc def\"}\n", "line 3: server.api_keys[0].key: key contains spaces or control characters (a stray newline?) (value hidden: it is a key)"},
		{"name with a space", "\t\t- {name: team a, key: " + secret + "}\n", `line 3: server.api_keys[0].name: name "team a" holds a space`},
		{"name looks like a key", "\t\t- {name: sk-proj-abcdefghijklmnop, key: " + secret + "}\n", "line 3: server.api_keys[0].name: name looks like a key; it is shown in logs, headers and metrics (value hidden: it looks like a credential)"},
		{"unknown field", "\t\t- {name: a, key: " + secret + ", limit: 1}\n", "line 3: server.api_keys[0].limit: unknown key (valid keys: name, key, models, rpm, tpm, budget, admin)"},
		{"name twice", "\t\t- {name: a, key: k1-0123456789}\n\t\t- {name: a, key: k2-0123456789}\n", `line 4: server.api_keys[1].name: key name "a" is already used at line 3`},
		{"named key twice", "\t\t- " + secret + "\n\t\t- {name: a, key: " + secret + "}\n", "line 4: server.api_keys[1]: the same key as server.api_keys[0] (line 3)"},
		{"models empty", "\t\t- {name: a, key: " + secret + ", models: []}\n", "line 3: server.api_keys[0].models: empty: the key could use no model"},
		{"models matching nothing", "\t\t- name: a\n\t\t\tkey: " + secret + "\n\t\t\tmodels: [gpt-4o, \"mistral*\"]\n", ""},
		{"rpm negative", "\t\t- {name: a, key: " + secret + ", rpm: -5}\n", "line 3: server.api_keys[0].rpm: want a whole number from 0 (unlimited)"},
		{"budget without period", "\t\t- name: a\n\t\t\tkey: " + secret + "\n\t\t\tbudget: {tokens: 1000}\n", "line 5: server.api_keys[0].budget.period: required with a tokens or cost budget (day or month)"},
		{"budget period unknown", "\t\t- {name: a, key: " + secret + ", budget: {tokens: 1, period: week}}\n", `line 3: server.api_keys[0].budget.period: unknown period "week" (want day or month)`},
		{"budget cost negative", "\t\t- {name: a, key: " + secret + ", budget: {cost: -1, period: day}}\n", "line 3: server.api_keys[0].budget.cost: want a number from 0 to 1e+06"},
		{"cost budget reaching an unpriced model", "\t\t- name: a\n\t\t\tkey: " + secret + "\n\t\t\tbudget: {cost: 10, period: day}\n",
			"line 5: server.api_keys[0].budget.cost: the key may use deployments that have no price, so its cost budget would not count them: *#1 (line 16)"},
		{"a list item", "\t\t- [a]\n", "line 3: server.api_keys[0]: want a single value, got a list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cleanEnv(t)
			_, err := Parse(yamlDoc("server:\n\tapi_keys:\n"+tt.doc+keysModels), "test.yaml")
			if tt.want == "" {
				if err != nil {
					t.Errorf("error = %v; a glob key reaches the catch-all", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v\nwant it to contain %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), secret) {
				t.Errorf("error shows the key: %v", err)
			}
		})
	}
}

// A key pattern must reach a configured model (without a catch-all, a typo shows).
func TestKeyModelsMustExist(t *testing.T) {
	cleanEnv(t)
	doc := "server:\n\tapi_keys:\n\t\t- name: a\n\t\t\tkey: k-0123456789\n\t\t\tmodels: [gpt-4o, gpt-4o-mini, \"mistral*\", \"claude-3*\"]\n" + head
	_, err := Parse(yamlDoc(doc), "test.yaml")
	for _, want := range []string{
		`line 5: server.api_keys[0].models[0]: no configured model is named "gpt-4o" or matched by it`,
		`line 5: server.api_keys[0].models[2]: no configured model is named "mistral*" or matched by it`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error = %v\nwant it to contain %q", err, want)
		}
	}
	c := mustParse(t, "server:\n\tapi_keys:\n\t\t- {name: a, key: k-0123456789, models: [\"m*\", m]}\n"+head)
	if !c.Server.Keys[0].Allows("m") {
		t.Error("key does not allow m")
	}
}

// A cost budget needs a price on every deployment the key can reach: through its
// models, through a glob not shadowed by an earlier one, and through fallbacks.
func TestCostBudgetNeedsPrices(t *testing.T) {
	key := func(models string) string {
		return "server:\n\tapi_keys:\n\t\t- name: a\n\t\t\tkey: k-0123456789\n\t\t\tmodels: " + models +
			"\n\t\t\tbudget: {cost: 5, period: month}\n"
	}
	tests := []struct {
		name, doc, want string
	}{
		{"priced models only", key("[gpt-4o, \"claude-*\"]") + keysModels, ""},
		{"a glob shadowed by an earlier glob", key("[\"claude-3*\"]") + keysModels, ""},
		{"a glob reaching the catch-all", key("[\"gpt-*\"]") + keysModels, "*#1 (line 17)"},
		{"through a fallback", key("[gpt-4o]") + keysModels + "routing:\n\tfallbacks: {gpt-4o: [llama3]}\n", "*#1 (line 17)"},
		{"through the glob's context-window fallback", key("[\"claude-opus*\"]") + keysModels + "routing:\n\tcontext_window_fallbacks: {\"claude-*\": [llama3]}\n", "*#1 (line 17)"},
		{"a free model", key("[llama3]") + strings.Replace(keysModels, "11434\n", "11434\n\t\tprice: {input_per_mtok: 0, output_per_mtok: 0}\n", 1), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cleanEnv(t)
			_, err := Parse(yamlDoc(tt.doc), "test.yaml")
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("error = %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), "budget.cost: the key may use deployments that have no price") || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("error = %v\nwant it to name %s", err, tt.want)
			}
		})
	}
}

// Many unpriced deployments are named up to three, then counted.
func TestCostBudgetListsFewDeployments(t *testing.T) {
	cleanEnv(t)
	doc := "server:\n\tapi_keys:\n\t\t- {name: a, key: k-0123456789, budget: {cost: 5, period: day}}\nmodels:\n" +
		strings.Repeat("\t- {name: m, provider: openai, endpoint: \"https://x\"}\n", 5)
	_, err := Parse(yamlDoc(doc), "test.yaml")
	if err == nil || !strings.Contains(err.Error(), "m#1 (line 5), m#2 (line 6), m#3 (line 7) and 2 more;") {
		t.Errorf("error = %v", err)
	}
}
