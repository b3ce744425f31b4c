package logging

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/llmrouter/llmrouter/internal/config"
)

// A key learnt by a running logger is masked at once in every logger derived
// from it, and the keys it knew stay masked: Learn only adds.
func TestLiveLearnMasksNewKeysEverywhere(t *testing.T) {
	const learnt = "sk-reloaded-EEEE5555FFFF6666"
	var buf bytes.Buffer
	log, live := NewLive(config.Logging{Level: slog.LevelInfo, Format: "json"}, &buf, []string{canaryA})
	derived := log.With("component", "access").WithGroup("req")
	derived.Info("before", "v", learnt)
	if !strings.Contains(buf.String(), learnt) {
		t.Fatalf("the key was masked before it was learnt: the test proves nothing\n%s", buf.String())
	}
	buf.Reset()
	live.Learn([]string{learnt})
	live.Learn([]string{canaryB}) // a later config without either key
	derived.Info("after "+learnt, "v", learnt, "old", canaryA, "err", errString(learnt))
	log.Info("root", learnt, canaryB)
	out := buf.String()
	for _, k := range []string{learnt, canaryA, canaryB} {
		if strings.Contains(out, k) {
			t.Errorf("key %s shows in\n%s", k, out)
		}
	}
	if !strings.Contains(out, config.Mask(learnt)) {
		t.Errorf("no mask of the learnt key in\n%s", out)
	}
}

// Learning while lines are logged is safe (run with -race), and once Learn
// returns every line is masked of the keys learnt.
func TestLiveLearnDuringLogging(t *testing.T) {
	w := &lockedWriter{}
	log, live := NewLive(config.Logging{Level: slog.LevelInfo}, w, nil)
	key := func(i int) string { return fmt.Sprintf("sk-learnt-%04d-0123456789", i) }
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for j := range 200 {
				log.Info("line", "i", i, "v", key(j%50))
			}
		})
	}
	for i := range 50 {
		live.Learn([]string{key(i)})
	}
	wg.Wait()
	w.reset()
	for i := range 50 {
		log.Info("after", "v", key(i))
	}
	if out := w.String(); strings.Contains(out, "sk-learnt-") {
		t.Errorf("a learnt key shows:\n%s", out)
	}
}

// SetLevel changes the level of a running logger and of those derived from it.
func TestLiveSetLevel(t *testing.T) {
	var buf bytes.Buffer
	log, live := NewLive(config.Logging{Level: slog.LevelWarn}, &buf, nil)
	derived := log.With("a", 1)
	derived.Info("hidden")
	live.SetLevel(slog.LevelDebug)
	derived.Debug("shown")
	if out := buf.String(); strings.Contains(out, "hidden") || !strings.Contains(out, "shown") {
		t.Errorf("log after SetLevel(debug):\n%s", out)
	}
}

type errString string

func (e errString) Error() string { return "failed with " + string(e) }

type lockedWriter struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *lockedWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

func (w *lockedWriter) reset() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b.Reset()
}
