// Package clienttest runs the real client programs that the end-to-end tests drive (Claude
// Code, Codex CLI), as installed from npm at the versions pinned in e2e/clients: it finds
// the binaries, gives each run a private HOME, a bounded lifetime and captured output, and
// records what fake upstreams receive. It is imported by tests only.
package clienttest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Client is a program installed by e2e/clients/package.json.
type Client struct {
	// Bin is the name of the executable in node_modules/.bin.
	Bin string
	// Package is the npm package that ships it; its version must equal the pin.
	Package string
}

// The clients the tests drive.
var (
	ClaudeCode = Client{Bin: "claude", Package: "@anthropic-ai/claude-code"}
	Codex      = Client{Bin: "codex", Package: "@openai/codex"}
)

// ClientsDirEnv names an environment variable that overrides where the npm tree lives
// (a directory holding package.json and node_modules); by default it is e2e/clients of the
// module the test runs in.
const ClientsDirEnv = "LLMROUTER_E2E_CLIENTS"

// installHint tells a developer how to get the clients; CI runs the same script.
const installHint = "install the pinned clients with `bash e2e/clients/install.sh` " +
	"(or `npm ci` in e2e/clients; .ci/run does this before the tests)"

// Path returns the executable of c, failing the test (never skipping it: CI installs the
// clients) when it is missing or when the installed package is not the pinned version.
func (c Client) Path(t testing.TB) string {
	t.Helper()
	dir, err := clientsDir()
	if err != nil {
		t.Fatalf("%s: %v; %s", c.Bin, err, installHint)
	}
	pin, err := pinnedVersion(dir, c.Package)
	if err != nil {
		t.Fatalf("%s: %v; %s", c.Bin, err, installHint)
	}
	bin := filepath.Join(dir, "node_modules", ".bin", c.Bin)
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%s %s is not installed (%v); %s", c.Package, pin, err, installHint)
	}
	got, err := installedVersion(dir, c.Package)
	if err != nil {
		t.Fatalf("%s: %v; %s", c.Bin, err, installHint)
	}
	if got != pin {
		t.Fatalf("%s %s is installed but package.json pins %s; %s", c.Package, got, pin, installHint)
	}
	return bin
}

// Version returns the pinned version of c, for logs and notes.
func (c Client) Version(t testing.TB) string {
	t.Helper()
	dir, err := clientsDir()
	if err != nil {
		t.Fatalf("%s: %v", c.Bin, err)
	}
	v, err := pinnedVersion(dir, c.Package)
	if err != nil {
		t.Fatalf("%s: %v", c.Bin, err)
	}
	return v
}

// clientsDir finds the npm tree: $LLMROUTER_E2E_CLIENTS, else e2e/clients beside the
// go.mod above the working directory (go test runs in the package's directory).
func clientsDir() (string, error) {
	if d := os.Getenv(ClientsDirEnv); d != "" {
		return d, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("finding the module root: %w", err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(d, "e2e", "clients"), nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod above %s", wd)
		}
	}
}

// pinnedVersion reads the exact version package.json pins for pkg.
func pinnedVersion(dir, pkg string) (string, error) {
	var manifest struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	if err := readJSON(filepath.Join(dir, "package.json"), &manifest); err != nil {
		return "", err
	}
	v, ok := manifest.Dependencies[pkg]
	if !ok {
		return "", fmt.Errorf("%s/package.json does not pin %s", dir, pkg)
	}
	return v, nil
}

// installedVersion reads the version of the installed copy of pkg.
func installedVersion(dir, pkg string) (string, error) {
	var manifest struct {
		Version string `json:"version"`
	}
	path := filepath.Join(dir, "node_modules", filepath.FromSlash(pkg), "package.json")
	if err := readJSON(path, &manifest); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("%s is not installed", pkg)
		}
		return "", err
	}
	return manifest.Version, nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("parsing %s: %w", path, err)
	}
	return nil
}

// DefaultTimeout bounds one client run. It is generous because CI is a loaded 2-core
// machine running other packages' tests at the same time; a healthy run takes about a
// second.
const DefaultTimeout = 4 * time.Minute

// maxOutput bounds each captured stream; a client that prints more is cut, not buffered.
const maxOutput = 8 << 20

