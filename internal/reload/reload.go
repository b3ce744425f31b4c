// Package reload runs configuration reloads: on demand (SIGHUP) and, when enabled,
// when the config file's content changes, one at a time.
//
// The file is watched through its directory, never by its name alone: an editor that
// saves by renaming a new file over the old one, and a Kubernetes ConfigMap whose
// `..data` symlink is re-pointed to a new timestamped directory, both replace the
// inode a watch on the name would follow. Any event in the watched directories
// schedules a check after a quiet period (debounce); the check reads the file
// through its symlinks and reloads only when the content's hash changed.
package reload

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// MaxBytes bounds the config file read for a reload.
const MaxBytes = 16 << 20

// DefaultDebounce is the quiet period after the last file event before a check.
const DefaultDebounce = 250 * time.Millisecond

// Errors reported for a config file that cannot be reloaded.
var (
	ErrTooLarge = errors.New("config file too large")
	// ErrEmpty: an empty file is what an in-place save looks like between its
	// truncate and its write; it is never handed to Reload.
	ErrEmpty = errors.New("config file is empty")
	// ErrWatch wraps an error of the file watch itself (an inotify queue overflow):
	// Report receives it, but it is no reload's outcome.
	ErrWatch = errors.New("watching the config file")
)

// Trigger is what started a reload.
type Trigger uint8

// The triggers.
const (
	Signal Trigger = iota // Watcher.Trigger: SIGHUP, or an operator's request
	File                  // the config file's content changed
)

// String returns "signal" or "file", for logs and metrics.
func (t Trigger) String() string {
	if t == File {
		return "file"
	}
	return "signal"
}

// Result is the outcome of one reload, for logs and metrics.
type Result struct {
	Trigger  Trigger
	Err      error         // nil: Reload accepted the new config
	Start    time.Time     // when the reload started
	Duration time.Duration // reading the file and Reload
}

// Options configure a Watcher.
type Options struct {
	// Path is the config file as given on the command line; it may be a symlink.
	Path string
	// Watch also reloads when the file's content changes (reload.watch). SIGHUP
	// (Trigger) reloads whatever it is.
	Watch bool
	// Loaded is the content the running config was loaded from: a file event
	// reloads only when the file's content differs from it. Default: the file's
	// content when New reads it (which may already be newer than what was loaded).
	Loaded []byte
	// Debounce is the quiet period after the last file event; default DefaultDebounce.
	Debounce time.Duration
	// Reload loads, validates and swaps in the config in data, the file's content
	// (call config.Parse(data, path)). It must leave the running config in place
	// when it fails. Reloads never overlap: the next starts after it returns.
	Reload func(ctx context.Context, data []byte) error
	// Report receives the outcome of every reload, after Reload returned; a file
	// that cannot be read (missing, empty, over MaxBytes), which is a failed reload;
	// and errors of the watch itself, wrapped in ErrWatch, which are not. It runs
	// on the reload goroutine. Optional.
	Report func(Result)
}

// Watcher serialises reloads. Build it with New, run it with Run.
type Watcher struct {
	opts    Options
	trigger chan struct{}
	fs      *fsnotify.Watcher  // nil unless Options.Watch
	dirs    map[string]bool    // directories being watched
	last    [sha256.Size]byte  // hash of the content last handed to Reload
	failing bool               // the last read of the file failed (reported once)
	onCheck func(changed bool) // test hook: after each file check
}

// New checks the options and, with Watch set, starts watching the config file's
// directory (and its symlink target's), so that a setup failure (no inotify
// instances left, a missing directory) is reported before serving.
func New(o Options) (*Watcher, error) {
	if o.Path == "" || o.Reload == nil {
		return nil, errors.New("reload: Path and Reload are required")
	}
	if o.Debounce <= 0 {
		o.Debounce = DefaultDebounce
	}
	if o.Report == nil {
		o.Report = func(Result) {}
	}
	w := &Watcher{opts: o, trigger: make(chan struct{}, 1), dirs: map[string]bool{}}
	if o.Loaded != nil {
		w.last = sha256.Sum256(o.Loaded)
	} else if data, err := read(o.Path); err == nil {
		w.last = sha256.Sum256(data) // the baseline: what the server was started with
	}
	if !o.Watch {
		return w, nil
	}
	fs, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watching the config file: %w", err)
	}
	w.fs = fs
	if err := w.rewatch(); err != nil {
		fs.Close()
		return nil, err
	}
	return w, nil
}

