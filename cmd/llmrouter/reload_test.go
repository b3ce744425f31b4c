package main

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/llmrouter/llmrouter/internal/config"
)

// Hot reload, driven from outside like an operator: the real binary, SIGHUP or
// a rewritten file, and the reload's outcome read from its log.

const listenOnly = "server:\n  listen: {{LISTEN}}\n"

// routes renders a models list of openai deployments: name, upstream URL pairs.
func routes(pairs ...string) string {
	var b strings.Builder
	b.WriteString("models:\n")
	for i := 0; i+1 < len(pairs); i += 2 {
		fmt.Fprintf(&b, "  - {name: %s, provider: openai, endpoint: '%s/v1'}\n", pairs[i], pairs[i+1])
	}
	return b.String()
}

type callResult struct {
	status int
	body   string
	err    error
}

// A stream in flight across a reload finishes on the config it started with
// (upstream A streams to the end), a request after the reload takes the new
// route (upstream B), the endpoint both configs use keeps its warm connection,
// and once the stream is over the replaced config's connections to A, which
// the new config no longer uses, are closed.
func TestReloadSwapsRoutesWhileAStreamFinishesOnTheOldConfig(t *testing.T) {
	a, b, c := newFakeUp(t, "A"), newFakeUp(t, "B"), newFakeUp(t, "C")
	r := startReloadRouter(t, listenOnly+routes("gpt-4o", a.URL, "gpt-keep", c.URL))
	if st, body := r.call(t, "gpt-keep", "hi", false); st != 200 || answer(body) != "from C auth=" {
		t.Fatalf("before the reload: %d %s", st, body)
	}
	streamed := make(chan callResult, 1)
	go func() {
		st, body, err := chatCall(http.DefaultClient, r.addr, "gpt-4o", "hold", true)
		streamed <- callResult{st, body, err}
	}()
	awaitHeld(t, a)
	// A second connection to A, idle when the reload comes.
	if st, body := r.call(t, "gpt-4o", "hi", false); st != 200 || answer(body) != "from A auth=" {
		t.Fatalf("before the reload: %d %s", st, body)
	}

	r.write(t, listenOnly+routes("gpt-4o", b.URL, "gpt-keep", c.URL))
	line := r.reload(t, msgReloaded)
	if got := jsonStrings(line.Get("changes.models_changed")); !slices.Equal(got, []string{"gpt-4o"}) || line.Get("trigger").String() != "signal" {
		t.Errorf("reload line: %s", line.Raw)
	}
	if st, body := r.call(t, "gpt-4o", "hi", false); st != 200 || answer(body) != "from B auth=" {
		t.Errorf("after the reload: %d %s, want B's answer", st, body)
	}
	if st, body := r.call(t, "gpt-keep", "hi", false); st != 200 || answer(body) != "from C auth=" {
		t.Errorf("unchanged route after the reload: %d %s", st, body)
	}
	if n := c.conns.Load(); n != 1 {
		t.Errorf("upstream C accepted %d connections; want its one connection kept warm across the reload", n)
	}
	if resp, err := http.Get("http://" + r.addr + "/readyz"); err != nil || resp.StatusCode != 200 {
		t.Errorf("/readyz after a reload: %v %v", resp, err)
	}

	close(a.release)
	var res callResult
	select {
	case res = <-streamed:
	case <-time.After(awaitGuard):
		t.Fatal("the stream never ended")
	}
	if res.err != nil || res.status != 200 || !complete(res.body) || answer(res.body) != "from A auth= part 1 part 2" {
		t.Errorf("the stream across the reload: %d %v\n%s", res.status, res.err, res.body)
	}
	if na, nb := a.requests.Load(), b.requests.Load(); na != 2 || nb != 1 {
		t.Errorf("requests: A %d, B %d; want 2 and 1", na, nb)
	}
	// Both connections to A close: the replaced gateway was closed when its
	// last request (the stream) ended, and no config uses A any more.
	awaitClosed(t, a)
	awaitClosed(t, a)
}

