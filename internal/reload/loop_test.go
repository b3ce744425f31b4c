package reload

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/fsnotify/fsnotify"
)

const debounce = 250 * time.Millisecond

// loopHarness runs the reload loop inside a synctest bubble with a fake event
// channel instead of fsnotify, so that debouncing runs on the bubble's fake clock.
type loopHarness struct {
	path    string
	w       *Watcher
	events  chan fsnotify.Event
	errs    chan error
	reloads chan []byte // every Reload call's data
	results chan Result // every Report
	fail    atomic.Bool // Reload returns an error while set
}

func newLoop(t *testing.T, content string) *loopHarness {
	t.Helper()
	h := &loopHarness{
		path:    filepath.Join(t.TempDir(), "config.yaml"),
		events:  make(chan fsnotify.Event),
		errs:    make(chan error),
		reloads: make(chan []byte, 64),
		results: make(chan Result, 64),
	}
	h.write(t, content)
	w, err := New(Options{Path: h.path, Debounce: debounce, Report: func(r Result) { h.results <- r },
		Reload: func(_ context.Context, data []byte) error {
			h.reloads <- data
			if h.fail.Load() {
				return errors.New("models[0]: endpoint is not a URL")
			}
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	h.w = w
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- w.loop(ctx, h.events, h.errs) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return h
}

func (h *loopHarness) write(t *testing.T, content string) {
	t.Helper()
	if err := os.WriteFile(h.path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func (h *loopHarness) event() { h.events <- fsnotify.Event{Name: h.path, Op: fsnotify.Write} }

// drain returns what Reload received so far; call it after synctest.Wait.
func drain[T any](ch chan T) []T {
	var out []T
	for {
		select {
		case v := <-ch:
			out = append(out, v)
		default:
			return out
		}
	}
}

func TestBurstOfEventsIsOneReload(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newLoop(t, "v1")
		for i := range 10 { // an editor saving in several writes, 50ms apart
			h.write(t, "v2 part "+string(rune('0'+i)))
			h.event()
			time.Sleep(debounce / 5)
		}
		synctest.Wait()
		if got := drain(h.reloads); len(got) != 0 {
			t.Fatalf("reloaded during the burst: %q", got)
		}
		time.Sleep(debounce)
		synctest.Wait()
		got := drain(h.reloads)
		if len(got) != 1 || string(got[0]) != "v2 part 9" {
			t.Fatalf("reloads %q, want one with the final content", got)
		}
		if r := drain(h.results); len(r) != 1 || r[0].Trigger != File || r[0].Err != nil {
			t.Errorf("reports %+v", r)
		}
	})
}

func TestUnchangedContentIsNotReloaded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newLoop(t, "v1")
		h.write(t, "v1") // rewritten with the same bytes (touch, chmod, a no-op save)
		h.event()
		time.Sleep(2 * debounce)
		synctest.Wait()
		if got := drain(h.reloads); len(got) != 0 {
			t.Fatalf("unchanged content reloaded: %q", got)
		}
		if r := drain(h.results); len(r) != 0 {
			t.Fatalf("unchanged content reported: %+v", r)
		}
		h.write(t, "v2")
		h.event()
		time.Sleep(2 * debounce)
		synctest.Wait()
		if got := drain(h.reloads); len(got) != 1 || string(got[0]) != "v2" {
			t.Fatalf("reloads %q after a change", got)
		}
	})
}

func TestSignalAlwaysReloads(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newLoop(t, "v1")
		for range 2 {
			h.w.Trigger()
			synctest.Wait()
		}
		got := drain(h.reloads)
		if len(got) != 2 || string(got[0]) != "v1" || string(got[1]) != "v1" {
			t.Fatalf("reloads %q, want the unchanged file twice", got)
		}
		for _, r := range drain(h.results) {
			if r.Trigger != Signal {
				t.Errorf("trigger %s, want signal", r.Trigger)
			}
		}
	})
}

