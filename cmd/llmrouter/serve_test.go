package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// What the binary's server does before and around the handlers, attacked from
// outside: net/http's own errors and unclean paths answered in JSON, a stalled
// body cut at body_timeout (before the router key is checked, too).
func TestServeIntakeBounds(t *testing.T) {
	addr := freeAddr(t)
	cfg := fmt.Sprintf("server:\n  listen: %s\n  api_keys: [router-key-0123456789]\n  body_timeout: 1s\n  max_connections: 16\n"+
		"models:\n  - {name: gpt-4o, provider: openai, endpoint: http://127.0.0.1:1/v1}\n", addr)
	_, stderr := serveConfig(t, nil, addr, cfg)
	if !stderr.await(`"max_connections":16`) {
		t.Errorf("start log does not show max_connections 16: %s", stderr.String())
	}
	stalled := func(key string) string {
		return "POST /v1/chat/completions HTTP/1.1\r\nHost: r\r\n" + key + "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"model\""
	}
	tests := []struct {
		name, req string
		status    int
		message   string
	}{
		{"bad request line", "GARBAGE\r\n\r\n", 400, "Bad Request"},
		{"header block over 64 KiB", "GET /healthz HTTP/1.1\r\nHost: r\r\nX-Big: " + strings.Repeat("a", 100<<10) + "\r\n\r\n", 431, "Request Header Fields Too Large"},
		{"unclean path", "POST //v1/chat/completions HTTP/1.1\r\nHost: r\r\nContent-Length: 2\r\n\r\n{}", 404, "canonical"},
		{"stalled body without a key", stalled(""), 401, "missing router API key"},
		{"stalled body with a key", stalled("Authorization: Bearer router-key-0123456789\r\n"), 408, "body_timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(20 * time.Second)) // fails a hung router; not a timing assertion
			if _, err := io.WriteString(c, tt.req); err != nil {
				t.Fatal(err)
			}
			br := bufio.NewReader(c)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			var e struct{ Error struct{ Message string } }
			if resp.StatusCode != tt.status || resp.Header.Get("Content-Type") != "application/json" ||
				json.Unmarshal(b, &e) != nil || !strings.Contains(e.Error.Message, tt.message) {
				t.Errorf("got %d %q %s, want %d in JSON with %q", resp.StatusCode, resp.Header.Get("Content-Type"), b, tt.status, tt.message)
			}
			if loc := resp.Header.Get("Location"); loc != "" {
				t.Errorf("redirected to %q", loc)
			}
			// The connection is closed, also when the body never came.
			if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
				t.Errorf("after the answer: %v, want the connection closed", err)
			}
		})
	}
}

// With max_connections 0 the cap is half the open-file limit.
func TestServeConnectionCapFollowsFileLimit(t *testing.T) {
	addr := freeAddr(t)
	cmd := exec.Command("sh", "-c", `ulimit -n 64 && exec "$0" serve`, binary)
	cmd.Env = append(os.Environ(), "LLMROUTER_SERVER_LISTEN="+addr, "LLMROUTER_CONFIG=", "OPENAI_API_KEY=", "ANTHROPIC_API_KEY=")
	cmd.Dir = t.TempDir()
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	waitHealthy(t, addr)
	if !stderr.await(`"max_connections":32`) {
		t.Errorf("under a 64-file limit, start log does not show max_connections 32: %s", stderr.String())
	}
}

// serve starts the GC heap floor of server.gc_heap_floor (64MiB when unset), shown
// in the start log and in force (go_gc_gogc_percent above 100 with the small heap
// of an idle router); 0 turns it off; the operator's GOGC wins, said once.
func TestServeGCHeapFloor(t *testing.T) {
	tests := []struct {
		name, server string
		env          []string
		shown        string
		percent      func(float64) bool
		gogcLogged   bool
	}{
		{"default", "", []string{"GOGC="}, "64MiB", func(p float64) bool { return p > 100 }, false},
		{"set", "  gc_heap_floor: 16MiB\n", []string{"GOGC="}, "16MiB", func(p float64) bool { return p > 100 }, false},
		{"off", "  gc_heap_floor: 0\n", []string{"GOGC="}, "off", func(p float64) bool { return p == 100 }, false},
		{"GOGC wins", "", []string{"GOGC=150"}, "off (GOGC)", func(p float64) bool { return p == 150 }, true},
		{"GOGC with the floor off", "  gc_heap_floor: 0\n", []string{"GOGC=150"}, "off (GOGC)", func(p float64) bool { return p == 150 }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := freeAddr(t)
			cfg := fmt.Sprintf("server:\n  listen: %s\n%smodels:\n  - {name: gpt-4o, provider: openai, endpoint: http://127.0.0.1:1/v1}\n", addr, tt.server)
			_, stderr := serveConfig(t, tt.env, addr, cfg)
			if want := `"gc_heap_floor":"` + tt.shown + `"`; !stderr.await(want) {
				t.Fatalf("start log does not show %s:\n%s", want, stderr)
			}
			if p := gogcPercent(t, addr); !tt.percent(p) {
				t.Errorf("go_gc_gogc_percent = %v", p)
			}
			const msg = "GOGC is set: server.gc_heap_floor is not applied"
			if n := strings.Count(stderr.String(), msg); n != map[bool]int{true: 1}[tt.gogcLogged] {
				t.Errorf("%q logged %d times:\n%s", msg, n, stderr)
			}
		})
	}
}

// gogcPercent reads the GC percent the router runs with from its /metrics.
func gogcPercent(t *testing.T, addr string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_gc_gogc_percent "); ok {
			p, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("go_gc_gogc_percent %q: %v", v, err)
			}
			return p
		}
	}
	t.Fatalf("no go_gc_gogc_percent in /metrics (%v)", sc.Err())
	return 0
}
