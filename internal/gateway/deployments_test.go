package gateway_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/llmrouter/llmrouter/internal/gateway"
)

// Deployments through the real server: several upstreams behind one model name,
// on real listeners. One fake upstream plays every deployment, told apart by
// the first segment of the path (each deployment's endpoint is {{UP}}/<id>).

// byDeployment routes a fake upstream's requests to one handler per deployment,
// by the first path segment.
func byDeployment(handlers map[string]http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		h, ok := handlers[id]
		if !ok {
			http.Error(w, "no deployment "+id, http.StatusNotFound)
			return
		}
		h(w, r)
	}
}

// count returns how many requests the fake upstream received per deployment.
func (u *upstream) count() map[string]int {
	out := map[string]int{}
	for _, r := range u.requests() {
		id, _, _ := strings.Cut(strings.TrimPrefix(r.Path, "/"), "/")
		out[id]++
	}
	return out
}

// pair is gpt-4o on "down" (tried first) and "up", and claude-x on one
// Anthropic deployment.
const pair = `
routing:
  health: {failures: 1, cooldown: 1h}
defaults:
  retry: {attempts: 1}
models:
  - {name: gpt-4o, id: down, provider: openai, endpoint: "{{UP}}/down/v1", priority: 0}
  - {name: gpt-4o, id: up, provider: openai, endpoint: "{{UP}}/up/v1", priority: 1}
`

// A deployment that is down is routed around within the same request, for
// every way of being down, streaming or not: the client gets one clean answer
// from the other deployment, the headers name it, the access log lists both
// attempts; and the failure ejects the deployment (failures: 1), so the next
// request goes straight to the healthy one.
func TestDeploymentDownShiftsTrafficWithinTheRequest(t *testing.T) {
	downs := map[string]http.HandlerFunc{
		"503":                      jsonReply(503, oaOverloaded503),
		"429":                      jsonReply(429, oaRateLimited, "Retry-After", "30"),
		"reset":                    func(w http.ResponseWriter, r *http.Request) { panic(http.ErrAbortHandler) },
		"in-band before content":   sseChunks(oaRole, oaError),
		"truncated before content": sseChunks(oaRole),
	}
	for name, down := range downs {
		for _, stream := range []bool{false, true} {
			if !stream && strings.Contains(name, "content") {
				continue
			}
			t.Run(name+map[bool]string{false: "", true: " stream"}[stream], func(t *testing.T) {
				up := newUpstream(t, byDeployment(map[string]http.HandlerFunc{
					"down": down,
					"up":   sseOrJSON(okBody, oaRole, oaHello, oaStop, oaDone),
				}))
				rt := newRouter(t, pair, up.URL)
				o := observe(t, rt)
				body := map[bool]string{false: chatReq, true: chatStreamReq}[stream]
				resp, got := post(t, o.URL+"/v1/chat/completions", body, nil)
				o.waitServed(t)
				if resp.StatusCode != 200 || strings.Contains(string(got), "error") {
					t.Fatalf("%d: %s", resp.StatusCode, got)
				}
				if h := resp.Header; h.Get("X-Llmrouter-Deployment") != "up" || h.Get("X-Llmrouter-Attempts") != "2" || h.Get("X-Llmrouter-Model") != "gpt-4o" {
					t.Errorf("headers: deployment %q, attempts %q, model %q", h.Get("X-Llmrouter-Deployment"), h.Get("X-Llmrouter-Attempts"), h.Get("X-Llmrouter-Model"))
				}
				line := accessLines(t, rt.log.String())[0]
				if tr := tries(line); len(tr) != 2 || !strings.HasPrefix(tr[0], "down:") || tr[1] != "up:success" || line.Get("deployment").String() != "up" {
					t.Errorf("access log: %s", line.Raw)
				}
				// Ejected: the next request does not try it.
				resp, got = post(t, o.URL+"/v1/chat/completions", body, nil)
				o.waitServed(t)
				if resp.StatusCode != 200 || resp.Header.Get("X-Llmrouter-Attempts") != "1" {
					t.Errorf("next request: %d after %s attempts: %s", resp.StatusCode, resp.Header.Get("X-Llmrouter-Attempts"), got)
				}
				if n := up.count(); n["down"] != 1 || n["up"] != 2 {
					t.Errorf("upstream requests %v, want down 1, up 2", n)
				}
			})
		}
	}
}