// TestReloadsNeverOverlap: triggers that arrive while a reload runs wait for it,
// and collapse into one more reload.
func TestReloadsNeverOverlap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		var running, most, calls atomic.Int32
		path := filepath.Join(t.TempDir(), "config.yaml")
		if err := os.WriteFile(path, []byte("v1"), 0o600); err != nil {
			t.Fatal(err)
		}
		w, err := New(Options{Path: path, Reload: func(context.Context, []byte) error {
			calls.Add(1)
			n := running.Add(1)
			most.Store(max(most.Load(), n))
			<-release
			running.Add(-1)
			return nil
		}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- w.Run(ctx) }()
		w.Trigger()
		synctest.Wait() // the first reload is blocked in Reload
		for range 3 {
			w.Trigger()
		}
		release <- struct{}{}
		synctest.Wait() // the second reload is blocked in Reload
		release <- struct{}{}
		synctest.Wait()
		cancel()
		<-done
		if calls.Load() != 2 || most.Load() != 1 {
			t.Fatalf("%d reloads, at most %d at once; want 2 and 1", calls.Load(), most.Load())
		}
	})
}

// TestFailedReloadIsReportedOnce: an invalid file is reported, not retried on
// every later event while it stays the same, and retried on a signal.
func TestFailedReloadIsReportedOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newLoop(t, "v1")
		h.fail.Store(true)
		h.write(t, "bad")
		for range 2 {
			h.event()
			time.Sleep(2 * debounce)
		}
		synctest.Wait()
		if got := drain(h.reloads); len(got) != 1 {
			t.Fatalf("%d reloads of one invalid file, want 1", len(got))
		}
		if r := drain(h.results); len(r) != 1 || r[0].Err == nil {
			t.Fatalf("reports %+v, want one failure", r)
		}
		h.w.Trigger()
		synctest.Wait()
		if got := drain(h.reloads); len(got) != 1 || string(got[0]) != "bad" {
			t.Fatalf("a signal did not retry the invalid file: %q", got)
		}
	})
}

// TestMissingFileIsReportedOnce: a config file that disappears is reported once
// (not on every event), nothing is reloaded, and its return is picked up.
func TestMissingFileIsReportedOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newLoop(t, "v1")
		if err := os.Remove(h.path); err != nil {
			t.Fatal(err)
		}
		for range 3 {
			h.event()
			time.Sleep(2 * debounce)
		}
		synctest.Wait()
		r := drain(h.results)
		if len(r) != 1 || !errors.Is(r[0].Err, fs.ErrNotExist) {
			t.Fatalf("reports %+v, want one 'not exist'", r)
		}
		if got := drain(h.reloads); len(got) != 0 {
			t.Fatalf("reloaded without a file: %q", got)
		}
		h.write(t, "v2")
		h.event()
		time.Sleep(2 * debounce)
		synctest.Wait()
		if got := drain(h.reloads); len(got) != 1 || string(got[0]) != "v2" {
			t.Fatalf("reloads %q after the file came back", got)
		}
	})
}

// TestEmptyFileIsNeverLoaded: an in-place save is a truncate then a write; a check
// that falls between them sees an empty file, which is reported, not loaded.
func TestEmptyFileIsNeverLoaded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newLoop(t, "v1")
		h.write(t, "")
		h.event()
		time.Sleep(2 * debounce)
		h.w.Trigger()
		synctest.Wait()
		if got := drain(h.reloads); len(got) != 0 {
			t.Fatalf("an empty file was loaded: %q", got)
		}
		r := drain(h.results)
		if len(r) != 2 || !errors.Is(r[0].Err, ErrEmpty) || !errors.Is(r[1].Err, ErrEmpty) {
			t.Fatalf("reports %+v, want ErrEmpty for the event and for the signal", r)
		}
	})
}

// TestWatchErrorIsReportedAndRechecks: an error of the watch (inotify's queue
// overflowed, so events were lost) is reported as ErrWatch, not as a reload, and
// the file is checked in case a change was among the lost events.
func TestWatchErrorIsReportedAndRechecks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newLoop(t, "v1")
		h.write(t, "v2")
		h.errs <- fsnotify.ErrEventOverflow
		synctest.Wait()
		r := drain(h.results)
		if len(r) != 1 || !errors.Is(r[0].Err, ErrWatch) || !errors.Is(r[0].Err, fsnotify.ErrEventOverflow) {
			t.Fatalf("reports %+v, want one ErrWatch", r)
		}
		time.Sleep(2 * debounce)
		synctest.Wait()
		if got := drain(h.reloads); len(got) != 1 || string(got[0]) != "v2" {
			t.Fatalf("reloads %q after the overflow, want v2", got)
		}
	})
}
