package policy

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/theory/jsonpath"

	"github.com/llmrouter/llmrouter/internal/config"
	"github.com/llmrouter/llmrouter/internal/openai"
)

// nested returns a request of 1 KB whose "a" member nests depth levels of
// objects {"x":…} (or arrays [[…]]) ending in 1.
func nested(depth int, arrays bool) []byte {
	open, end := `{"x":`, "}"
	if arrays {
		open, end = "[", "]"
	}
	deep := strings.Repeat(open, depth) + "1" + strings.Repeat(end, depth)
	const head, mid = `{"model":"m","messages":[{"role":"user","content":"`, `"}],"a":`
	pad := max(0, 1<<10-len(head)-len(mid)-len(deep)-1)
	return []byte(head + strings.Repeat("p", pad) + mid + deep + "}")
}

// allocated returns the bytes allocated while fn runs.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// A rule of chained descendant wildcards on a 1 KB body nested 200 deep (the
// attack that took the router past 4 GiB) costs at most one step per node and
// segment, and a bounded amount of memory, and selects what the RFC says.
func TestDescendantChainsStayLinear(t *testing.T) {
	for _, arrays := range []bool{false, true} {
		body := nested(200, arrays)
		if len(body) < 1<<10 {
			t.Fatalf("body is %d bytes, want 1 KB", len(body))
		}
		for _, path := range []string{"$..*..*..*.x", "$..*..*..*..*..*..*[0]", "$..[*,*,*]..[*,*]..*"} {
			t.Run(fmt.Sprintf("%s/arrays=%v", path, arrays), func(t *testing.T) {
				segs, err := parsePath(path)
				if err != nil {
					t.Fatal(err)
				}
				d := document{b: body}
				root, err := d.root()
				if err != nil {
					t.Fatal(err)
				}
				w := &walker{root: root}
				nodes := countNodes(root)
				if _, err := w.evaluate(segs); err != nil {
					t.Fatal(err)
				}
				// Each segment visits every node at most once and runs each of
				// its selectors there once.
				perNode := 0
				for _, s := range segs {
					perNode += 1 + len(s.Selectors())
				}
				if limit := perNode * nodes; w.visits > limit {
					t.Errorf("%d steps for %d nodes, want at most %d", w.visits, nodes, limit)
				}
				p := mustCompile(t, config.Transform{Drop: path})
				var out []byte
				if n := allocated(func() { out, err = p.Body(body, openai.Chat) }); n > 4<<20 {
					t.Errorf("Body allocated %d bytes on a %d-byte body, want under 4 MiB", n, len(body))
				}
				if err != nil {
					t.Fatal(err)
				}
				if checkBody(out) != nil {
					t.Fatalf("not a JSON object: %s", out)
				}
			})
		}
	}
}

func countNodes(v any) int {
	n := 1
	switch v := v.(type) {
	case map[string]any:
		for _, c := range v {
			n += countNodes(c)
		}
	case []any:
		for _, c := range v {
			n += countNodes(c)
		}
	}
	return n
}

// On bodies small enough for the library's own evaluation, every path selects
// exactly the nodes the library does (without its duplicates).
func TestEvaluationMatchesLibrary(t *testing.T) {
	bodies := [][]byte{
		nested(12, false), nested(12, true),
		[]byte(`{"a":[1,2,{"a":[3,{"x":4}]}],"x":{"x":{"y":[5,6,7]}},"b":[0,1,2,3,4,5]}`),
	}
	paths := []string{
		"$..*..*..*.x", "$..*", "$..x", "$..[0,0,1]", "$.b[::-2]", "$.b[-2:]", "$.b[1:5:2]",
		"$..[?@ == 1]", "$..[?@.x]", "$..*[?@[?@ > 3]]", "$.a[-1].a[1].x", "$..[*,*]..[*]",
		"$[?count(@.*) > 1]", "$..[?length(@) == 3]", "$..*[?match(@, '[0-9]')]",
	}
	for _, body := range bodies {
		d := document{b: body}
		root, err := d.root()
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range paths {
			segs, err := parsePath(path)
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			tr, err := evaluate(segs, root)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, n := range jsonpath.MustParse(path).SelectLocated(root) {
				want = append(want, n.Path.String())
			}
			slices.Sort(want)
			want = slices.Compact(want)
			if got := hits(tr, ""); !slices.Equal(got, want) {
				t.Errorf("%s on %.40s…: selected\n%v\nwant\n%v", path, body, got, want)
			}
		}
	}
}

// hits lists the normalized paths of the nodes a trie marks, sorted.
func hits(t *trie, prefix string) []string {
	if t == nil {
		return nil
	}
	var out []string
	if t.hit {
		out = append(out, "$"+prefix)
	}
	for k, c := range t.names {
		out = append(out, hits(c, fmt.Sprintf("%s['%s']", prefix, k))...)
	}
	for i, c := range t.indexes {
		out = append(out, hits(c, fmt.Sprintf("%s[%d]", prefix, i))...)
	}
	if prefix == "" {
		slices.Sort(out)
	}
	return out
}