// sseOrJSON answers a streaming request with the chunks, any other with body.
func sseOrJSON(body string, chunks ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if strings.Contains(string(b), `"stream":true`) {
			sseChunks(chunks...)(w, r)
			return
		}
		jsonReply(200, body)(w, r)
	}
}

// Failures that are not the upstream's never eject a deployment, even at
// failures: 1: 400s and other client errors, a client that goes away, the
// request's total deadline. A 500 does, for contrast.
func TestClientCausesNeverEject(t *testing.T) {
	hold := newSignals()
	var mu sync.Mutex
	next := "ok"
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n := next
		mu.Unlock()
		if n == "hang" {
			hold.send()
			<-r.Context().Done()
			return
		}
		behaviours[n](t)(w, r)
	})
	rt := newRouter(t, `
routing:
  health: {failures: 1, cooldown: 1h}
defaults:
  retry: {attempts: 1}
  timeouts: {total: 300ms}
models:
  - {name: gpt-4o, provider: openai, endpoint: "{{UP}}/v1"}
`, up.URL)
	o := observe(t, rt)
	set := func(s string) { mu.Lock(); next = s; mu.Unlock() }
	reachable := func(after string) {
		t.Helper()
		set("ok")
		before := len(up.requests())
		resp, body := post(t, o.URL+"/v1/chat/completions", chatReq, nil)
		o.waitServed(t)
		if resp.StatusCode != 200 || len(up.requests()) != before+1 {
			t.Fatalf("after %s: %d without reaching the upstream: the deployment was ejected: %s", after, resp.StatusCode, body)
		}
	}
	for _, s := range []string{"400", "context", "401"} {
		set(s)
		for range 3 {
			post(t, o.URL+"/v1/chat/completions", chatReq, nil)
			o.waitServed(t)
		}
		reachable("three " + s + "s")
	}
	set("hang")
	for range 2 {
		leaveDuringRequest(t, o, hold)
	}
	reachable("two clients that went away")
	set("hang")
	for range 2 {
		resp, _ := post(t, o.URL+"/v1/chat/completions", chatReq, nil) // the total deadline (300ms) ends it
		o.waitServed(t)
		hold.expect(t, 1, "upstream reached")
		if resp.StatusCode != 504 {
			t.Fatalf("total deadline: %d, want 504", resp.StatusCode)
		}
	}
	reachable("two total deadlines")
	set("500")
	post(t, o.URL+"/v1/chat/completions", chatReq, nil)
	o.waitServed(t)
	set("ok")
	if resp, body := post(t, o.URL+"/v1/chat/completions", chatReq, nil); resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Errorf("after a 500 at failures: 1: %d, want 503 with Retry-After: %s", resp.StatusCode, body)
	}
	o.waitServed(t)
}

// behaviours are the fake upstream's answers of TestClientCausesNeverEject.
var behaviours = map[string]func(t *testing.T) http.HandlerFunc{
	"400": func(t *testing.T) http.HandlerFunc {
		return jsonReply(400, string(fixture(t, "fixtures/openai-error-400.json")))
	},
	"context": func(t *testing.T) http.HandlerFunc {
		return jsonReply(400, string(fixture(t, "errors/openai-context-length-400.json")))
	},
	"401": func(t *testing.T) http.HandlerFunc {
		return jsonReply(401, string(fixture(t, "fixtures/openai-error-401.json")))
	},
	"500": func(*testing.T) http.HandlerFunc { return jsonReply(500, oaOverloaded503) },
	"ok":  func(*testing.T) http.HandlerFunc { return jsonReply(200, okBody) },
}

// leaveDuringRequest sends a request and goes away once the upstream has it.
func leaveDuringRequest(t *testing.T, o *observed, reached signals) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, o.URL+"/v1/chat/completions", strings.NewReader(chatReq))
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	reached.expect(t, 1, "upstream reached")
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("client: %v", err)
	}
	o.waitServed(t)
}

