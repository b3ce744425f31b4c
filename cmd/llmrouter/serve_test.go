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
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// What the binary's server does before and around the handlers, attacked from
// outside: net/http's own errors and unclean paths answered in JSON, a stalled
// body cut at body_timeout (before the router key is checked, too).
func TestServeIntakeBounds(t *testing.T) {
	addr := freeAddr(t)
	cfgPath := filepath.Join(t.TempDir(), "llmrouter.yaml")
	cfg := fmt.Sprintf("server:\n  listen: %s\n  api_keys: [router-key-0123456789]\n  body_timeout: 1s\n  max_connections: 16\n"+
		"models:\n  - {name: gpt-4o, provider: openai, endpoint: http://127.0.0.1:1/v1}\n", addr)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr := startRouter(t, nil, "serve", "-config", cfgPath)
	waitHealthy(t, addr)
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
