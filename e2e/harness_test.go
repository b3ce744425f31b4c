package e2e

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/llmrouter/llmrouter/internal/config"
	"github.com/llmrouter/llmrouter/internal/gateway"
	"github.com/llmrouter/llmrouter/internal/logging"
)

// router is the real gateway, compiled from a YAML config, on a real listener.
type router struct {
	*httptest.Server
	log *syncBuffer
}

// startRouter serves cfg; the router's access log is printed if the test fails.
func startRouter(t *testing.T, yaml string) *router {
	t.Helper()
	cfg, err := config.Parse([]byte(yaml), "e2e.yaml")
	if err != nil {
		t.Fatalf("router config: %v\n%s", err, yaml)
	}
	buf := &syncBuffer{}
	g, err := gateway.New(cfg, logging.New(cfg.Logging, buf, gateway.Secrets(cfg)))
	if err != nil {
		t.Fatalf("router: %v", err)
	}
	srv := httptest.NewServer(g)
	t.Cleanup(func() {
		srv.Close()
		g.CloseIdle()
	})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("router log:\n%s", buf)
		}
	})
	return &router{Server: srv, log: buf}
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// fixture reads a recorded transcript from the repository's testdata/.
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", filepath.FromSlash(name)))
	if err != nil {
		t.Fatalf("fixture: %v", err)
	}
	return b
}

// sseEvent is one event of a recorded SSE transcript.
type sseEvent struct {
	Name string // the event: line, "" when absent
	Data string // the data: payload
}

// sseEvents splits a recorded SSE transcript into its events.
func sseEvents(b []byte) []sseEvent {
	var evs []sseEvent
	for _, block := range strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n\n") {
		var ev sseEvent
		for _, line := range strings.Split(block, "\n") {
			switch {
			case strings.HasPrefix(line, "event: "):
				ev.Name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.Data = strings.TrimPrefix(line, "data: ")
			}
		}
		if ev.Data != "" {
			evs = append(evs, ev)
		}
	}
	return evs
}

// lines splits an NDJSON transcript into its JSON lines.
func lines(b []byte) []string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

// pick returns the first recorded JSON payload for which match holds.
func pick(t testing.TB, payloads []string, what string, match func(gjson.Result) bool) string {
	t.Helper()
	for _, p := range payloads {
		if match(gjson.Parse(p)) {
			return p
		}
	}
	t.Fatalf("no recorded %s in the fixture", what)
	return ""
}

// ssePayloads returns the data payloads of a recorded SSE transcript.
func ssePayloads(b []byte) []string {
	var out []string
	for _, ev := range sseEvents(b) {
		out = append(out, ev.Data)
	}
	return out
}

// patch sets values in a recorded JSON payload, path by path (sjson syntax). Every path
// must already exist in the recording: a fake built this way never invents a wire field.
func patch(payload string, pathValues ...any) (string, error) {
	if len(pathValues)%2 != 0 {
		return "", fmt.Errorf("patch: odd number of path/value arguments")
	}
	for i := 0; i < len(pathValues); i += 2 {
		path, _ := pathValues[i].(string)
		if !gjson.Get(payload, path).Exists() {
			return "", fmt.Errorf("patch: %q is not in the recorded payload %.200s", path, payload)
		}
		var err error
		if payload, err = sjson.Set(payload, path, pathValues[i+1]); err != nil {
			return "", fmt.Errorf("patch %s: %w", path, err)
		}
	}
	return payload, nil
}

// patcher applies patches in a fake's handler, keeping the first error for the handler
// to report (a handler must not call t.Fatal: it runs outside the test goroutine).
type patcher struct{ err error }

func (p *patcher) set(payload string, pathValues ...any) string {
	if p.err != nil {
		return ""
	}
	out, err := patch(payload, pathValues...)
	if err != nil {
		p.err = err
	}
	return out
}

// nonce returns a fresh random token, so that no stale file or cached answer can satisfy
// an assertion.
func nonce(t testing.TB) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// readFile returns the content of a file the client's tool should have written.
func readFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the client's command did not leave its file: %v", err)
	}
	return string(b)
}
