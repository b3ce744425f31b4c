package config

import (
	"fmt"
	"strings"
	"testing"
)

// fallbackModels are exact names and two glob groups; test documents add a routing
// section after them.
const fallbackModels = `
models:
	- {name: gpt-4o, provider: openai, endpoint: "https://api.openai.com/v1"}
	- {name: gpt-4.1, provider: openai, endpoint: "https://api.openai.com/v1"}
	- {name: claude-*, provider: anthropic, endpoint: "https://api.anthropic.com"}
	- {name: "llama*", provider: ollama, endpoint: "http://127.0.0.1:11434"}
routing:
`

// Chains are resolved depth first per cause, with no model twice; a name without
// an entry of its own takes its glob's; keys may be names served by a glob.
func TestFallbackChains(t *testing.T) {
	cleanEnv(t)
	c := mustParse(t, fallbackModels+`
	fallbacks:
		gpt-4o: [claude-sonnet-4-5, llama3.2]
		claude-sonnet-4-5: [gpt-4.1, llama3.2]
		"llama*": [gpt-4.1]
	context_window_fallbacks:
		gpt-4o: [gpt-4.1]
		claude-*: [llama3.3-70b]
	content_policy_fallbacks: {}
`)
	f := func(model string, group int) Fallback { return Fallback{Model: model, Group: group} }
	want := map[string]Chains{
		// llama3.2 is served by llama*, whose fallbacks (gpt-4.1) follow it.
		"gpt-4o": {
			Fallbacks:     []Fallback{f("claude-sonnet-4-5", 2), f("gpt-4.1", 1), f("llama3.2", 3)},
			ContextWindow: []Fallback{f("gpt-4.1", 1)},
		},
		"claude-sonnet-4-5": {
			Fallbacks:     []Fallback{f("gpt-4.1", 1), f("llama3.2", 3)},
			ContextWindow: []Fallback{f("llama3.3-70b", 3)},
		},
		"llama*":   {Fallbacks: []Fallback{f("gpt-4.1", 1)}},
		"claude-*": {ContextWindow: []Fallback{f("llama3.3-70b", 3)}},
	}
	if diff := cmpDiff(want, c.Routes.Chains); diff != "" {
		t.Errorf("chains (-want +got):\n%s", diff)
	}
	for name, chain := range map[string]Chains{
		"gpt-4o":            want["gpt-4o"],
		"claude-sonnet-4-5": want["claude-sonnet-4-5"],
		"claude-opus-4-1":   want["claude-*"], // the glob's entry
		"llama2":            want["llama*"],
		"gpt-4.1":           {},
	} {
		if diff := cmpDiff(chain, c.Routes.Fallbacks(name)); diff != "" {
			t.Errorf("Fallbacks(%q) (-want +got):\n%s", name, diff)
		}
	}
	if got := c.Routing.Fallbacks["gpt-4o"]; strings.Join(got, ",") != "claude-sonnet-4-5,llama3.2" {
		t.Errorf("fallbacks as written = %v", got)
	}
}

// Every fallback rule, each problem with its line.
func TestFallbackErrors(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{"not a mapping", "\tfallbacks: [gpt-4o]\n", "line 7: routing.fallbacks: want a mapping of model names to lists of model names, got a list"},
		{"list not a list", "\tfallbacks: {gpt-4o: gpt-4.1}\n", "line 7: routing.fallbacks.gpt-4o: want a list, got a single value"},
		{"key repeated", "\tfallbacks:\n\t\tgpt-4o: [gpt-4.1]\n\t\tgpt-4o: [claude-x]\n", "line 9: routing.fallbacks.gpt-4o: model repeated (first at line 8)"},
		{"unknown key", "\tfallbacks: {gpt-5: [gpt-4o]}\n", `line 7: routing.fallbacks.gpt-5: no model is named "gpt-5" and no glob matches it`},
		{"glob key not configured", "\tfallbacks: {\"gpt-*\": [gpt-4o]}\n", `line 7: routing.fallbacks.gpt-*: "gpt-*" is not a glob pattern of the models list`},
		{"unknown fallback", "\tcontext_window_fallbacks:\n\t\tgpt-4o: [gpt-4.1, gpt-5]\n", `line 8: routing.context_window_fallbacks.gpt-4o[1]: no model is named "gpt-5" and no glob matches it`},
		{"empty fallback", "\tfallbacks: {gpt-4o: [\"\"]}\n", `line 7: routing.fallbacks.gpt-4o[0]: no model is named "" and no glob matches it`},
		{"pattern as fallback", "\tfallbacks: {gpt-4o: [\"claude-*\"]}\n", `line 7: routing.fallbacks.gpt-4o[0]: "claude-*" is a pattern; a fallback is a model name to request`},
		{"lists itself", "\tcontent_policy_fallbacks:\n\t\tgpt-4o:\n\t\t\t- gpt-4.1\n\t\t\t- gpt-4o\n", `line 10: routing.content_policy_fallbacks.gpt-4o[1]: "gpt-4o" falls back to itself`},
		{"listed twice", "\tfallbacks: {gpt-4o: [gpt-4.1, gpt-4.1]}\n", `line 7: routing.fallbacks.gpt-4o[1]: "gpt-4.1" is listed twice (first at line 7)`},
		{"too many", "\tfallbacks: {gpt-4o: [" + strings.TrimSuffix(strings.Repeat("gpt-4.1, ", 65), ", ") + "]}\n", "line 7: routing.fallbacks.gpt-4o: 65 models; at most 64 are allowed"},
		{"cycle in one map", "\tfallbacks:\n\t\tgpt-4o: [gpt-4.1]\n\t\tgpt-4.1: [claude-x]\n\t\tclaude-x: [gpt-4o]\n",
			"line 10: routing.fallbacks.claude-x[0]: fallback cycle: gpt-4o -> gpt-4.1 -> claude-x -> gpt-4o"},
		{"cycle across maps", "\tfallbacks:\n\t\tgpt-4o: [gpt-4.1]\n\tcontext_window_fallbacks:\n\t\tgpt-4.1: [gpt-4o]\n",
			"line 10: routing.context_window_fallbacks.gpt-4.1[0]: fallback cycle: gpt-4o -> gpt-4.1 -> gpt-4o"},
		{"cycle through a glob", "\tfallbacks:\n\t\tgpt-4o: [llama3]\n\t\t\"llama*\": [gpt-4o]\n",
			"line 9: routing.fallbacks.llama*[0]: fallback cycle: gpt-4o -> llama3 -> gpt-4o (a model without fallbacks of its own takes those of the glob that serves it)"},
		{"glob serving its own fallback", "\tfallbacks:\n\t\tclaude-*: [claude-x]\n",
			"line 8: routing.fallbacks.claude-*[0]: fallback cycle: claude-x -> claude-x (a model without fallbacks of its own takes those of the glob that serves it)"},
		{"unknown routing key", "\tfallback: {}\n", "line 7: routing.fallback: unknown key (valid keys: strategy, health, fallbacks, context_window_fallbacks, content_policy_fallbacks)"},
		{"unknown strategy", "\tstrategy: round_robin\n", `line 7: routing.strategy: unknown strategy "round_robin" (want weighted, least_in_flight or latency)`},
		{"failures zero", "\thealth: {failures: 0}\n", "line 7: routing.health.failures: want a whole number from 1 to 1000 (consecutive failures)"},
		{"cooldown zero", "\thealth: {cooldown: 0s}\n", "line 7: routing.health.cooldown: want a positive duration"},
		{"cooldown of days", "\thealth: {cooldown: 48h}\n", "line 7: routing.health.cooldown: want a duration of at most 1h0m0s"},
		{"max below cooldown", "\thealth:\n\t\tcooldown: 1m\n\t\tmax_cooldown: 30s\n", "line 8: routing.health: max_cooldown 30s is shorter than cooldown 1m0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cleanEnv(t)
			_, err := Parse(yamlDoc(fallbackModels+tt.doc), "test.yaml")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v\nwant it to contain %q", err, tt.want)
			}
		})
	}
}

