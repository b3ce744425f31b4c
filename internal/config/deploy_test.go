package config

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// deployments is a file with deployments of an exact name, of a glob pattern, a glob
// that matches the exact name, and a model between them.
const deploymentsDoc = `
defaults:
	health_check: {interval: 20s}
models:
	- name: gpt-4o
		id: gpt-4o-openai
		provider: openai
		endpoint: https://api.openai.com/v1
		weight: 3
		rpm: 10000
		tpm: 2000000
		price: {input_per_mtok: 2.5, output_per_mtok: 10}
	- name: claude-*
		provider: anthropic
		endpoint: https://api.anthropic.com
	- name: gpt-4o
		provider: openai
		endpoint: https://eu.example.com/v1/
		upstream_model: gpt-4o-eu
		priority: 1
		apis: [responses, chat]
		timeouts: {first_byte: 5s}
		health_check: {path: /health, timeout: 2s}
	- name: gpt-*
		provider: openai
		endpoint: https://api.openai.com/v1
	- name: claude-*
		id: claude-backup
		provider: anthropic
		endpoint: https://backup.example.com
		priority: -1
	- name: gpt-4o
		provider: ollama
		endpoint: http://127.0.0.1:11434
`

// Entries with one name are deployments of one group; globs group by pattern, a
// glob never joins an exact name's group, and ids default to <name>#<n>.
func TestDeploymentsGroupByName(t *testing.T) {
	cleanEnv(t)
	c := mustParse(t, deploymentsDoc)
	wantGroups := []Group{
		{Name: "gpt-4o", Deployments: []int{0, 2, 5}, Line: 4},
		{Name: "claude-*", Glob: true, Deployments: []int{1, 4}, Line: 12},
		{Name: "gpt-*", Glob: true, Deployments: []int{3}, Line: 23},
	}
	if diff := cmpDiff(wantGroups, c.Routes.Groups); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}
	if diff := cmpDiff(map[string]int{"gpt-4o": 0}, c.Routes.Exact); diff != "" {
		t.Errorf("exact (-want +got):\n%s", diff)
	}
	if diff := cmpDiff([]int{1, 2}, c.Routes.Globs); diff != "" {
		t.Errorf("globs (-want +got):\n%s", diff)
	}
	type dep struct {
		ID               string
		Weight, Priority int
		APIs             []string
		Check            HealthCheck
		FirstByte        time.Duration
	}
	var got []dep
	for _, m := range c.Models {
		got = append(got, dep{m.ID, m.Weight, m.Priority, m.APIs, m.HealthCheck, m.Timeouts.FirstByte})
	}
	all := []string{APIChat, APICompletions, APIResponses}
	noCheck := HealthCheck{Interval: 20 * time.Second, Timeout: 5 * time.Second}
	want := []dep{
		{"gpt-4o-openai", 3, 0, all, noCheck, 120 * time.Second},
		{"claude-*#1", 1, 0, nil, noCheck, 120 * time.Second},
		{"gpt-4o#2", 1, 1, []string{APIResponses, APIChat},
			HealthCheck{Path: "/health", URL: "https://eu.example.com/health", Interval: 20 * time.Second, Timeout: 2 * time.Second}, 5 * time.Second},
		{"gpt-*#1", 1, 0, all, noCheck, 120 * time.Second},
		{"claude-backup", 1, -1, nil, noCheck, 120 * time.Second},
		{"gpt-4o#3", 1, 0, nil, noCheck, 120 * time.Second},
	}
	if diff := cmpDiff(want, got); diff != "" {
		t.Errorf("deployments (-want +got):\n%s", diff)
	}
	m := c.Models[0]
	if m.RPM != 10000 || m.TPM != 2000000 || m.Price == nil || *m.Price != (Price{InputPerMTok: 2.5, OutputPerMTok: 10}) {
		t.Errorf("limits and price of the first deployment: rpm %d tpm %d price %v", m.RPM, m.TPM, m.Price)
	}
	if c.Models[1].Price != nil {
		t.Errorf("a model without price has %v", c.Models[1].Price)
	}
	if diff := cmpDiff(map[string]Price{"gpt-4o-openai": {InputPerMTok: 2.5, OutputPerMTok: 10}}, c.Prices()); diff != "" {
		t.Errorf("prices (-want +got):\n%s", diff)
	}
}