// An in-band error before the first content event is the upstream's failure
// when the upstream is at fault: it counts, the request moves on, and at
// failures: 1 the deployment is ejected. A stream that breaks after its first
// content event ends with one in-band error and moves nowhere, and its failure
// is reported too.
func TestStreamFailuresCountOnTheirDeployment(t *testing.T) {
	for _, c := range []struct {
		name     string
		down     http.HandlerFunc
		status   int
		answered string // deployment header of the first request
	}{
		{"in-band error before content", sseChunks(oaRole, oaError), 200, "up"},
		{"in-band error after content", sseChunks(oaRole, oaHello, oaError), 200, "down"},
		{"reset after content", func(w http.ResponseWriter, r *http.Request) {
			sseChunks(oaRole, oaHello)(w, r)
			panic(http.ErrAbortHandler)
		}, 200, "down"},
	} {
		t.Run(c.name, func(t *testing.T) {
			up := newUpstream(t, byDeployment(map[string]http.HandlerFunc{
				"down": c.down,
				"up":   sseChunks(oaRole, oaHello, oaStop, oaDone),
			}))
			rt := newRouter(t, pair, up.URL)
			o := observe(t, rt)
			resp, body := post(t, o.URL+"/v1/chat/completions", chatStreamReq, nil)
			o.waitServed(t)
			if resp.StatusCode != c.status || resp.Header.Get("X-Llmrouter-Deployment") != c.answered {
				t.Fatalf("%d from %q: %s", resp.StatusCode, resp.Header.Get("X-Llmrouter-Deployment"), body)
			}
			if c.answered == "down" && (strings.Count(string(body), `"error"`) != 1 || strings.Contains(string(body), "[DONE]")) {
				t.Errorf("want one in-band error and no normal end:\n%s", body)
			}
			resp, _ = post(t, o.URL+"/v1/chat/completions", chatStreamReq, nil)
			o.waitServed(t)
			if resp.Header.Get("X-Llmrouter-Deployment") != "up" || resp.Header.Get("X-Llmrouter-Attempts") != "1" {
				t.Errorf("next request went to %q in %s attempts: the failure was not counted", resp.Header.Get("X-Llmrouter-Deployment"), resp.Header.Get("X-Llmrouter-Attempts"))
			}
			if n := up.count()["down"]; n != 1 {
				t.Errorf("down received %d requests, want 1", n)
			}
		})
	}
}

// Weighted random (the default strategy) splits traffic in proportion to the
// weights: 3:1 over 400 sequential requests with a fixed seed, within 5 points
// of 75%.
func TestWeightedShares(t *testing.T) {
	up := newUpstream(t, byDeployment(map[string]http.HandlerFunc{
		"heavy": jsonReply(200, okBody),
		"light": jsonReply(200, okBody),
	}))
	rt := newRouterWith(t, `
models:
  - {name: gpt-4o, id: heavy, provider: openai, endpoint: "{{UP}}/heavy/v1", weight: 3}
  - {name: gpt-4o, id: light, provider: openai, endpoint: "{{UP}}/light/v1", weight: 1}
`, up.URL, gateway.WithRand(newSeeded()))
	const n = 400
	got := map[string]int{}
	for range n {
		resp, _ := post(t, rt.URL+"/v1/chat/completions", chatReq, nil)
		got[resp.Header.Get("X-Llmrouter-Deployment")]++
	}
	share := float64(got["heavy"]) / n
	if share < 0.70 || share > 0.80 || got["heavy"]+got["light"] != n {
		t.Errorf("heavy served %d, light %d of %d: share %.3f, want 0.75±0.05", got["heavy"], got["light"], n, share)
	}
	if d := cmp.Diff(got, up.count()); d != "" {
		t.Errorf("headers and upstream disagree (-headers +upstream):\n%s", d)
	}
	t.Logf("heavy %d, light %d (share %.3f)", got["heavy"], got["light"], share)
}

// leastPair is gpt-4o on "a" and "b" balanced by fewest requests in flight.
const leastPair = `
routing:
  strategy: least_in_flight
models:
  - {name: gpt-4o, id: a, provider: openai, endpoint: "{{UP}}/a/v1"}
  - {name: gpt-4o, id: b, provider: openai, endpoint: "{{UP}}/b/v1"}
`

