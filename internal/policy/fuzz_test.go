package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/theory/jsonpath"
	"github.com/theory/jsonpath/spec"

	"github.com/llmrouter/llmrouter/internal/anthropic"
	"github.com/llmrouter/llmrouter/internal/config"
	"github.com/llmrouter/llmrouter/internal/ollama"
	"github.com/llmrouter/llmrouter/internal/openai"
)

var protocols = []Dialect{openai.Chat, openai.Completions, anthropic.Messages, ollama.Chat, ollama.Generate}

// fuzzRules is one of each kind of rule, with patterns meant to hit often.
var fuzzRules = []config.Transform{
	{Regex: `(a)(b*)`, Replace: `<$2$1>`, Flags: "i", Line: 1},
	{Regex: `x|^$`, Replace: "\"\\\x00\u2028\n", Roles: []string{"user", "tool"}, Line: 2},
	{Regex: `^`, Replace: "sys: ", Roles: []string{"system"}, Flags: "m", Line: 3},
	{Regex: `\p{Greek}+`, Replace: "", Line: 4},
	{Drop: "$.metadata", Line: 5},
	{Drop: "$.messages[?@.role=='developer']", Line: 6},
	{Drop: "$..cache_control", Line: 7},
	{Drop: "$.stop[0,-1]", Line: 8},
	{Set: "$.temperature", Value: 0.2, Line: 9},
	{Set: "$.options.num_ctx", Value: 4096, Line: 10},
	{Set: "$.messages[*].name", Value: "n", Line: 11},
	{Set: "$..id", Value: map[string]any{"id": []any{1, "x"}}, Line: 12},
	{Append: "$.messages", Value: map[string]any{"role": "system", "content": "Answer briefly."}, Line: 13},
	{Append: "$..content", Value: map[string]any{"type": "text", "text": "ab"}, Line: 14},
}

func addSeeds(f *testing.F) {
	for _, file := range requestFiles(f) {
		body, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(body, uint8(slices.Index(protocols, protoOf(f, filepath.Base(file)))))
	}
	for _, s := range []string{
		`{}`, ` { } `, `[]`, `"x"`, `{"a":1,"a":2}`,
		`{"messages":[{"role":"user","content":"ax"},{"role":"developer","content":[{"type":"text","text":"ab"}]}]}`,
		`{"system":[{"type":"text","text":"x\u0000y","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":[{"type":"tool_result","content":[{"type":"text","text":"x"}]}]}]}`,
		`{"prompt":["a","\ud800",[1]],"system":"Ωmega","stop":["a","b","c"],"options":5}`,
		`{"messages":{"id":{"id":1}},"metadata":[],"stop":[]}`,
		"{\"messages\":[{\"role\":\"user\",\"content\":\"\xff\xfe a\"}]}",
	} {
		for p := range protocols {
			f.Add([]byte(s), uint8(p))
		}
	}
}

// FuzzBody runs random bodies through a fixed policy: Body must not panic, must
// not modify its input, and must return one JSON object or ErrInvalidBody.
func FuzzBody(f *testing.F) {
	addSeeds(f)
	p := mustCompile(f, fuzzRules...)
	f.Fuzz(func(t *testing.T, body []byte, proto uint8) {
		orig := bytes.Clone(body)
		out, err := p.Body(body, protocols[int(proto)%len(protocols)])
		if !bytes.Equal(body, orig) {
			t.Fatalf("Body modified its input")
		}
		if err != nil {
			if !errors.Is(err, ErrInvalidBody) && !errors.Is(err, ErrTooComplex) {
				t.Fatalf("Body error %v wraps neither ErrInvalidBody nor ErrTooComplex", err)
			}
			return
		}
		if checkBody(out) != nil {
			t.Fatalf("Body returned no JSON object:\n%s\nfrom:\n%s", out, body)
		}
	})
}

// pathRules exercise every JSONPath construct that can select several nodes,
// nested ones included.
var pathRules = []config.Transform{
	{Drop: "$.metadata", Line: 1},
	{Drop: "$.messages[?@.role=='system']", Line: 2},
	{Drop: "$..cache_control", Line: 3},
	{Drop: "$.a[0,2,-1,0]", Line: 4},
	{Drop: "$.b[::2]", Line: 5},
	{Drop: "$..*[?@ == 1]", Line: 6},
	{Set: "$.temperature", Value: 0.2, Line: 7},
	{Set: "$.options.num_ctx", Value: 4096, Line: 8},
	{Set: "$.x.y.z", Value: map[string]any{"k": []any{1, 2}}, Line: 9},
	{Set: "$.messages[*].name", Value: "n", Line: 10},
	{Set: "$..id", Value: map[string]any{"id": "i"}, Line: 11},
	{Set: "$.c[1]", Value: nil, Line: 12},
	{Append: "$.messages", Value: map[string]any{"role": "system", "content": "Answer briefly."}, Line: 13},
	{Append: "$..stop", Value: "END", Line: 14},
	{Append: "$.*", Value: []any{}, Line: 15},
	{Drop: "$.d[1:3]", Line: 16},
	{Set: "$.messages[*].metadata.user_id", Value: "u", Line: 17},
	{Set: "$..*.x.y", Value: 1, Line: 18},
	{Set: "$.a[0].b", Value: true, Line: 19},
	{Drop: "$.x.y", Line: 20},
	{Append: "$.stop[1]", Value: 0, Line: 21},
	{Drop: "$..*..*[0]", Line: 22},
	{Set: "$..[*,*]..a", Value: 2, Line: 23},
	{Drop: "$.b[::-2]", Line: 24},
	{Drop: "$..[?@[?@ == 1]]", Line: 25},
	{Set: "$..[?count(@.*) > 1].n", Value: 3, Line: 26},
	{Drop: "$.messages[?match(@.role, 'sys.*')]", Line: 27},
}