// Lookup: exact names first, then globs in file order; a glob pattern with the
// text of a name is matched like any name.
func TestRoutesLookup(t *testing.T) {
	cleanEnv(t)
	c := mustParse(t, deploymentsDoc)
	for name, want := range map[string]string{
		"gpt-4o":            "gpt-4o",
		"gpt-4o-mini":       "gpt-*",
		"claude-sonnet-4-5": "claude-*",
		"claude-*":          "claude-*",
		"llama3":            "",
	} {
		g, ok := c.Routes.Lookup(name)
		switch {
		case want == "" && ok:
			t.Errorf("Lookup(%q) = %s, want none", name, g.Name)
		case want != "" && (!ok || g.Name != want):
			t.Errorf("Lookup(%q) = %v, %v; want %s", name, g, ok, want)
		}
	}
	if diff := cmpDiff([]string{"gpt-4o"}, c.Routes.Names()); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
}

// A file without deployments compiles to one group per entry; the embedded default
// too, with lines cleared like the models'.
func TestOneDeploymentPerModel(t *testing.T) {
	cleanEnv(t)
	c, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Routes.Groups) != len(c.Models) {
		t.Fatalf("%d groups for %d models", len(c.Routes.Groups), len(c.Models))
	}
	for i, g := range c.Routes.Groups {
		m := c.Models[i]
		if g.Name != m.Name || g.Line != 0 || len(g.Deployments) != 1 || g.Deployments[0] != i || m.ID != m.Name+"#1" {
			t.Errorf("group %d = %+v for model %s (id %s)", i, g, m.Name, m.ID)
		}
	}
}

// Every deployment rule, each problem with its line.
func TestDeploymentErrors(t *testing.T) {
	tooMany := "models:\n" + strings.Repeat("\t- {name: m, provider: openai, endpoint: \"https://x\"}\n", 65)
	tests := []struct {
		name string
		doc  string
		want string
	}{
		{"empty id", head + "\t\tid: \"\"\n", "line 5: models[0].id: id must not be empty"},
		{"id with a space", head + "\t\tid: a b\n", `line 5: models[0].id: id "a b" holds a space, a comma or a character outside printable ASCII`},
		{"id with a comma", head + "\t\tid: a,b\n", "line 5: models[0].id: id \"a,b\" holds a space, a comma"},
		{"id too long", head + "\t\tid: " + strings.Repeat("a", 129) + "\n", "line 5: models[0].id: id is longer than 128 bytes"},
		{"id looks like a key", head + "\t\tid: sk-proj-abcdefghijkl\n", "line 5: models[0].id: id looks like a key"},
		{"id used twice across models", head + "\t\tid: x\n\t- name: n\n\t\tid: x\n\t\tprovider: openai\n\t\tendpoint: https://y\n",
			`line 7: models[1].id: deployment id "x" is already used at line 2`},
		{"default id taken", head + "\t\tid: n#1\n\t- name: n\n\t\tprovider: openai\n\t\tendpoint: https://y\n",
			`line 6: models[1].id: deployment id "n#1" (the default for entry 1 of "n") is already used at line 2: set id explicitly`},
		{"long default id with limits", "models:\n\t- name: " + strings.Repeat("m", 127) + "\n\t\tprovider: openai\n\t\tendpoint: https://x\n\t\trpm: 5\n",
			"line 2: models[0].id: the default id of a model with rpm or tpm is longer than 128 bytes: set id"},
		{"weight zero", head + "\t\tweight: 0\n", `line 5: models[0].weight: want a whole number from 1 to 1000000 (share of traffic), got "0"`},
		{"weight too large", head + "\t\tweight: 1000001\n", "line 5: models[0].weight: want a whole number from 1 to 1000000"},
		{"priority not a number", head + "\t\tpriority: first\n", `line 5: models[0].priority: want a whole number from -1000000 to 1000000 (lower is tried first), got "first"`},
		{"65 deployments", tooMany, `line 66: models[64].name: model "m" has more than 64 deployments`},
		{"weight in defaults", "defaults:\n\tweight: 2\n" + head, "line 2: defaults.weight: unknown key"},
		{"rpm negative", head + "\t\trpm: -1\n", `line 5: models[0].rpm: want a whole number from 0 (unlimited) to 1000000000000000, got "-1"`},
		{"tpm not a number", head + "\t\ttpm: lots\n", "line 5: models[0].tpm: want a whole number from 0 (unlimited)"},
		{"price not a mapping", head + "\t\tprice: 2.5\n", "line 5: models[0].price: want a mapping"},
		{"price without output", head + "\t\tprice: {input_per_mtok: 1}\n", "line 5: models[0].price.output_per_mtok: required (US dollars per million tokens; 0 for a free model)"},
		{"price negative", head + "\t\tprice: {input_per_mtok: -1, output_per_mtok: 1}\n", "line 5: models[0].price.input_per_mtok: want a number from 0 to 1e+06"},
		{"price unknown key", head + "\t\tprice: {input: 1, output_per_mtok: 1}\n", "line 5: models[0].price.input: unknown key (valid keys: input_per_mtok, output_per_mtok)"},
		{"apis for anthropic", "models:\n\t- name: c\n\t\tprovider: anthropic\n\t\tendpoint: https://x\n\t\tapis: [chat]\n",
			"line 5: models[0].apis: only for provider openai (which OpenAI APIs its endpoint serves); anthropic has one API"},
		{"apis empty", head + "\t\tapis: []\n", "line 5: models[0].apis: empty: list the OpenAI APIs the endpoint serves"},
		{"apis twice", head + "\t\tapis: [chat, completions, chat]\n", "line 5: models[0].apis[2]: chat is listed twice"},
		{"apis unknown", head + "\t\tapis: [chat, embeddings]\n", `line 5: models[0].apis[1]: unknown API "embeddings" (want chat, completions or responses)`},
		{"apis in defaults", "defaults:\n\tapis: [chat]\n" + head, "line 2: defaults.apis: unknown key"},
		{"check path relative", head + "\t\thealth_check: {path: health}\n", `line 5: models[0].health_check.path: want a path starting with /, like /health, got "health"`},
		{"check path with host", head + "\t\thealth_check: {path: //evil.example/h}\n", "line 5: models[0].health_check.path: want a path starting with /"},
		{"check path with query", "defaults:\n\thealth_check: {path: \"/h?key=1\"}\n" + head, "line 2: defaults.health_check.path: must not have a query or fragment"},
		{"check interval short", head + "\t\thealth_check: {interval: 10ms}\n", `line 5: models[0].health_check.interval: want a duration of at least 1s, got "10ms"`},
		{"check timeout long", head + "\t\thealth_check: {timeout: 2m}\n", "line 5: models[0].health_check.timeout: want a duration of at most 1m0s"},
		{"check timeout above interval", head + "\t\thealth_check:\n\t\t\tpath: /health\n\t\t\tinterval: 2s\n\t\t\ttimeout: 3s\n",
			"line 6: models[0].health_check: timeout 3s is longer than interval 2s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cleanEnv(t)
			_, err := Parse(yamlDoc(tt.doc), "test.yaml")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v\nwant it to contain %q", err, tt.want)
			}
		})
	}
}