// A chain that would resolve to more than 64 models is refused; at 64 it passes.
func TestFallbackChainBound(t *testing.T) {
	cleanEnv(t)
	doc := func(n int) string {
		var b strings.Builder
		b.WriteString("models:\n\t- {name: \"*\", provider: ollama, endpoint: \"http://x\"}\nrouting:\n\tfallbacks:\n")
		for i := range n {
			fmt.Fprintf(&b, "\t\tm%d: [m%d]\n", i, i+1)
		}
		return b.String()
	}
	c := mustParse(t, doc(64))
	if n := len(c.Routes.Chains["m0"].Fallbacks); n != 64 {
		t.Errorf("chain of m0 has %d models, want 64", n)
	}
	_, err := Parse(yamlDoc(doc(65)), "test.yaml")
	if err == nil || !strings.Contains(err.Error(), `line 5: routing.fallbacks.m0: the fallbacks chain of "m0" resolves to more than 64 models`) {
		t.Errorf("error = %v", err)
	}
}

// The routing section's scalars: strategy and health.
func TestRoutingSettings(t *testing.T) {
	cleanEnv(t)
	c := mustParse(t, fallbackModels+"\tstrategy: least_in_flight\n\thealth: {failures: 5, cooldown: 30s}\n")
	want := Routing{Strategy: StrategyLeastInFlight, Health: Health{Failures: 5, Cooldown: 30e9, MaxCooldown: 300e9}}
	if diff := cmpDiff(want, c.Routing); diff != "" {
		t.Errorf("routing (-want +got):\n%s", diff)
	}
	// A cooldown above the default cap raises the cap, as health.Policy does.
	c = mustParse(t, fallbackModels+"\thealth: {cooldown: 10m}\n")
	if h := c.Routing.Health; h.MaxCooldown != h.Cooldown {
		t.Errorf("max_cooldown %v for cooldown %v", h.MaxCooldown, h.Cooldown)
	}
}

// overlap and covers agree with matching every name of a small alphabet.
func TestGlobRelations(t *testing.T) {
	patterns := []string{"*", "a*", "*a", "a*b", "ab", "b*", "*b*", "a*a", "**", "a**b", "ba*", "*ab", "aa"}
	var names []string
	for n := range 5 {
		names = append(names, wordsOf(n)...)
	}
	for _, p := range patterns {
		for _, q := range patterns {
			both, pNotQ := false, false
			for _, n := range names {
				mp, mq := match(p, n), match(q, n)
				both = both || mp && mq
				pNotQ = pNotQ || mp && !mq
			}
			if got := overlap(p, q); got != both {
				t.Errorf("overlap(%q, %q) = %v, want %v", p, q, got, both)
			}
			if got := covers(q, p); got != !pNotQ {
				t.Errorf("covers(%q, %q) = %v, want %v", q, p, got, !pNotQ)
			}
		}
	}
}

// wordsOf returns every word of n letters from {a, b}.
func wordsOf(n int) []string {
	if n == 0 {
		return []string{""}
	}
	var out []string
	for _, w := range wordsOf(n - 1) {
		out = append(out, w+"a", w+"b")
	}
	return out
}