// An invalid file changes nothing: the running config keeps serving, and every
// problem is logged with its line, a key in the file never shown. A config that
// parses but does not compile is refused the same way. The next valid file
// applies.
func TestInvalidReloadKeepsTheRunningConfig(t *testing.T) {
	const key = "sk-canary-invalid-0123456789abcdef"
	a, b := newFakeUp(t, "A"), newFakeUp(t, "B")
	r := startReloadRouter(t, listenOnly+routes("gpt-4o", a.URL))
	r.write(t, listenOnly+`models:
  - name: gpt-4o
    provider: opena
    endpoint: `+b.URL+`/v1
    api_key: `+key+`
    typo_key: 1
  - name: gpt-x
    provider: openai
    endpoint: ${RELOAD_TEST_UNSET_VAR}
  - name: gpt-y
    provider: openai
    endpoint: `+b.URL+`/v1
    api_key: [`+key+`]
`)
	line := r.reload(t, msgFailed)
	problems := jsonStrings(line.Get("problems"))
	for i, want := range []string{"line 5: ", "line 8: ", "line 11: ", "line 15: "} {
		if i >= len(problems) || !strings.HasPrefix(problems[i], want) {
			t.Errorf("problem %d: want %q…; problems: %q", i, want, problems)
		}
	}
	if st, body := r.call(t, "gpt-4o", "hi", false); st != 200 || answer(body) != "from A auth=" {
		t.Errorf("after an invalid reload: %d %s, want the running config's A", st, body)
	}

	r.write(t, listenOnly+"models:\n  - name: gpt-4o\n    provider: openai\n    endpoint: "+b.URL+"/v1\n"+
		"    api_key: "+key+"\n    transforms:\n      - drop: '$..*..*[?(@..x)]'\n")
	line = r.reload(t, msgFailed)
	if p := jsonStrings(line.Get("problems")); len(p) != 1 || !strings.Contains(p[0], "line 9") {
		t.Errorf("compile failure problems: %q", p)
	}
	if st, body := r.call(t, "gpt-4o", "hi", false); st != 200 || answer(body) != "from A auth=" {
		t.Errorf("after a config that does not compile: %d %s", st, body)
	}

	r.write(t, listenOnly+routes("gpt-4o", b.URL))
	r.reload(t, msgReloaded)
	if st, body := r.call(t, "gpt-4o", "hi", false); st != 200 || answer(body) != "from B auth=" {
		t.Errorf("after the fixed file: %d %s", st, body)
	}
	if strings.Contains(r.log.String(), key) {
		t.Errorf("the key of an invalid file shows in the log:\n%s", r.log.String())
	}
	if b.requests.Load() != 1 {
		t.Errorf("B got %d requests before its config was valid", b.requests.Load()-1)
	}
}

// A key a reload adds is masked in the log from its first use: the very next
// request carries the new router key and reaches an upstream with the new model
// key, with every header and body logged, the key written in the prompt, a
// header and the upstream's echo, and a request the router refuses before
// choosing an upstream (where only the log's own list of keys can mask it).
func TestKeyAddedByReloadIsMaskedFromItsFirstUse(t *testing.T) {
	const modelKey, routerKey = "sk-canary-model-0123456789abcdef", "rk-canary-router-0123456789abcdef"
	a := newFakeUp(t, "A")
	logAll := "logging:\n  request_headers: true\n  request_body: true\n  response_body: true\n"
	r := startReloadRouter(t, listenOnly+logAll+routes("gpt-4o", a.URL))
	r.write(t, listenOnly+"  api_keys: ["+routerKey+"]\n"+logAll+
		"models:\n  - {name: gpt-4o, provider: openai, endpoint: '"+a.URL+"/v1', api_key: "+modelKey+"}\n")
	r.reload(t, msgReloaded)

	both := modelKey + " " + routerKey
	auth := []string{"Authorization", "Bearer " + routerKey, "X-Note", both}
	for _, stream := range []bool{false, true} {
		st, body := r.call(t, "gpt-4o", "say "+both, stream, auth...)
		if st != 200 || !strings.Contains(answer(body), "auth=Bearer "+modelKey) {
			t.Errorf("stream %v: %d %s", stream, st, body)
		}
	}
	if st, body := r.call(t, "no-such-model", "say "+both, false, auth...); st != 404 {
		t.Errorf("unknown model: %d %s", st, body)
	}
	if got := a.auths(); len(got) != 2 || got[1] != "Bearer "+modelKey {
		t.Errorf("upstream saw Authorization %q", got)
	}
	// Every request has its access-log line; the keys show in none of them.
	for range 3 {
		r.log.awaitRequest(t, "/v1/chat/completions")
	}
	log := r.log.String()
	for _, k := range []string{modelKey, routerKey} {
		if strings.Contains(log, k) {
			t.Errorf("key %s shows in the log:\n%s", k, log)
		}
		if !strings.Contains(log, config.Mask(k)) {
			t.Errorf("the log never shows the mask of %s: the test did not reach it", k)
		}
	}
}

