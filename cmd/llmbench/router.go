package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// buildRouter compiles ./cmd/llmrouter of the enclosing module (no -race: the
// figures are for the binary users run) into dir.
func buildRouter(ctx context.Context, dir string) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside a Go module: run llmbench from the llmrouter module")
	}
	bin := filepath.Join(dir, "llmrouter")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/llmrouter")
	cmd.Dir = filepath.Dir(gomod)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/llmrouter: %w\n%s", err, out)
	}
	return bin, nil
}

// configYAML is the router's config: one openai and one anthropic model on the
// fake upstream, no retries, and logging at warn so that the access log (one
// line per request, at info) costs nothing in the figures.
const configYAML = `server: {listen: %s}
logging: {level: warn}
defaults: {retry: {attempts: 1}}
models:
  - name: gpt-4o
    provider: openai
    endpoint: %s/v1
    api_key: sk-bench-key-0123456789
  - name: claude-bench
    provider: anthropic
    endpoint: %s
    api_key: ant-bench-key-0123456789
`

// freeAddr picks a free loopback port for a child. Another process could take
// it before the child binds; startChild then fails clearly.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// writeConfig writes the router config for upstreamURL into dir.
func writeConfig(dir, listen, upstreamURL string) (string, error) {
	p := filepath.Join(dir, "llmrouter.yaml")
	return p, os.WriteFile(p, fmt.Appendf(nil, configYAML, listen, upstreamURL, upstreamURL), 0o600)
}

// childSpec says how to run a proxy under test.
type childSpec struct {
	name   string // in logs and errors: router, reference, nginx
	label  string // in the report: "reference proxy", "nginx"
	argv   []string
	listen string
	cpu    int // the one CPU it is confined to; -1: llmbench's own mask
}

// child is a proxy under test running as a child process: the llmrouter, the
// reference proxy or nginx. Its CPU time and peak RSS are read from /proc (its
// own entry and those of any processes it started, such as nginx's workers), so
// they exclude the load generator and the fake upstream.
type child struct {
	childSpec
	url    string
	cmd    *exec.Cmd
	log    *tail
	exited chan struct{} // closed once the process is gone
}

// startChild starts spec.argv, which must listen on spec.listen, and waits
// until its GET /healthz answers 200.
func startChild(ctx context.Context, spec childSpec) (*child, error) {
	c := &child{childSpec: spec, url: "http://" + spec.listen, log: &tail{max: 16 << 10}, exited: make(chan struct{})}
	c.cmd = exec.Command(spec.argv[0], spec.argv[1:]...)
	c.cmd.Stdout, c.cmd.Stderr = c.log, c.log
	// Backstop for a llmbench that dies without running its cleanup.
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := startOn(c.cmd.Start, spec.cpu); err != nil {
		if c.cmd.Process != nil {
			_ = c.cmd.Process.Kill()
			_ = c.cmd.Wait()
		}
		return nil, fmt.Errorf("starting %s: %w", spec.name, err)
	}
	go func() { _ = c.cmd.Wait(); close(c.exited) }()
	if err := c.waitHealthy(ctx, 15*time.Second); err != nil {
		c.stop()
		return nil, err
	}
	return c, nil
}

// restart replaces the process with a fresh one on the same address.
func (c *child) restart(ctx context.Context) (*child, error) {
	c.stop()
	return startChild(ctx, c.childSpec)
}

func (c *child) waitHealthy(ctx context.Context, limit time.Duration) error {
	hc := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case <-c.exited:
			return fmt.Errorf("%s exited during start-up: %s\n%s", c.name, c.cmd.ProcessState, c.log)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		resp, err := hc.Get(c.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	return fmt.Errorf("%s not healthy after %s\n%s", c.name, limit, c.log)
}

func (c *child) pid() int { return c.cmd.Process.Pid }

// tree is the process and every process it started.
func (c *child) tree() ([]int, error) {
	d, err := descendants(c.pid())
	return append([]int{c.pid()}, d...), err
}

// cpu is the user+system CPU time used so far by the process and the processes
// it started (nginx's workers), all their threads included.
func (c *child) cpu() (time.Duration, error) {
	pids, err := c.tree()
	if err != nil {
		return 0, err
	}
	var sum time.Duration
	for _, pid := range pids {
		t, err := procCPU(pid)
		if err != nil && pid == c.pid() {
			return 0, err
		}
		sum += t // a worker that is gone meanwhile counts as 0
	}
	return sum, nil
}

// memory sums one /proc/<pid>/status memory field (VmRSS, VmHWM) over the
// process and the processes it started.
func (c *child) memory(field string) (uint64, error) {
	pids, err := c.tree()
	if err != nil {
		return 0, err
	}
	var sum uint64
	for _, pid := range pids {
		n, err := procStatusBytes(pid, field)
		if err != nil && pid == c.pid() {
			return 0, err
		}
		sum += n
	}
	return sum, nil
}

// stop asks the process to drain (SIGTERM) and kills it, and any process it
// started, if it is not gone within five seconds. It is safe to call more than
// once.
func (c *child) stop() {
	select {
	case <-c.exited:
		return
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(5 * time.Second):
		// Found before the parent dies: afterwards they are no longer its children.
		kids, _ := descendants(c.pid())
		_ = c.cmd.Process.Kill()
		for _, pid := range kids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		<-c.exited
	}
}

// tail keeps the last max bytes written to it: the router's log, for errors.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(bytes.TrimSpace(t.buf))
}