// Run describes one invocation of a client.
type Run struct {
	Args []string
	// Dir is the working directory (the client's workspace).
	Dir string
	// Env is added to a minimal environment: PATH (node and the shell tools the clients'
	// command tools run), LANG, and HOME, a fresh temporary directory unless Env sets it.
	// Nothing else from the test's environment leaks in (no API keys, no CI variables).
	Env map[string]string
	// Timeout bounds the run (DefaultTimeout when zero); it never outlives the test.
	Timeout time.Duration
}

// Result is what a finished run produced.
type Result struct {
	Stdout, Stderr []byte
	ExitCode       int
	Elapsed        time.Duration
}

// Run starts the client and waits for it. A run that does not finish in time is killed
// (with every process it started) and fails the test with its output.
func (c Client) Run(t testing.TB, r Run) Result {
	t.Helper()
	bin := c.Path(t)
	timeout := r.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()

	cmd := exec.CommandContext(ctx, bin, r.Args...)
	cmd.Dir = r.Dir
	cmd.Env = environ(t, r.Env)
	cmd.Stdin = nil // /dev/null: the clients must not wait for input
	var stdout, stderr limitedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// Own process group, so a timeout kills the client's children (its shell tools) too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second

	start := time.Now()
	err := cmd.Run()
	res := Result{Stdout: stdout.Bytes(), Stderr: stderr.Bytes(), Elapsed: time.Since(start)}
	t.Logf("%s %q: exit %d in %v", c.Bin, r.Args, cmd.ProcessState.ExitCode(), res.Elapsed.Round(time.Millisecond))
	if ctx.Err() != nil {
		t.Fatalf("%s did not finish within %v (%v)\nstdout:\n%s\nstderr:\n%s", c.Bin, timeout, ctx.Err(), res.Stdout, res.Stderr)
	}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		res.ExitCode = exit.ExitCode()
	default:
		t.Fatalf("running %s: %v\nstderr:\n%s", c.Bin, err, res.Stderr)
	}
	return res
}

// environ builds the child's environment from extra over a minimal base.
func environ(t testing.TB, extra map[string]string) []string {
	env := map[string]string{
		"PATH": os.Getenv("PATH"),
		"LANG": "C.UTF-8",
		"HOME": t.TempDir(),
	}
	for k, v := range extra {
		env[k] = v
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}

// limitedBuffer keeps the first maxOutput bytes written to it; it is safe for the
// concurrent writes of exec's copying goroutines and a reader after Wait.
type limitedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := maxOutput - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *limitedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

// maxBody bounds a recorded request body; the clients send ~50 KB (mostly their system
// prompts and tool schemas) per request.
const maxBody = 16 << 20

// Exchange is one request as a fake upstream received it.
type Exchange struct {
	Method string
	Path   string
	Query  string
	Header http.Header
	Body   []byte
}

// Recorder wraps a fake upstream's handler and keeps every request it receives, so a
// test can assert on what reached the upstream. Safe for concurrent use.
type Recorder struct {
	mu  sync.Mutex
	got []Exchange
}

// Wrap returns h behind the recorder: the request body is read (bounded), recorded and
// handed to h unchanged. A body over the bound is answered 413 and recorded cut.
func (r *Recorder) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(io.LimitReader(req.Body, maxBody+1))
		ex := Exchange{req.Method, req.URL.Path, req.URL.RawQuery, req.Header.Clone(), body}
		r.mu.Lock()
		r.got = append(r.got, ex)
		r.mu.Unlock()
		if err != nil || len(body) > maxBody {
			http.Error(w, fmt.Sprintf("fake upstream: request body unreadable or over %d bytes", maxBody), http.StatusRequestEntityTooLarge)
			return
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		h.ServeHTTP(w, req)
	})
}

// Exchanges returns the requests received so far, in arrival order.
func (r *Recorder) Exchanges() []Exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Exchange(nil), r.got...)
}

// Summary lists the requests received so far, one line each (method, path, query and the
// first bytes of the body), for failure messages.
func (r *Recorder) Summary() string {
	var b strings.Builder
	for i, ex := range r.Exchanges() {
		body := ex.Body
		if len(body) > 300 {
			body = append(body[:300:300], "..."...)
		}
		fmt.Fprintf(&b, "  #%d %s %s?%s %s\n", i, ex.Method, ex.Path, ex.Query, body)
	}
	if b.Len() == 0 {
		return "  (no request)\n"
	}
	return b.String()
}