// A rule that would select (or test with a filter) more nodes than any real
// request holds refuses the request with ErrTooComplex, rather than building a
// trie of them or compiling a match() pattern for each.
func TestTooManyNodesRefused(t *testing.T) {
	body := []byte(`{"a":[` + strings.Repeat("0,", maxSelected) + `0]}`)
	for _, path := range []string{"$.a[*]", "$..*", "$.a[?@ == 0]", "$.a[?@ == 1]"} {
		p := mustCompile(t, config.Transform{Drop: path, Line: 7})
		_, err := p.Body(body, openai.Chat)
		if !errors.Is(err, ErrTooComplex) || !strings.Contains(err.Error(), "line 7") {
			t.Errorf("%s: error %v, want ErrTooComplex at line 7", path, err)
		}
	}
	p := mustCompile(t, config.Transform{Drop: "$.a[*]"})
	if _, err := p.Body([]byte(`{"a":[`+strings.Repeat("0,", maxSelected-1)+`0]}`), openai.Chat); err != nil {
		t.Errorf("exactly %d nodes: %v", maxSelected, err)
	}
}

// Filters whose own cost grows with the body are refused when the configuration
// is compiled, with the rule's line; the filters real configurations use pass.
func TestCostlyFiltersRefused(t *testing.T) {
	refused := []string{
		"$..[?@..x]", "$.messages[?count(@..*) > 2]", "$..*[?value(@..a) == 1]",
		"$..[?$.model == 'x']", "$.messages[?@.role == $.role]", "$..[?count($.*) > 0]",
		"$..[?@[*,*][*,*]]", "$.a[?@['x','y']]",
		"$..[?match(@.a, @.b)]", "$..[?search(@, $.p)]", "$..[?match(@, value(@.p))]",
		"$.a[?@[?@..b]]",
	}
	for _, path := range refused {
		_, err := Compile(config.Headers{}, []config.Transform{{Drop: path, Line: 12}})
		if !errors.Is(err, errFilterCost) || !strings.Contains(err.Error(), "line 12") {
			t.Errorf("Compile(%s): %v, want a cost error at line 12", path, err)
		}
	}
	accepted := []string{
		"$.messages[?@.role == 'system']", "$..[?@.type == 'image_url'].image_url.detail",
		"$.tools[?match(@.function.name, 'get_.*')]", "$..[?search(@.text, '(?i)acme')]",
		"$.messages[?count(@.content[*]) > 2]", "$..*[?length(@) > 100]", "$.a[?@[?@.b == 1]]",
		"$.messages[?@.name == '..$,[x]']", "$..*..*..*.x", "$..[*,*]..a",
	}
	for _, path := range accepted {
		if _, err := Compile(config.Headers{}, []config.Transform{{Drop: path}}); err != nil {
			t.Errorf("Compile(%s): %v", path, err)
		}
	}
}

// A body of more values than any real request holds is refused before a JSONPath
// rule decodes it: decoding costs some hundred bytes a value, gigabytes for a
// 32 MiB body of `0,0,0,…`.
func TestWideBodyNotDecoded(t *testing.T) {
	p := mustCompile(t, config.Transform{Drop: "$.a[-1]", Line: 3}) // a negative index needs the decoded array
	for _, item := range []string{"0,", "[],", `{"a":0},`} {
		body := []byte(`{"model":"m","a":[` + strings.Repeat(item, (32<<20)/len(item)) + `0]}`)
		var err error
		if n := allocated(func() { _, err = p.Body(body, openai.Chat) }); n > 1<<20 {
			t.Errorf("%q: refusing a %d MiB body allocated %d KiB", item, len(body)>>20, n>>10)
		}
		if !errors.Is(err, ErrTooComplex) || !strings.Contains(err.Error(), "line 3") {
			t.Errorf("%q: error %v, want ErrTooComplex", item, err)
		}
	}
	// Just under the bound, and strings (one value each, whatever they hold), pass.
	for _, body := range []string{
		`{"a":[` + strings.Repeat("0,", maxDecoded-3) + `0]}`,
		`{"a":["` + strings.Repeat(",[{", 1<<20) + `",1]}`,
	} {
		if _, err := p.Body([]byte(body), openai.Chat); err != nil {
			t.Errorf("%.30s…: %v", body, err)
		}
	}
}

// FuzzPathEvaluation runs random JSONPaths through the cost check and, when they
// pass, through the evaluation on a small body: nothing panics, and the nodes
// selected are the library's own, without its duplicates.
func FuzzPathEvaluation(f *testing.F) {
	for _, p := range []string{"$..*..*.x", "$[?@.a == 1]", "$..[?match(@, 'a.*')]", "$.a[::-1]", "$..[0,1,0]", `$[?@["x,y"]]`, "$..[?count(@.*) > 1]"} {
		f.Add(p)
	}
	body := []byte(`{"a":[1,{"a":[2,"ab"],"x":{"x":3}},[4,[5]]],"x":{"a":"abc","y":[1,2]},"b":{"x,y":true}}`)
	d := document{b: body}
	root, err := d.root()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		if len(expr) > 64 {
			return
		}
		q, err := jsonpath.Parse(expr)
		if err != nil || len(q.Query().Segments()) == 0 {
			return
		}
		segs, err := parsePath(expr)
		if err != nil {
			if !errors.Is(err, errFilterCost) {
				t.Fatalf("%s: %v", expr, err)
			}
			return
		}
		tr, err := evaluate(segs, root)
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		var want []string
		for _, n := range q.SelectLocated(root) {
			want = append(want, n.Path.String())
		}
		slices.Sort(want)
		if got := hits(tr, ""); !slices.Equal(got, slices.Compact(want)) {
			t.Fatalf("%s selected\n%v\nwant\n%v", expr, got, want)
		}
	})
}
