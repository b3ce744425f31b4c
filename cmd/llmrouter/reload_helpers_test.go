package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tidwall/gjson"
)

// awaitGuard fails a test whose awaited event never comes; it never orders events.
const awaitGuard = 60 * time.Second

// fakeUp is an OpenAI upstream that says its name in every answer, counts its
// requests and connections, and can hold a stream in the middle.
type fakeUp struct {
	*httptest.Server
	name     string
	requests atomic.Int64
	conns    atomic.Int64  // connections accepted
	closed   chan net.Conn // connections closed (dropped when nobody reads)
	held     chan struct{} // a stream whose prompt says "hold" has sent its first event
	release  chan struct{} // ... and waits for this before the rest
	mu       sync.Mutex
	auth     []string // the Authorization header of each request
}

func newFakeUp(t *testing.T, name string) *fakeUp {
	t.Helper()
	u := &fakeUp{name: name, closed: make(chan net.Conn, 1024), held: make(chan struct{}, 16), release: make(chan struct{})}
	u.Server = httptest.NewUnstartedServer(http.HandlerFunc(u.serve))
	u.Config.ConnState = func(c net.Conn, st http.ConnState) {
		switch st {
		case http.StateNew:
			u.conns.Add(1)
		case http.StateClosed:
			select {
			case u.closed <- c:
			default:
			}
		}
	}
	u.Start()
	t.Cleanup(u.Close)
	return u
}

// serve answers a chat request: "from <name> auth=<Authorization>" whole, or as
// a stream of two content events, the second held back for "hold" prompts.
func (u *fakeUp) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	u.requests.Add(1)
	auth := r.Header.Get("Authorization")
	u.mu.Lock()
	u.auth = append(u.auth, auth)
	u.mu.Unlock()
	w.Header().Set("X-Echo", auth)
	text := "from " + u.name + " auth=" + auth
	if !gjson.GetBytes(body, "stream").Bool() {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":%q},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}`, text)
		return
	}
	const chunk = `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":%q},"finish_reason":%s}]}` + "\n\n"
	w.Header().Set("Content-Type", "text/event-stream")
	fmt.Fprintf(w, chunk, text+" part 1", "null")
	w.(http.Flusher).Flush()
	if strings.Contains(gjson.GetBytes(body, "messages.0.content").String(), "hold") {
		u.held <- struct{}{}
		<-u.release
	}
	fmt.Fprintf(w, chunk, " part 2", `"stop"`)
	_, _ = io.WriteString(w, "data: [DONE]\n\n")
}

func (u *fakeUp) auths() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.auth...)
}

// logTail collects the router's log lines as they are written, so a test can
// wait for a line (a reload's outcome) instead of sleeping.
type logTail struct {
	mu      sync.Mutex
	all     bytes.Buffer
	partial []byte
	lines   []string
	grew    chan struct{} // closed and replaced at each new line
	cursor  int           // the lines await has gone past
}

func newLogTail() *logTail { return &logTail{grew: make(chan struct{})} }

func (l *logTail) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.all.Write(p)
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		l.lines = append(l.lines, string(l.partial[:i]))
		l.partial = l.partial[i+1:]
		close(l.grew)
		l.grew = make(chan struct{})
	}
	return len(p), nil
}

func (l *logTail) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.all.String()
}

// await returns the next JSON log line, past those already awaited, whose msg
// is one of msgs.
func (l *logTail) await(t *testing.T, msgs ...string) gjson.Result {
	t.Helper()
	return l.awaitWhere(t, fmt.Sprint(msgs), func(line gjson.Result) bool {
		return slices.Contains(msgs, line.Get("msg").String())
	})
}

// awaitRequest returns the next access-log line of a request to path.
func (l *logTail) awaitRequest(t *testing.T, path string) gjson.Result {
	t.Helper()
	return l.awaitWhere(t, "request "+path, func(line gjson.Result) bool {
		return line.Get("msg").String() == "request" && line.Get("path").String() == path
	})
}

// awaitWhere returns the next JSON log line, past those already awaited, that
// match accepts.
func (l *logTail) awaitWhere(t *testing.T, what string, match func(gjson.Result) bool) gjson.Result {
	t.Helper()
	timeout := time.After(awaitGuard)
	for {
		l.mu.Lock()
		for ; l.cursor < len(l.lines); l.cursor++ {
			if line := gjson.Parse(l.lines[l.cursor]); match(line) {
				l.cursor++
				l.mu.Unlock()
				return line
			}
		}
		grew := l.grew
		l.mu.Unlock()
		select {
		case <-grew:
		case <-timeout:
			t.Fatalf("no log line %s; the log:\n%s", what, l.String())
		}
	}
}

