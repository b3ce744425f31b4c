package gateway_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/tidwall/gjson"
)

// Client headers that describe the client's connection to the router, not the
// request, are not forwarded: its cookies (credentials for the router's origin),
// its address and proxy chain, and its idempotency key.
func TestClientHeadersNotForwarded(t *testing.T) {
	up := newUpstream(t, okChat(t))
	rt := newRouter(t, intakeConfig, up.URL)
	withheld := map[string]string{
		"Cookie":            "session=s3cr3t-session-cookie",
		"Forwarded":         "for=10.1.2.3;proto=https",
		"X-Forwarded-For":   "10.1.2.3",
		"X-Forwarded-Host":  "internal.example",
		"X-Forwarded-Proto": "https",
		"X-Real-Ip":         "10.1.2.3",
		"Idempotency-Key":   "idem-1",
		"X-Idempotency-Key": "idem-2",
	}
	sent := map[string]string{"X-Custom": "kept"}
	for k, v := range withheld {
		sent[k] = v
	}
	resp, b := post(t, rt.URL+"/v1/chat/completions", chatBodyFor("cheap"), sent)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	got := up.last(t).Header
	for k := range withheld {
		if v := got.Values(k); len(v) > 0 {
			t.Errorf("upstream received %s: %q", k, v)
		}
	}
	if got.Get("X-Custom") != "kept" {
		t.Errorf("upstream did not receive X-Custom: %v", got)
	}
}

func chatBodyFor(model string) string {
	return `{"model":"` + model + `","messages":[{"role":"user","content":"hi"}]}`
}

// A POST is sent upstream once per attempt the retry policy counts. Go's
// transport re-sends a request it takes as idempotent (a client's
// Idempotency-Key made it so) when a reused connection closes before the
// response: with attempts: 1, the upstream would have seen the request twice.
func TestNoHiddenReplayOfPOST(t *testing.T) {
	var mu sync.Mutex
	var remotes []string
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		remotes = append(remotes, r.RemoteAddr)
		n := len(remotes)
		mu.Unlock()
		if n == 1 {
			okChat(t)(w, r)
			return
		}
		c, _, err := http.NewResponseController(w).Hijack() // the request was read: close without answering
		if err != nil {
			t.Error(err)
			return
		}
		c.Close()
	})
	rt := newRouter(t, "defaults: {retry: {attempts: 1}}\n"+intakeConfig, up.URL)
	resp, b := post(t, rt.URL+"/v1/chat/completions", chatBodyFor("cheap"), map[string]string{"Idempotency-Key": "k1"})
	if resp.StatusCode != 200 {
		t.Fatalf("first request: status %d: %s", resp.StatusCode, b)
	}
	resp, b = post(t, rt.URL+"/v1/chat/completions", chatBodyFor("cheap"), map[string]string{"Idempotency-Key": "k2"})
	mu.Lock()
	defer mu.Unlock()
	if len(remotes) < 2 || remotes[1] != remotes[0] {
		t.Fatalf("the second request did not reuse the upstream connection (%v): the case is not exercised", remotes)
	}
	if len(remotes) != 2 {
		t.Errorf("upstream received the second request %d times with attempts: 1", len(remotes)-1)
	}
	if resp.StatusCode != http.StatusBadGateway || resp.Header.Get("X-Llmrouter-Attempts") != "1" {
		t.Errorf("second request: status %d, attempts %q, want 502 after 1: %s", resp.StatusCode, resp.Header.Get("X-Llmrouter-Attempts"), b)
	}
}

// X-Llmrouter-Dropped stays under 4 KiB (Node's HTTP parser refuses response
// headers over 16 KiB in total); the access log keeps the whole list. The
// attack: a translated request whose dropped fields listed 40 KB.
func TestDroppedHeaderCapped(t *testing.T) {
	up := newUpstream(t, okChat(t))
	rt := newRouter(t, intakeConfig, up.URL)
	const n = 2000
	msgs := make([]string, n)
	for i := range msgs {
		role := [2]string{"user", "assistant"}[i%2]
		msgs[i] = fmt.Sprintf(`{"role":%q,"content":[{"type":"text","text":"m%d","cache_control":{"type":"ephemeral"}}]}`, role, i)
	}
	body := `{"model":"gpt-4-expensive","max_tokens":10,"messages":[` + strings.Join(msgs, ",") + `]}`
	resp, b := post(t, rt.URL+"/v1/messages", body, map[string]string{"Anthropic-Version": "2023-06-01"})
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	h := resp.Header.Get("X-Llmrouter-Dropped")
	if len(h) > 4096 || !strings.HasPrefix(h, "messages[0].content[0].cache_control,") {
		t.Errorf("X-Llmrouter-Dropped is %d bytes, want at most 4096, starting with the first path: %.80s", len(h), h)
	}
	shown := strings.Count(h, ",")
	if want := fmt.Sprintf(",+%d more", n-shown); !strings.HasSuffix(h, want) {
		t.Errorf("X-Llmrouter-Dropped ends %q, want %q", h[max(0, len(h)-40):], want)
	}
	line := gjson.Parse(strings.TrimSpace(rt.log.String()))
	if got := len(strings.Split(line.Get("dropped").String(), ",")); got != n {
		t.Errorf("access log lists %d dropped paths, want %d", got, n)
	}
}
