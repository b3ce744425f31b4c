package reload

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// These tests use real inotify events, so they cannot run on synctest's clock:
// they synchronise on the Reload callback and the check hook through channels. The
// timeout is a failure guard, never a synchronisation.
const guard = 10 * time.Second

type watchHarness struct {
	reloads chan string
	checks  chan bool // every debounced check: whether it reloaded
}

// watch runs a Watcher with Watch on over path until the test ends.
// loaded, when given, is Options.Loaded.
func watch(t *testing.T, path string, loaded ...[]byte) *watchHarness {
	t.Helper()
	h := &watchHarness{reloads: make(chan string, 16), checks: make(chan bool, 64)}
	var baseline []byte
	if len(loaded) > 0 {
		baseline = loaded[0]
	}
	w, err := New(Options{Path: path, Watch: true, Debounce: 20 * time.Millisecond, Loaded: baseline,
		Reload: func(_ context.Context, data []byte) error { h.reloads <- string(data); return nil }})
	if err != nil {
		t.Fatal(err)
	}
	w.onCheck = func(changed bool) { h.checks <- changed }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return h
}

// await waits for a reload with the content want. A reload of an intermediate
// state (a check that fell between two steps of a save) is skipped over: which
// states a real file system shows is up to the kernel and the scheduler.
func (h *watchHarness) await(t *testing.T, want string) {
	t.Helper()
	timeout := time.After(guard)
	for {
		select {
		case s := <-h.reloads:
			if s == want {
				return
			}
		case <-timeout:
			t.Fatalf("no reload with %q", want)
		}
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

func rename(t *testing.T, from, to string) {
	t.Helper()
	if err := os.Rename(from, to); err != nil {
		t.Fatal(err)
	}
}

func TestEditorAtomicRename(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "llmrouter.yaml")
	writeFile(t, path, "v1")
	h := watch(t, path)
	writeFile(t, filepath.Join(dir, ".llmrouter.yaml.swp"), "v2") // what vim, VS Code, sed -i do
	rename(t, filepath.Join(dir, ".llmrouter.yaml.swp"), path)
	h.await(t, "v2")
	writeFile(t, filepath.Join(dir, "tmp"), "v3") // and again: the watch survived the first rename
	rename(t, filepath.Join(dir, "tmp"), path)
	h.await(t, "v3")
}

func TestInPlaceWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "llmrouter.yaml")
	writeFile(t, path, "v1")
	h := watch(t, path)
	writeFile(t, path, "v2")
	h.await(t, "v2")
}

// TestConfigMapSymlinkSwap builds the layout the kubelet makes for a mounted
// ConfigMap and updates it the way the kubelet does: a new timestamped directory,
// a ..data_tmp symlink to it renamed over ..data, the old directory removed.
//
//	config.yaml -> ..data/config.yaml
//	..data      -> ..2026_01_01_00_00_00.1
func TestConfigMapSymlinkSwap(t *testing.T) {
	mount := t.TempDir()
	v1 := filepath.Join(mount, "..2026_01_01_00_00_00.1")
	if err := os.Mkdir(v1, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(v1, "config.yaml"), "v1")
	symlink(t, filepath.Base(v1), filepath.Join(mount, "..data"))
	symlink(t, filepath.Join("..data", "config.yaml"), filepath.Join(mount, "config.yaml"))
	h := watch(t, filepath.Join(mount, "config.yaml"))

	v2 := filepath.Join(mount, "..2026_01_01_00_05_00.2")
	if err := os.Mkdir(v2, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(v2, "config.yaml"), "v2")
	symlink(t, filepath.Base(v2), filepath.Join(mount, "..data_tmp"))
	rename(t, filepath.Join(mount, "..data_tmp"), filepath.Join(mount, "..data"))
	if err := os.RemoveAll(v1); err != nil {
		t.Fatal(err)
	}
	h.await(t, "v2")
}

// TestSymlinkedFileEditedInPlace: the config path is a symlink into another
// directory, and the target is edited there; only a watch on the target's
// directory sees it.
func TestSymlinkedFileEditedInPlace(t *testing.T) {
	real := filepath.Join(t.TempDir(), "real.yaml")
	writeFile(t, real, "v1")
	link := filepath.Join(t.TempDir(), "llmrouter.yaml")
	symlink(t, real, link)
	h := watch(t, link)
	writeFile(t, real, "v2")
	h.await(t, "v2")
}

// TestRewriteWithSameContentDoesNotReload: events whose content is unchanged are
// checked and skipped; the next real change reloads.
func TestRewriteWithSameContentDoesNotReload(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "llmrouter.yaml")
	writeFile(t, path, "v1")
	h := watch(t, path)
	writeFile(t, filepath.Join(dir, "tmp"), "v1")
	rename(t, filepath.Join(dir, "tmp"), path)
	select {
	case changed := <-h.checks:
		if changed {
			t.Fatal("the same content was reloaded")
		}
	case <-time.After(guard):
		t.Fatal("no check after the rewrite")
	}
	writeFile(t, path, "v2")
	h.await(t, "v2")
}

// TestLoadedIsTheBaseline: the file changed between the server's load and the
// watcher's start; the first event reloads it, though New read it as it is now.
func TestLoadedIsTheBaseline(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "llmrouter.yaml")
	writeFile(t, path, "v2")
	h := watch(t, path, []byte("v1"))
	writeFile(t, filepath.Join(dir, "tmp"), "v2")
	rename(t, filepath.Join(dir, "tmp"), path)
	h.await(t, "v2")
}

func TestWatchOfMissingDirectoryFails(t *testing.T) {
	_, err := New(Options{Path: filepath.Join(t.TempDir(), "no-such-dir", "llmrouter.yaml"), Watch: true,
		Reload: func(context.Context, []byte) error { return nil }})
	if err == nil {
		t.Fatal("New watched a directory that does not exist")
	}
}