// The log lines of a reload's outcome.
const (
	msgReloaded  = "config reloaded"
	msgUnchanged = "config unchanged; nothing to reload"
	msgFailed    = "config reload failed; the running config stays in force"
	msgRestart   = "settings changed that apply only after a restart; they keep their running values"
)

// awaitReload waits for the next reload's outcome line and checks it is want.
func (l *logTail) awaitReload(t *testing.T, want string) gjson.Result {
	t.Helper()
	line := l.await(t, msgReloaded, msgUnchanged, msgFailed)
	if got := line.Get("msg").String(); got != want {
		t.Fatalf("reload outcome %q, want %q: %s", got, want, line.Raw)
	}
	return line
}

// reloadRouter is the real binary serving a config file the test rewrites.
type reloadRouter struct {
	cmd  *exec.Cmd
	log  *logTail
	addr string
	path string
}

// startReloadRouter writes the config (see write) and starts the binary on it.
func startReloadRouter(t *testing.T, config string) *reloadRouter {
	t.Helper()
	r := &reloadRouter{addr: freeAddr(t), path: filepath.Join(t.TempDir(), "llmrouter.yaml"), log: newLogTail()}
	r.write(t, config)
	r.cmd = exec.Command(binary, "serve", "-config", r.path)
	r.cmd.Stderr = r.log
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = r.cmd.Process.Kill()
		_, _ = r.cmd.Process.Wait()
		if strings.Contains(r.log.String(), "DATA RACE") {
			t.Errorf("the router reported a data race:\n%s", r.log.String())
		}
	})
	waitHealthy(t, r.addr)
	return r
}

// write replaces the config file in place; {{LISTEN}} in config is the listen
// address.
func (r *reloadRouter) write(t *testing.T, config string) {
	t.Helper()
	if err := os.WriteFile(r.path, []byte(strings.ReplaceAll(config, "{{LISTEN}}", r.addr)), 0o600); err != nil {
		t.Fatal(err)
	}
}

// reload sends SIGHUP and returns the reload's outcome line, checked to be want.
func (r *reloadRouter) reload(t *testing.T, want string) gjson.Result {
	t.Helper()
	if err := r.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	return r.log.awaitReload(t, want)
}

// call sends a chat request for model and returns the status and the body, whole.
func (r *reloadRouter) call(t *testing.T, model, prompt string, stream bool, header ...string) (int, string) {
	t.Helper()
	status, body, err := chatCall(http.DefaultClient, r.addr, model, prompt, stream, header...)
	if err != nil {
		t.Fatal(err)
	}
	return status, body
}

// chatCall is call for any goroutine; header holds name, value pairs.
func chatCall(c *http.Client, addr, model, prompt string, stream bool, header ...string) (int, string, error) {
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/v1/chat/completions", strings.NewReader(
		fmt.Sprintf(`{"model":%q,"stream":%v,"messages":[{"role":"user","content":%q}]}`, model, stream, prompt)))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// answer is the text of a chat answer, whole or streamed.
func answer(body string) string {
	if !strings.HasPrefix(body, "data: ") {
		return gjson.Get(body, "choices.0.message.content").String()
	}
	var b strings.Builder
	for _, ev := range strings.Split(body, "\n\n") {
		if data, ok := strings.CutPrefix(ev, "data: "); ok && data != "[DONE]" {
			b.WriteString(gjson.Get(data, "choices.0.delta.content").String())
		}
	}
	return b.String()
}

// complete reports whether a chat answer arrived whole: a body with its finish
// reason, or a stream whose last event is [DONE] after a finish reason.
func complete(body string) bool {
	if !strings.HasPrefix(body, "data: ") {
		return gjson.Get(body, "choices.0.finish_reason").String() == "stop"
	}
	return strings.HasSuffix(body, "data: [DONE]\n\n") && strings.Contains(body, `"finish_reason":"stop"`) &&
		!strings.Contains(body, `"error"`)
}

// awaitClosed waits until u sees one of its connections closed.
func awaitClosed(t *testing.T, u *fakeUp) {
	t.Helper()
	select {
	case <-u.closed:
	case <-time.After(awaitGuard):
		t.Fatalf("upstream %s: no connection closed", u.name)
	}
}

// awaitHeld waits until a "hold" stream on u has sent its first event.
func awaitHeld(t *testing.T, u *fakeUp) {
	t.Helper()
	select {
	case <-u.held:
	case <-time.After(awaitGuard):
		t.Fatalf("upstream %s: no held stream", u.name)
	}
}

func jsonStrings(r gjson.Result) []string {
	var out []string
	_ = json.Unmarshal([]byte(r.Raw), &out)
	return out
}