// FuzzPaths checks the byte-level JSONPath edits against a plain implementation
// on the decoded tree: both must yield the same JSON value.
func FuzzPaths(f *testing.F) {
	addSeeds(f)
	for _, s := range []string{
		`{"a":[1,2,3,4],"b":[0,1,2,3,4],"c":[0],"d":[0,1,2,3],"x":{}}`,
		`{"a":{"a":[1,{"a":1,"id":{"id":2}}]},"stop":[[1],{"stop":[]}]}`,
		`{"messages":[{"role":"system","cache_control":1},{"role":"user","id":1}],"x":{"y":3}}`,
	} {
		f.Add([]byte(s), uint8(0))
	}
	type compiled struct {
		t config.Transform
		p *Policy
	}
	var rules []compiled
	for _, r := range pathRules {
		rules = append(rules, compiled{r, mustCompile(f, r)})
	}
	f.Fuzz(func(t *testing.T, body []byte, _ uint8) {
		if checkBody(body) != nil {
			return
		}
		for _, r := range rules {
			out, err := r.p.Body(body, openai.Chat)
			if err != nil {
				t.Fatal(err)
			}
			want := refApply(t, r.p.rules[0].op, decode(t, body))
			if diff := cmp.Diff(want, decode(t, out)); diff != "" {
				t.Fatalf("rule at line %d on\n%s\n(-tree +bytes):\n%s", r.t.Line, body, diff)
			}
			body = out
		}
	})
}

func decode(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decoding %s: %v", b, err)
	}
	return v
}

// refApply applies one JSONPath rule to a decoded tree, in the same order the
// byte-level code uses (normalized paths descending), but by mutating values.
func refApply(t *testing.T, o any, root any) any {
	t.Helper()
	selectDesc := func(p *jsonpath.Path) []spec.NormalizedPath {
		var paths []spec.NormalizedPath
		seen := map[string]bool{}
		for _, n := range p.SelectLocated(root) {
			if s := n.Path.String(); !seen[s] {
				seen[s] = true
				paths = append(paths, n.Path)
			}
		}
		slices.SortFunc(paths, func(a, b spec.NormalizedPath) int { return b.Compare(a) })
		return paths
	}
	switch r := o.(type) {
	case *dropRule:
		for _, np := range selectDesc(refPath(r.sel)) {
			root = refEdit(root, np, func(any) (any, bool) { return nil, false })
		}
	case *appendRule:
		for _, np := range selectDesc(refPath(r.sel)) {
			root = refEdit(root, np, func(v any) (any, bool) {
				if a, ok := v.([]any); ok {
					return append(a, decode(t, r.value)), true
				}
				return v, true
			})
		}
	case *setRule:
		root = refSet(t, r, root, selectDesc)
	default:
		t.Fatalf("unexpected op %T", o)
	}
	return root
}

// refPath is the library's own evaluation of a selector's path, the reference
// for ours.
func refPath(s selector) *jsonpath.Path { return jsonpath.New(spec.Query(true, s.segs...)) }

func refSet(t *testing.T, r *setRule, root any, selectDesc func(*jsonpath.Path) []spec.NormalizedPath) any {
	for _, np := range selectDesc(refPath(r.sel)) {
		root = refEdit(root, np, func(v any) (any, bool) {
			if r.names == nil {
				return decode(t, r.value), true
			}
			refSetNames(t, v, r.names, r.value)
			return v, true
		})
	}
	return root
}

// refSetNames sets the member path names below node, creating missing objects.
func refSetNames(t *testing.T, node any, names []string, value []byte) {
	for k, name := range names {
		m, ok := node.(map[string]any)
		if !ok {
			return
		}
		if _, ok := m[name]; !ok || k == len(names)-1 {
			v := decode(t, value)
			for i := len(names) - 1; i > k; i-- {
				v = map[string]any{names[i]: v}
			}
			m[name] = v
			return
		}
		node = m[name]
	}
}

// refEdit replaces the node at np by fn's result, or removes it when fn
// returns false, and returns the new root.
func refEdit(node any, np spec.NormalizedPath, fn func(any) (any, bool)) any {
	if len(np) == 0 {
		v, _ := fn(node)
		return v
	}
	switch n := node.(type) {
	case map[string]any:
		k := string(np[0].(spec.Name))
		if len(np) == 1 {
			if v, keep := fn(n[k]); keep {
				n[k] = v
			} else {
				delete(n, k)
			}
			return n
		}
		n[k] = refEdit(n[k], np[1:], fn)
		return n
	case []any:
		i := int(np[0].(spec.Index))
		if len(np) == 1 {
			if v, keep := fn(n[i]); keep {
				n[i] = v
				return n
			}
			return slices.Delete(n, i, i+1)
		}
		n[i] = refEdit(n[i], np[1:], fn)
		return n
	}
	return node
}