// With reload.watch, replacing the file the way an editor saves it (a new file
// renamed over the old) reloads it.
func TestFileWatchReloadsOnAtomicRename(t *testing.T) {
	a, b := newFakeUp(t, "A"), newFakeUp(t, "B")
	watch := "reload:\n  watch: true\n"
	r := startReloadRouter(t, listenOnly+watch+routes("gpt-4o", a.URL))
	tmp := filepath.Join(filepath.Dir(r.path), ".llmrouter.yaml.tmp")
	if err := os.WriteFile(tmp, []byte(strings.ReplaceAll(listenOnly+watch+routes("gpt-4o", b.URL), "{{LISTEN}}", r.addr)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, r.path); err != nil {
		t.Fatal(err)
	}
	line := r.log.awaitReload(t, msgReloaded)
	if line.Get("trigger").String() != "file" {
		t.Errorf("reload line: %s", line.Raw)
	}
	if st, body := r.call(t, "gpt-4o", "hi", false); st != 200 || answer(body) != "from B auth=" {
		t.Errorf("after the file was replaced: %d %s", st, body)
	}
}

// SIGHUP with the file unchanged is a reload that does nothing and says so; a
// file whose only change is a comment is reloaded with no change listed.
func TestSIGHUPWithAnUnchangedFileIsANoOp(t *testing.T) {
	a := newFakeUp(t, "A")
	r := startReloadRouter(t, listenOnly+routes("gpt-4o", a.URL))
	line := r.reload(t, msgUnchanged)
	if line.Get("trigger").String() != "signal" {
		t.Errorf("no-op reload line: %s", line.Raw)
	}
	r.write(t, "# a comment\n"+listenOnly+routes("gpt-4o", a.URL))
	line = r.reload(t, msgReloaded)
	if ch := line.Get("changes"); ch.Exists() && ch.Raw != "{}" {
		t.Errorf("a comment changed %s", ch.Raw)
	}
	if st, body := r.call(t, "gpt-4o", "hi", false); st != 200 || answer(body) != "from A auth=" {
		t.Errorf("after no-op reloads: %d %s", st, body)
	}
}

// Serving the embedded default, SIGHUP has no file to reload: it says so and the
// router goes on serving (SIGHUP's default action would have ended it).
func TestSIGHUPOnTheEmbeddedDefault(t *testing.T) {
	addr := freeAddr(t)
	log := newLogTail()
	cmd := exec.Command(binary)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "LLMROUTER_SERVER_LISTEN="+addr, "LLMROUTER_CONFIG=", "OPENAI_API_KEY=", "ANTHROPIC_API_KEY=")
	cmd.Stderr = log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	waitHealthy(t, addr)
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	log.awaitReload(t, msgUnchanged)
	if resp, err := http.Get("http://" + addr + "/readyz"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("after SIGHUP: %v %v", resp, err)
	}
}

// Settings a reload cannot apply are named in the log as needing a restart and
// keep their running values; the rest of the change applies.
func TestReloadReportsSettingsThatNeedARestart(t *testing.T) {
	a, b := newFakeUp(t, "A"), newFakeUp(t, "B")
	r := startReloadRouter(t, listenOnly+"  max_connections: 64\n"+routes("gpt-4o", a.URL))
	elsewhere := freeAddr(t)
	r.write(t, "server:\n  listen: "+elsewhere+"\n  max_connections: 32\nlogging:\n  format: text\n"+routes("gpt-4o", b.URL))
	restart := []string{"server.listen", "server.max_connections", "logging.format"}
	line := r.reload(t, msgReloaded)
	if got := jsonStrings(line.Get("changes.restart_needed")); !slices.Equal(got, restart) {
		t.Errorf("changes.restart_needed = %q", got)
	}
	line = r.log.await(t, msgRestart)
	if got := jsonStrings(line.Get("restart_needed")); !slices.Equal(got, restart) {
		t.Errorf("restart_needed = %q", got)
	}
	if st, body := r.call(t, "gpt-4o", "hi", false); st != 200 || answer(body) != "from B auth=" {
		t.Errorf("on the running address after the reload: %d %s", st, body)
	}
	// Still JSON: the format is a restart's.
	if line := r.log.awaitRequest(t, "/v1/chat/completions"); line.Get("status").Int() != 200 {
		t.Errorf("access line after the reload: %s", line.Raw)
	}
	// Back to the running values: nothing needs a restart any more.
	r.write(t, listenOnly+"  max_connections: 64\n"+routes("gpt-4o", b.URL))
	line = r.reload(t, msgReloaded)
	if ch := line.Get("changes"); ch.Get("restart_needed").Exists() {
		t.Errorf("reverting to the running values: %s", ch.Raw)
	}
}