// Least in flight under concurrent slow requests: requests held open by both
// deployments are spread evenly (each pick goes to the one with fewer in
// flight, a tie to either); with one deployment slow and the other quick,
// nearly everything goes to the quick one, since the slow one's requests stay
// in flight.
func TestLeastInFlightUnderConcurrentSlowRequests(t *testing.T) {
	t.Run("both slow: even", func(t *testing.T) {
		arrived, release := newSignals(), make(chan struct{})
		slow := func(w http.ResponseWriter, r *http.Request) {
			arrived.send()
			<-release
			jsonReply(200, okBody)(w, r)
		}
		up := newUpstream(t, byDeployment(map[string]http.HandlerFunc{"a": slow, "b": slow}))
		rt := newRouterWith(t, leastPair, up.URL, gateway.WithRand(newSeeded()))
		var wg sync.WaitGroup
		for range 6 {
			wg.Go(func() { _, _, _ = tryPost(rt.URL+"/v1/chat/completions", chatReq, nil) })
			arrived.expect(t, 1, "request in flight") // one at a time, so each pick sees the last
		}
		if n := up.count(); n["a"] != 3 || n["b"] != 3 {
			t.Errorf("six requests in flight: %v, want 3 and 3", n)
		}
		close(release)
		wg.Wait()
	})
	t.Run("one slow: the quick one takes the rest", func(t *testing.T) {
		arrived, release := newSignals(), make(chan struct{})
		up := newUpstream(t, byDeployment(map[string]http.HandlerFunc{
			"a": func(w http.ResponseWriter, r *http.Request) {
				arrived.send()
				<-release
				jsonReply(200, okBody)(w, r)
			},
			"b": jsonReply(200, okBody),
		}))
		rt := newRouterWith(t, leastPair, up.URL, gateway.WithRand(newSeeded()))
		var wg sync.WaitGroup
		defer func() { close(release); wg.Wait() }()
		// Until a holds one request, requests find both idle and go either way
		// (b's are over at once); from then on a has one in flight and b none.
		for held := false; !held; {
			done := make(chan struct{})
			wg.Go(func() {
				defer close(done)
				_, _, _ = tryPost(rt.URL+"/v1/chat/completions", chatReq, nil)
			})
			select {
			case <-arrived:
				held = true
			case <-done:
			}
		}
		before := up.count()
		for range 20 {
			resp, _ := post(t, rt.URL+"/v1/chat/completions", chatReq, nil)
			if d := resp.Header.Get("X-Llmrouter-Deployment"); d != "b" {
				t.Fatalf("a request went to %q while a was busy and b idle", d)
			}
		}
		if n := up.count(); n["a"] != before["a"] || n["b"] != before["b"]+20 {
			t.Errorf("upstream requests %v, want the 20 on b (before: %v)", n, before)
		}
	})
}

// A reloaded gateway built WithPrevious keeps the old one's health: the
// deployment the old gateway ejected stays out, and the first request to the
// new gateway goes straight to the healthy one. Without it, the new gateway
// starts clean and tries the ejected deployment again.
func TestPreviousGatewayHandsOverHealth(t *testing.T) {
	up := newUpstream(t, byDeployment(map[string]http.HandlerFunc{
		"down": jsonReply(503, oaOverloaded503),
		"up":   jsonReply(200, okBody),
	}))
	old := newRouter(t, pair, up.URL)
	if resp, body := post(t, old.URL+"/v1/chat/completions", chatReq, nil); resp.StatusCode != 200 {
		t.Fatalf("old: %d: %s", resp.StatusCode, body)
	}
	carried := newRouterWith(t, pair, up.URL, gateway.WithPrevious(old.gw))
	resp, _ := post(t, carried.URL+"/v1/chat/completions", chatReq, nil)
	if resp.Header.Get("X-Llmrouter-Attempts") != "1" || resp.Header.Get("X-Llmrouter-Deployment") != "up" {
		t.Errorf("with the old health: %s attempts, answered by %q; want 1, up", resp.Header.Get("X-Llmrouter-Attempts"), resp.Header.Get("X-Llmrouter-Deployment"))
	}
	fresh := newRouter(t, pair, up.URL)
	resp, _ = post(t, fresh.URL+"/v1/chat/completions", chatReq, nil)
	if resp.Header.Get("X-Llmrouter-Attempts") != "2" {
		t.Errorf("a fresh gateway made %s attempts, want 2 (it tries the down deployment again)", resp.Header.Get("X-Llmrouter-Attempts"))
	}
	if n := up.count()["down"]; n != 2 {
		t.Errorf("down received %d requests, want 2 (old, fresh)", n)
	}
}