// Trigger asks for a reload (SIGHUP). It never blocks: triggers arriving while a
// reload runs collapse into one more reload after it.
func (w *Watcher) Trigger() {
	select {
	case w.trigger <- struct{}{}:
	default:
	}
}

// Run performs reloads until ctx ends, then stops watching. Call it once.
func (w *Watcher) Run(ctx context.Context) error {
	if w.fs == nil {
		return w.loop(ctx, nil, nil)
	}
	defer w.fs.Close()
	return w.loop(ctx, w.fs.Events, w.fs.Errors)
}

// loop is the one goroutine that reloads: a trigger reloads at once, a file event
// (re)starts the debounce timer, and the timer's expiry checks the file.
func (w *Watcher) loop(ctx context.Context, events <-chan fsnotify.Event, errs <-chan error) error {
	debounce := time.NewTimer(w.opts.Debounce)
	debounce.Stop()
	defer debounce.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-w.trigger:
			w.reload(ctx, Signal)
		case _, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			debounce.Reset(w.opts.Debounce)
		case err, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			w.opts.Report(Result{Trigger: File, Err: fmt.Errorf("%w: %w", ErrWatch, err), Start: time.Now()})
			debounce.Reset(w.opts.Debounce) // events may have been lost: check the file
		case <-debounce.C:
			w.reload(ctx, File)
			if w.fs != nil {
				_ = w.rewatch() // a missing directory is retried at the next check
			}
		}
	}
}

// reload reads the file and hands it to Reload: always for a signal, and for a
// file event only when the content's hash differs from what Reload last saw.
func (w *Watcher) reload(ctx context.Context, t Trigger) {
	start := time.Now()
	data, err := read(w.opts.Path)
	if err != nil {
		if t == Signal || !w.failing { // file events report a broken file once
			w.opts.Report(Result{Trigger: t, Err: err, Start: start, Duration: time.Since(start)})
		}
		w.failing = true
		w.checked(false)
		return
	}
	w.failing = false
	sum := sha256.Sum256(data)
	if t == File && sum == w.last {
		w.checked(false)
		return
	}
	w.last = sum
	err = w.opts.Reload(ctx, data)
	w.opts.Report(Result{Trigger: t, Err: err, Start: start, Duration: time.Since(start)})
	w.checked(true)
}

func (w *Watcher) checked(changed bool) {
	if w.onCheck != nil {
		w.onCheck(changed)
	}
}

// read returns the file's content through its symlinks, bounded by MaxBytes.
func read(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	if len(data) > MaxBytes {
		return nil, fmt.Errorf("reading config %s: %w (over %d bytes)", path, ErrTooLarge, MaxBytes)
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("reading config %s: %w", path, ErrEmpty)
	}
	return data, nil
}

// rewatch watches the directory of the path as given and the directory of its
// resolved target (a symlinked file edited in place changes only the latter), and
// drops directories no longer on that list.
func (w *Watcher) rewatch() error {
	want := map[string]bool{filepath.Dir(w.opts.Path): true}
	if real, err := filepath.EvalSymlinks(w.opts.Path); err == nil {
		want[filepath.Dir(real)] = true
	}
	var errs []error
	for d := range want {
		if w.dirs[d] {
			continue
		}
		if err := w.fs.Add(d); err != nil {
			errs = append(errs, fmt.Errorf("watching %s: %w", d, err))
			continue
		}
		w.dirs[d] = true
	}
	for d := range w.dirs {
		if !want[d] {
			_ = w.fs.Remove(d) // fails when the directory is already gone: fine
			delete(w.dirs, d)
		}
	}
	return errors.Join(errs...)
}