// 64 deployments of one model are allowed, and an explicit id can take what
// would have been another entry's default once that entry has its own.
func TestDeploymentBounds(t *testing.T) {
	cleanEnv(t)
	var b strings.Builder
	b.WriteString("models:\n")
	for i := range 64 {
		fmt.Fprintf(&b, "\t- {name: m, provider: openai, endpoint: \"https://x%d\"}\n", i)
	}
	c := mustParse(t, b.String())
	if n := len(c.Routes.Groups[0].Deployments); n != 64 || c.Models[63].ID != "m#64" {
		t.Errorf("%d deployments, last id %s", n, c.Models[63].ID)
	}
	c = mustParse(t, head+"\t\tid: n#1\n\t- name: n\n\t\tid: n-main\n\t\tprovider: openai\n\t\tendpoint: https://y\n")
	if c.Models[0].ID != "n#1" || c.Models[1].ID != "n-main" {
		t.Errorf("ids %s, %s", c.Models[0].ID, c.Models[1].ID)
	}
}

// health_check merges from defaults field by field, and a model turns an
// inherited check off with path "".
func TestHealthCheckMerge(t *testing.T) {
	cleanEnv(t)
	c := mustParse(t, `
defaults:
	health_check: {path: /health, interval: 30s}
models:
	- name: a
		provider: openai
		endpoint: http://vllm:8000/v1
		health_check: {timeout: 1s}
	- name: b
		provider: ollama
		endpoint: http://ollama:11434/
		health_check: {path: /api/version}
	- name: c
		provider: openai
		endpoint: https://api.openai.com/v1
		health_check: {path: ""}
`)
	want := []HealthCheck{
		{Path: "/health", URL: "http://vllm:8000/health", Interval: 30 * time.Second, Timeout: time.Second},
		{Path: "/api/version", URL: "http://ollama:11434/api/version", Interval: 30 * time.Second, Timeout: 5 * time.Second},
		{Interval: 30 * time.Second, Timeout: 5 * time.Second},
	}
	for i, m := range c.Models {
		if diff := cmpDiff(want[i], m.HealthCheck); diff != "" {
			t.Errorf("%s (-want +got):\n%s", m.Name, diff)
		}
	}
}
