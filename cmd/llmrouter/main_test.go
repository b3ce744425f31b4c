package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "llmrouter-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "llmrouter")
	if out, err := exec.Command("go", "build", "-race", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building llmrouter: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// serveConfig writes cfg (which listens on addr) to a config file, runs the
// real binary's serve on it with env added, and waits until it answers /healthz.
func serveConfig(t *testing.T, env []string, addr, cfg string) (*exec.Cmd, *lockedBuffer) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "llmrouter.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd, stderr := startRouter(t, env, "serve", "-config", path)
	waitHealthy(t, addr)
	return cmd, stderr
}

// startRouter runs the real binary, killed when the test ends.
func startRouter(t *testing.T, env []string, args ...string) (*exec.Cmd, *lockedBuffer) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	return cmd, stderr
}

// lockedBuffer collects a child's output while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// await reports whether the child's output comes to contain s within 20 s: the
// output is copied from a pipe by another goroutine, so a line the child wrote
// before it answered /healthz may not be here yet.
func (l *lockedBuffer) await(s string) bool {
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(l.String(), s) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond) // polling a child process's output, not synchronising goroutines
	}
	return true
}

func waitHealthy(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(20 * time.Millisecond) // polling a child process's readiness, not synchronising goroutines
	}
	t.Fatalf("router at %s never became healthy", addr)
}

// The embedded default serves with no config file at all.
func TestServesEmbeddedDefault(t *testing.T) {
	addr := freeAddr(t)
	dir := t.TempDir()
	cmd := exec.Command(binary)
	cmd.Dir = dir // no ./llmrouter.yaml here
	cmd.Env = append(os.Environ(), "LLMROUTER_SERVER_LISTEN="+addr, "LLMROUTER_CONFIG=", "OPENAI_API_KEY=", "ANTHROPIC_API_KEY=")
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	waitHealthy(t, addr)
	if !stderr.await("embedded default") {
		t.Errorf("start log does not name the embedded default: %s", stderr.String())
	}
}

// SIGTERM mid-stream: /readyz turns 503 during shutdown_delay while serving goes on,
// then the listener closes, the open stream finishes, and the process exits 0.
func TestSIGTERMDuringStream(t *testing.T) {
	release := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"before"},"finish_reason":null}]}`+"\n\n")
		w.(http.Flusher).Flush()
		<-release
		_, _ = io.WriteString(w, `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":" after"},"finish_reason":"stop"}]}`+"\n\ndata: [DONE]\n\n")
	}))
	defer up.Close()
	addr := freeAddr(t)
	cfg := fmt.Sprintf("server:\n  listen: %s\n  shutdown_delay: 1s\n  shutdown_grace: 20s\nmodels:\n  - name: gpt-4o\n    provider: openai\n    endpoint: %s/v1\n", addr, up.URL)
	cmd, stderr := serveConfig(t, nil, addr, cfg)

	resp, err := http.Post("http://"+addr+"/v1/chat/completions", "application/json", strings.NewReader(`{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	if line, _ := br.ReadString('\n'); !strings.Contains(line, "before") {
		t.Fatalf("first event: %q", line)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// During shutdown_delay, readiness is 503 and the server still answers.
	ready := pollStatus(t, "http://"+addr+"/readyz", 503)
	if ready != 503 {
		t.Fatalf("/readyz during drain = %d", ready)
	}
	// After the delay the listener closes: new connections are refused.
	waitRefused(t, addr)
	close(release)
	rest, err := io.ReadAll(br)
	if err != nil || !strings.Contains(string(rest), " after") || !strings.HasSuffix(string(rest), "data: [DONE]\n\n") {
		t.Errorf("in-flight stream did not finish cleanly: %q %v", rest, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	waitErr := make(chan error, 1)
	go func() { waitErr <- cmd.Wait() }()
	select {
	case err := <-waitErr:
		if err != nil {
			t.Errorf("exit: %v\n%s", err, stderr.String())
		}
	case <-ctx.Done():
		t.Fatal("router did not exit after the stream finished")
	}
}

func pollStatus(t *testing.T, url string, want int) int {
	t.Helper()
	got := 0
	for i := 0; i < 200 && got != want; i++ {
		resp, err := http.Get(url)
		if err != nil {
			return -1
		}
		resp.Body.Close()
		got = resp.StatusCode
		if got != want {
			time.Sleep(5 * time.Millisecond) // polling a child process
		}
	}
	return got
}

func waitRefused(t *testing.T, addr string) {
	t.Helper()
	for i := 0; i < 400; i++ {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return
		}
		c.Close()
		time.Sleep(10 * time.Millisecond) // polling a child process
	}
	t.Fatal("listener still accepting after shutdown_delay")
}

func TestCheckAndVersion(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"version"}, nil, &out, &errb); code != 0 || !strings.Contains(out.String(), "llmrouter") {
		t.Errorf("version: %d %q", code, out.String())
	}
	out.Reset()
	t.Setenv("OPENAI_API_KEY", "sk-canary-check-0123456789")
	if code := run([]string{"check", "-config", "../../config.example.yaml"}, nil, &out, &errb); code != 0 {
		t.Fatalf("check example: %d\n%s", code, errb.String())
	}
	if strings.Contains(out.String(), "sk-canary-check-0123456789") {
		t.Error("check printed a key")
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	_ = os.WriteFile(bad, []byte("server:\n  listen: nowhere\nmodels:\n  - name: x\n    provider: opena\n    endpoint: http://h\n    typo_key: 1\n"), 0o600)
	errb.Reset()
	if code := run([]string{"check", "-config", bad}, nil, &out, &errb); code != 1 {
		t.Fatalf("check bad config exit %d", code)
	}
	for _, want := range []string{"line 2", "line 5", "line 7"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("check output lacks %q:\n%s", want, errb.String())
		}
	}
}
