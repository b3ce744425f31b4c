package gateway_test

import (
	"encoding/json"
	"runtime"
	"strings"
	"testing"
)

// deepRequest is a chat request of at least 1 KB whose "a" member nests depth
// levels of {"x":…} objects, or of arrays.
func deepRequest(model string, depth int, arrays bool) string {
	deep := strings.Repeat(`{"x":`, depth) + "1" + strings.Repeat("}", depth)
	if arrays {
		deep = strings.Repeat("[", depth) + "1" + strings.Repeat("]", depth)
	}
	head := `{"model":"` + model + `","messages":[{"role":"user","content":"`
	const mid = `"}],"a":`
	pad := max(0, 1<<10-len(head)-len(mid)-len(deep)-1)
	return head + strings.Repeat("p", pad) + mid + deep + "}"
}

// The attack that took the router past 4 GiB in 5 s: transforms of chained
// descendant wildcards and a 1 KB request nested 200 deep. Through the real
// router it is answered, the upstream gets the transformed body, and the whole
// exchange allocates a bounded amount (the bound is on bytes allocated, which a
// busy machine does not change, not on time).
func TestChainedDescendantTransformOnDeepRequest(t *testing.T) {
	up := newUpstream(t, replay(200, "application/json", fixture(t, "fixtures/openai-chat-response.json")))
	rt := newRouter(t, `
models:
  - name: gpt-deep
    provider: openai
    endpoint: {{UP}}/v1
    transforms:
      - set: '$..*..*..*..*.y'
        value: 2
      - drop: '$..*..*..*.x'
      - drop: '$..*..*..*[0]'
`, up.URL)
	tests := []struct {
		name   string
		arrays bool
		want   string // what the upstream gets as "a"
	}{
		// $..*..*..* selects the nodes at depth 3 and below: the shallowest x
		// dropped is the member of a.x.x, with every y set below it.
		{"objects", false, `{"x":{"x":{}}}`},
		{"arrays", true, `[[[]]]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := deepRequest("gpt-deep", 200, tt.arrays)
			if len(body) < 1<<10 || len(body) > 1300 {
				t.Fatalf("request is %d bytes, want about 1 KB", len(body))
			}
			post(t, rt.URL+"/v1/chat/completions", body, nil) // warm up connections and pools
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			resp, out := post(t, rt.URL+"/v1/chat/completions", body, nil)
			runtime.ReadMemStats(&after)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, out)
			}
			n := after.TotalAlloc - before.TotalAlloc
			if n > 16<<20 {
				t.Errorf("one request allocated %d MiB, want under 16 MiB", n>>20)
			}
			t.Logf("one %d-byte request allocated %d KiB in the whole process", len(body), n>>10)
			var sent struct{ A json.RawMessage }
			if err := json.Unmarshal(up.last(t).Body, &sent); err != nil {
				t.Fatal(err)
			}
			if string(sent.A) != tt.want {
				t.Errorf("upstream got a = %s, want %s", sent.A, tt.want)
			}
		})
	}
}

// A rule that would select more nodes than any real request holds answers 400
// in the client's envelope instead of spending memory on them.
func TestTransformSelectingTooManyNodes(t *testing.T) {
	up := newUpstream(t, replay(200, "application/json", fixture(t, "fixtures/openai-chat-response.json")))
	rt := newRouter(t, `
models:
  - name: gpt-wide
    provider: openai
    endpoint: {{UP}}/v1
    transforms:
      - drop: '$.a[*]'
`, up.URL)
	body := `{"model":"gpt-wide","messages":[{"role":"user","content":"hi"}],"a":[` + strings.Repeat("0,", 100_000) + `0]}`
	resp, out := post(t, rt.URL+"/v1/chat/completions", body, nil)
	if resp.StatusCode != 400 || !strings.Contains(string(out), `"error"`) {
		t.Errorf("status %d: %s", resp.StatusCode, out)
	}
	if n := len(up.requests()); n != 0 {
		t.Errorf("upstream got %d requests", n)
	}
}

// A 30 MiB request of `0,0,0,…` on a route whose transform must decode the body
// (which cost gigabytes) is refused with a 400 before it is decoded.
func TestTransformOnWideRequestRefusedBeforeDecoding(t *testing.T) {
	up := newUpstream(t, replay(200, "application/json", fixture(t, "fixtures/openai-chat-response.json")))
	rt := newRouter(t, `
models:
  - name: gpt-wide
    provider: openai
    endpoint: {{UP}}/v1
    transforms:
      - drop: '$.a[-1]'
`, up.URL)
	body := `{"model":"gpt-wide","messages":[{"role":"user","content":"hi"}],"a":[` + strings.Repeat("0,", 15<<20) + `0]}`
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	resp, out := post(t, rt.URL+"/v1/chat/completions", body, nil)
	runtime.ReadMemStats(&after)
	if resp.StatusCode != 400 || !strings.Contains(string(out), "error") {
		t.Errorf("status %d: %.200s", resp.StatusCode, out)
	}
	// The client's copy and the router's read of a 30 MiB body are most of this.
	n := after.TotalAlloc - before.TotalAlloc
	if n > 256<<20 {
		t.Errorf("one request allocated %d MiB, want under 256 MiB", n>>20)
	}
	t.Logf("one %d MiB request allocated %d MiB in the whole process", len(body)>>20, n>>20)
	if len(up.requests()) != 0 {
		t.Error("the request reached the upstream")
	}
}
