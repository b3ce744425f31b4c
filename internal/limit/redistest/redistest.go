// Package redistest runs a real redis-server for tests: on a free loopback port, in a temporary
// directory, without persistence, stopped when the test ends. A machine without redis-server
// fails the test with how to install it: tests that need Redis never skip.
package redistest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Env names a variable that can point at the redis-server binary (or valkey-server).
const Env = "LLMROUTER_REDIS_SERVER"

// startTimeout bounds how long a server may take to say it is ready.
const startTimeout = 20 * time.Second

// Server is one redis-server process; Stop and Start may be called again to restart it on the
// same port.
type Server struct {
	// Addr is host:port on 127.0.0.1.
	Addr string
	// Password, if not empty, is required by the server (requirepass).
	Password string

	t       testing.TB
	bin     string
	dir     string
	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{}
	logTail *tail
}

// Option configures Start.
type Option func(*Server)

// WithPassword makes the server require a password (the default user's).
func WithPassword(p string) Option { return func(s *Server) { s.Password = p } }

// Start runs redis-server and returns once it accepts connections. It is stopped when t ends.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	bin := os.Getenv(Env)
	if bin == "" {
		var err error
		if bin, err = exec.LookPath("redis-server"); err != nil {
			t.Fatalf("redis-server not found (%v): these tests need a real Redis; install it "+
				"(apt-get install -y redis-server) or set %s to a redis-server or valkey-server binary", err, Env)
		}
	}
	s := &Server{t: t, bin: bin, dir: t.TempDir()}
	for _, o := range opts {
		o(s)
	}
	var err error
	for range 5 { // a free port can be taken between choosing it and binding it
		if s.Addr, err = freePort(); err != nil {
			t.Fatalf("redistest: choosing a port: %v", err)
		}
		if err = s.start(); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

// URL returns redis://[:password@]addr/0.
func (s *Server) URL() string {
	u := url.URL{Scheme: "redis", Host: s.Addr, Path: "/0"}
	if s.Password != "" {
		u.User = url.UserPassword("", s.Password)
	}
	return u.String()
}

// Restart starts the stopped server again on the same port, with an empty dataset.
func (s *Server) Restart() {
	s.t.Helper()
	if err := s.start(); err != nil {
		s.t.Fatalf("redistest: restarting: %v", err)
	}
}

func (s *Server) start() error {
	_, port, _ := net.SplitHostPort(s.Addr)
	args := []string{"--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", s.dir, "--daemonize", "no", "--logfile", "", "--loglevel", "notice"}
	if s.Password != "" {
		args = append(args, "--requirepass", s.Password)
	}
	cmd := exec.Command(s.bin, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("redis-server stdout: %w", err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", s.bin, err)
	}
	log := &tail{}
	ready, exited := make(chan struct{}), make(chan struct{})
	go watch(out, log, ready, func() { _ = cmd.Wait(); close(exited) })
	select {
	case <-ready:
	case <-exited:
		return fmt.Errorf("redis-server on %s exited before it was ready:\n%s", s.Addr, log)
	case <-time.After(startTimeout):
		_ = cmd.Process.Kill()
		<-exited
		return fmt.Errorf("redis-server on %s not ready after %s:\n%s", s.Addr, startTimeout, log)
	}
	s.mu.Lock()
	s.cmd, s.exited, s.logTail = cmd, exited, log
	s.mu.Unlock()
	return nil
}

// watch reads the server's output until it ends, closing ready at "Ready to accept connections",
// then calls done once the output is closed.
func watch(out io.Reader, log *tail, ready chan struct{}, done func()) {
	sc := bufio.NewScanner(out)
	signalled := false
	for sc.Scan() {
		line := sc.Text()
		log.add(line)
		if !signalled && strings.Contains(line, "Ready to accept connections") {
			signalled = true
			close(ready)
		}
	}
	_, _ = io.Copy(io.Discard, out)
	done()
}

// Stop terminates the server and waits for it to exit. Stopping a stopped server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(startTimeout):
		_ = cmd.Process.Kill()
		<-exited
	}
}

// Log returns the last lines the server printed, for a failing test's message.
func (s *Server) Log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.logTail == nil {
		return ""
	}
	return s.logTail.String()
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().(*net.TCPAddr)
	if err := l.Close(); err != nil {
		return "", err
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(addr.Port)), nil
}

// tail keeps the last lines of output.
type tail struct {
	mu    sync.Mutex
	lines []string
}

const tailLines = 40

func (t *tail) add(line string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lines = append(t.lines, line)
	if len(t.lines) > tailLines {
		t.lines = t.lines[len(t.lines)-tailLines:]
	}
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(t.lines, "\n")
}