// loadTally is what one load worker saw.
type loadTally struct {
	requests int
	failures []string // the first few
}

func (l *loadTally) fail(format string, args ...any) {
	if len(l.failures) < 5 {
		l.failures = append(l.failures, fmt.Sprintf(format, args...))
	}
}

// Reloads under load drop nothing: workers send requests back to back (streams
// and not, on a route each reload moves between A and B and on one it leaves on
// C) for at least three seconds while the file is rewritten and reloaded over
// and over; every request gets a complete 200, /readyz stays 200, and the
// unchanged route keeps its connections warm across every swap.
func TestReloadUnderLoadDropsNothing(t *testing.T) {
	const workers, minReloads, minLoad = 8, 20, 3 * time.Second
	a, b, c := newFakeUp(t, "A"), newFakeUp(t, "B"), newFakeUp(t, "C")
	configs := []string{listenOnly + routes("gpt-4o", a.URL, "gpt-keep", c.URL), listenOnly + routes("gpt-4o", b.URL, "gpt-keep", c.URL)}
	r := startReloadRouter(t, configs[0])
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers + 1}, Timeout: awaitGuard}
	defer client.CloseIdleConnections()
	stop := make(chan struct{})
	tallies := make(chan loadTally, workers+1)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() { tallies <- loadWorker(client, r.addr, w, stop) })
	}
	wg.Go(func() { tallies <- readyWorker(client, r.addr, stop) })

	start, reloads := time.Now(), 0
	for ; reloads < minReloads || time.Since(start) < minLoad; reloads++ { // a load duration, not a synchronisation
		r.write(t, configs[(reloads+1)%2])
		r.reload(t, msgReloaded)
	}
	close(stop)
	wg.Wait()
	close(tallies)
	total := 0
	for tl := range tallies {
		total += tl.requests
		for _, f := range tl.failures {
			t.Error(f)
		}
	}
	t.Logf("%d requests, %d reloads in %v; upstream connections: A %d, B %d, C %d",
		total, reloads, time.Since(start).Round(time.Millisecond), a.conns.Load(), b.conns.Load(), c.conns.Load())
	if a.requests.Load() == 0 || b.requests.Load() == 0 || c.requests.Load() == 0 {
		t.Errorf("requests A %d, B %d, C %d: the load did not span the reloads", a.requests.Load(), b.requests.Load(), c.requests.Load())
	}
	// At most one connection per concurrent request, and some slack for a dial
	// that lost its race to an idle connection: never one per reload.
	if n := c.conns.Load(); n > 2*workers {
		t.Errorf("the unchanged route opened %d connections over %d reloads", n, reloads)
	}
}

// loadWorker sends chat requests until stop: streaming every other pair, to the
// route reloads move and to the one they keep.
func loadWorker(client *http.Client, addr string, w int, stop <-chan struct{}) loadTally {
	var tl loadTally
	for n := w; ; n++ {
		select {
		case <-stop:
			return tl
		default:
		}
		model, stream := []string{"gpt-4o", "gpt-keep"}[n%2], n/2%2 == 1
		status, body, err := chatCall(client, addr, model, "hi", stream)
		tl.requests++
		if err != nil || status != 200 || !complete(body) || !strings.HasPrefix(answer(body), "from ") {
			tl.fail("%s stream=%v: %d %v %q", model, stream, status, err, body)
		}
	}
}

// readyWorker polls /readyz until stop; every answer must be 200.
func readyWorker(client *http.Client, addr string, stop <-chan struct{}) loadTally {
	var tl loadTally
	for {
		select {
		case <-stop:
			return tl
		default:
		}
		resp, err := client.Get("http://" + addr + "/readyz")
		if err != nil {
			tl.fail("/readyz: %v", err)
			continue
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			tl.fail("/readyz: %d during reloads", resp.StatusCode)
		}
	}
}
