package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// requireNginx finds the installed nginx. Without one, the test goes on without
// its nginx part (and says so), unless LLMBENCH_REQUIRE_NGINX=1, which CI sets
// after installing nginx-light: then a missing nginx fails the test.
func requireNginx(t *testing.T) (nginxInfo, bool) {
	t.Helper()
	n, err := findNginx(context.Background())
	if err == nil {
		return n, true
	}
	if os.Getenv("LLMBENCH_REQUIRE_NGINX") == "1" {
		t.Fatalf("LLMBENCH_REQUIRE_NGINX=1 but nginx cannot be used: %v", err)
	}
	t.Logf("the nginx part of this test did not run: %v (set LLMBENCH_REQUIRE_NGINX=1 to make this a failure)", err)
	return nginxInfo{}, false
}

func TestParseNginxV(t *testing.T) {
	out := "nginx version: nginx/1.22.1\nbuilt with OpenSSL 3.0.20\nconfigure arguments: --prefix=/usr/share/nginx " +
		"--without-http_uwsgi_module --without-http_scgi_module --with-threads\n"
	n, err := parseNginxV("/usr/sbin/nginx", out)
	if err != nil {
		t.Fatal(err)
	}
	want := nginxInfo{path: "/usr/sbin/nginx", version: "1.22.1", without: map[string]bool{"http_uwsgi_module": true, "http_scgi_module": true}}
	if diff := cmp.Diff(want, n, cmp.AllowUnexported(nginxInfo{})); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, tt := range []struct {
		want []int
		ok   bool
	}{{[]int{1, 19, 5}, true}, {[]int{1, 22, 1}, true}, {[]int{1, 22, 2}, false}, {[]int{1, 23}, false}, {[]int{2}, false}} {
		if got := n.atLeast(tt.want...); got != tt.ok {
			t.Errorf("1.22.1 atLeast(%v) = %v, want %v", tt.want, got, tt.ok)
		}
	}
	if _, err := parseNginxV("x", "something else"); err == nil {
		t.Error("output without a version must be an error")
	}
}

// The config is what the method promises (one process, or workers under a
// master; keep-alive both ways; unbuffered responses; nothing outside the temp
// dir), and the installed nginx accepts it (nginx -t).
func TestNginxConfig(t *testing.T) {
	for _, tt := range []struct {
		name    string
		workers int
		root    bool
		info    nginxInfo
		want    []string
		notWant []string
	}{
		{name: "pinned: one process", workers: 1, root: true, info: nginxInfo{version: "1.22.1", without: map[string]bool{}},
			want:    []string{"master_process off;", "worker_processes 1;", "user root;", "uwsgi_temp_path DIR/uwsgi_temp;"},
			notWant: []string{"master_process on;"}},
		{name: "unpinned: a worker per CPU", workers: 2, info: nginxInfo{version: "1.22.1", without: map[string]bool{"http_uwsgi_module": true}},
			want:    []string{"master_process on;", "worker_processes 2;"},
			notWant: []string{"master_process off;", "user root;", "uwsgi_temp_path"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s := nginxSetup{dir: dir, listen: "127.0.0.1:18080", upstream: "127.0.0.1:18081", workers: tt.workers, connections: 4096, root: tt.root}
			conf := strings.ReplaceAll(tt.info.nginxConfig(s), dir, "DIR")
			want := append([]string{
				"daemon off;", "pid DIR/nginx.pid;", "error_log stderr warn;", "worker_connections 4096;",
				"access_log off;", "client_body_temp_path DIR/client_body_temp;", "proxy_temp_path DIR/proxy_temp;",
				"server 127.0.0.1:18081;", "keepalive 1024;", "keepalive_requests 1000000;",
				"listen 127.0.0.1:18080 backlog=4096;", "location = /healthz { return 200 ok; }",
				"proxy_pass http://fake-upstream;", "proxy_http_version 1.1;", `proxy_set_header Connection "";`, "proxy_buffering off;",
			}, tt.want...)
			for _, w := range want {
				if !strings.Contains(conf, w) {
					t.Errorf("config lacks %q:\n%s", w, conf)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(conf, w) {
					t.Errorf("config has %q:\n%s", w, conf)
				}
			}
			for line := range strings.Lines(conf) {
				f := strings.Fields(line)
				if len(f) < 2 || !(slices.Contains([]string{"pid", "error_log", "access_log"}, f[0]) || strings.HasSuffix(f[0], "_temp_path")) {
					continue
				}
				if arg := strings.TrimSuffix(f[1], ";"); arg != "stderr" && arg != "off" && !strings.HasPrefix(arg, "DIR/") {
					t.Errorf("a file outside the temp dir: %q", strings.TrimSpace(line))
				}
			}
		})
	}
	n, ok := requireNginx(t)
	if !ok {
		return
	}
	for _, workers := range []int{1, 2} {
		dir := t.TempDir()
		argv, err := n.writeNginx(nginxSetup{dir: dir, listen: "127.0.0.1:18080", upstream: "127.0.0.1:18081",
			workers: workers, connections: 4096, root: os.Geteuid() == 0})
		if err != nil {
			t.Fatal(err)
		}
		if err := n.testConfig(context.Background(), argv); err != nil {
			t.Errorf("%d workers: %v", workers, err)
		}
	}
}

// nginx with workers under a master, as an unpinned run starts it: it proxies,
// its CPU and memory are summed over the master and the workers, and stop
// leaves none of them behind.
func TestNginxWorkersUnderAMaster(t *testing.T) {
	n, ok := requireNginx(t)
	if !ok {
		return
	}
	u, err := startUpstream()
	if err != nil {
		t.Fatal(err)
	}
	defer u.close()
	listen, err := freeAddr()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	argv, err := n.writeNginx(nginxSetup{dir: dir, listen: listen, upstream: strings.TrimPrefix(u.url, "http://"),
		workers: 2, connections: 4096, root: os.Geteuid() == 0})
	if err != nil {
		t.Fatal(err)
	}
	c, err := startChild(context.Background(), childSpec{name: "nginx", label: "nginx", argv: argv, listen: listen, cpu: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.stop()
	hc := newClient(5 * time.Second)
	defer hc.CloseIdleConnections()
	if _, err := post(context.Background(), hc, openAI, c.url+openAI.path(), chatBody(openAI, "gpt-4o", 1024, false)); err != nil {
		t.Fatalf("through nginx: %v", err)
	}
	s, _, err := openStream(context.Background(), hc, openAI, c.url+openAI.path()+"?events=3", chatBody(openAI, "gpt-4o", 1024, true))
	if err != nil {
		t.Fatalf("stream through nginx: %v", err)
	}
	if err := s.drain(); err != nil {
		t.Errorf("stream through nginx: %v", err)
	}
	pids, err := c.tree()
	if err != nil || len(pids) < 2 {
		t.Fatalf("tree = %v, %v: want the master and its workers", pids, err)
	}
	if _, err := c.cpu(); err != nil {
		t.Error(err)
	}
	rss, err := c.memory("VmRSS")
	if one, _ := procStatusBytes(c.pid(), "VmRSS"); err != nil || rss <= one {
		t.Errorf("VmRSS summed over %d processes = %d (%v), master alone %d", len(pids), rss, err, one)
	}
	c.stop()
	for _, pid := range pids {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
			if b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); bytes.Contains(b, []byte("nginx")) {
				t.Errorf("nginx process %d still runs after stop", pid)
			}
		}
	}
}

// A whole -quick run, both floor proxies and nginx (when installed) included:
// it exits 0, every scenario reports, the proxies ran on their own CPU, the
// floors and nginx have their rows and the router's CPU per request is judged
// against nginx's; afterwards no child is left and llmbench's own CPU mask is
// restored.
func TestQuickRun(t *testing.T) {
	_, haveNginx := requireNginx(t)
	fastFloor := buildFastFloor(t)
	cpusBefore, err := allowedCPUs()
	if err != nil {
		t.Fatal(err)
	}
	procsBefore := runtime.GOMAXPROCS(0)
	var out, errs bytes.Buffer
	if code := run([]string{"-quick", "-json", "-fasthttp-floor", fastFloor}, &out, &errs); code != 0 {
		t.Fatalf("exit status %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errs.String())
	}
	var rep report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if len(rep.Failures) > 0 {
		t.Errorf("failures: %v", rep.Failures)
	}
	bySc := map[string][]row{}
	for _, r := range rep.Rows {
		bySc[r.Scenario] = append(bySc[r.Scenario], r)
	}
	for _, sc := range []string{"1", "2", "3", "4", "5"} {
		if !slices.ContainsFunc(bySc[sc], func(r row) bool { return r.Router != nil && !strings.HasPrefix(r.Figure, "↳") }) {
			t.Errorf("scenario %s has no router row", sc)
		}
		if sc != "5" && !slices.ContainsFunc(bySc[sc], func(r row) bool { return strings.HasPrefix(r.Figure, "↳ reference proxy") }) {
			t.Errorf("scenario %s has no reference proxy row", sc)
		}
	}
	if !slices.ContainsFunc(bySc["5"], func(r row) bool { return strings.HasPrefix(r.Figure, "translated added p50") && r.Verdict != "" }) {
		t.Error("no judged translated-vs-direct row")
	}
	checkPinning(t, rep, cpusBefore, haveNginx)
	checkNginxRows(t, rep, bySc, haveNginx)
	checkFloorRows(t, bySc, haveNginx)

	if after, err := allowedCPUs(); err != nil || !slices.Equal(after, cpusBefore) {
		t.Errorf("CPU mask after the run = %v (%v), want %v restored", after, err, cpusBefore)
	}
	if got := runtime.GOMAXPROCS(0); got != procsBefore {
		t.Errorf("GOMAXPROCS after the run = %d, want %d restored", got, procsBefore)
	}
	if kids, err := descendants(os.Getpid()); err != nil || len(kids) > 0 {
		t.Errorf("processes left after the run: %v (%v)", kids, err)
	}
}

// checkPinning: with two CPUs or more, the report says every proxy was
// confined to the second one.
func checkPinning(t *testing.T, rep report, cpus []int, haveNginx bool) {
	t.Helper()
	if len(cpus) < 2 {
		if !strings.HasPrefix(rep.Settings.Pinning, "off") {
			t.Errorf("pinning on one CPU: %q", rep.Settings.Pinning)
		}
		return
	}
	procs := []string{"router", "reference", "floor", "fasthttp-floor"}
	if haveNginx {
		procs = append(procs, "nginx")
	}
	for _, p := range procs {
		if want := fmt.Sprintf("%s %d", p, cpus[1]); !strings.Contains(rep.Settings.Pinning, want) {
			t.Errorf("pinning %q does not show %q", rep.Settings.Pinning, want)
		}
	}
}

// checkNginxRows: nginx has a row under every figure the reference proxy has
// (scenarios 1-4), and the router's CPU per request is judged against it.
func checkNginxRows(t *testing.T, rep report, bySc map[string][]row, haveNginx bool) {
	t.Helper()
	i := slices.IndexFunc(bySc["2"], func(r row) bool { return r.Figure == "router CPU per request, max load" })
	if i < 0 {
		t.Fatal("no router CPU per request row at max load")
	}
	cpu := bySc["2"][i]
	if !haveNginx {
		if !strings.HasPrefix(rep.Settings.Nginx, "not measured") || cpu.Verdict != "" {
			t.Errorf("without nginx: settings %q, CPU verdict %q", rep.Settings.Nginx, cpu.Verdict)
		}
		return
	}
	if !strings.HasPrefix(rep.Settings.Nginx, "nginx/") {
		t.Errorf("settings.nginx = %q", rep.Settings.Nginx)
	}
	for _, sc := range []string{"1", "2", "3", "4"} {
		refs, ngx := 0, 0
		for _, r := range bySc[sc] {
			switch {
			case strings.HasPrefix(r.Figure, "↳ reference proxy"):
				refs++
			case strings.HasPrefix(r.Figure, "↳ nginx"):
				ngx++
				if r.Router == nil {
					t.Errorf("scenario %s: nginx row %q has no figure", sc, r.Figure)
				}
			}
		}
		if refs == 0 || ngx != refs {
			t.Errorf("scenario %s: %d nginx rows, %d reference proxy rows", sc, ngx, refs)
		}
	}
	if cpu.Baseline == nil || cpu.Ratio == nil || cpu.Verdict == "" || !strings.HasPrefix(cpu.Target, "≤ 2× nginx") {
		t.Errorf("CPU per request row not judged against nginx: %+v", cpu)
	}
}

// checkFloorRows: each floor proxy has a row under every figure the reference
// proxy has (scenarios 1-4), and at max load its CPU per request has nginx's as
// its baseline when nginx ran.
func checkFloorRows(t *testing.T, bySc map[string][]row, haveNginx bool) {
	t.Helper()
	for _, sc := range []string{"1", "2", "3", "4"} {
		n := map[string]int{}
		for _, r := range bySc[sc] {
			for _, label := range []string{"reference proxy", "net/http floor", "fasthttp floor"} {
				if strings.HasPrefix(r.Figure, "↳ "+label+",") {
					n[label]++
					if r.Router == nil {
						t.Errorf("scenario %s: %q has no figure", sc, r.Figure)
					}
				}
			}
		}
		if ref := n["reference proxy"]; ref == 0 || n["net/http floor"] != ref || n["fasthttp floor"] != ref {
			t.Errorf("scenario %s: rows per side %v, want as many for each floor as for the reference proxy", sc, n)
		}
	}
	router := bySc["2"][slices.IndexFunc(bySc["2"], func(r row) bool { return r.Figure == "router CPU per request, max load" })]
	if !strings.Contains(router.Note, "router ÷ net/http floor: ") {
		t.Errorf("the router's CPU row does not compare it with the net/http floor: %q", router.Note)
	}
	if !haveNginx {
		return
	}
	i := slices.IndexFunc(bySc["2"], func(r row) bool { return r.Figure == "↳ net/http floor, same figure" && r.Unit == "µs" })
	if i < 0 || bySc["2"][i].Baseline == nil || bySc["2"][i].Ratio == nil {
		t.Errorf("no net/http floor CPU per request row with nginx's as baseline: %v", i)
	}
}

// startOn confines the child it starts, and only it: the child sees one CPU,
// and llmbench's threads keep their mask.
func TestStartOnConfinesOnlyTheChild(t *testing.T) {
	cpus, err := allowedCPUs()
	if err != nil {
		t.Fatal(err)
	}
	target := cpus[len(cpus)-1]
	cmd := exec.Command("grep", "Cpus_allowed_list", "/proc/self/status")
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := startOn(cmd.Start, target); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Fields(out.String()), []string{"Cpus_allowed_list:", fmt.Sprint(target)}; !slices.Equal(got, want) {
		t.Errorf("child: %q, want %q", got, want)
	}
	checkThreads(t, cpus)
}

// pinSelf moves every thread, and its undo moves them all back.
func TestPinSelfAndUndo(t *testing.T) {
	cpus, err := allowedCPUs()
	if err != nil {
		t.Fatal(err)
	}
	undo, err := pinSelf(cpus[0])
	if err != nil {
		t.Fatal(err)
	}
	checkThreads(t, cpus[:1])
	if got := runtime.GOMAXPROCS(0); got != 1 {
		t.Errorf("GOMAXPROCS pinned = %d, want 1", got)
	}
	undo()
	checkThreads(t, cpus)
}

// checkThreads asserts that every thread of this process may run on exactly cpus.
func checkThreads(t *testing.T, cpus []int) {
	t.Helper()
	tids, err := threadIDs()
	if err != nil {
		t.Fatal(err)
	}
	for _, tid := range tids {
		b, err := os.ReadFile(filepath.Join("/proc/self/task", fmt.Sprint(tid), "status"))
		if err != nil {
			continue // exited meanwhile
		}
		for line := range strings.Lines(string(b)) {
			if rest, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok {
				if got := expandCPUList(t, strings.TrimSpace(rest)); !slices.Equal(got, cpus) {
					t.Errorf("thread %d may run on %v, want %v", tid, got, cpus)
				}
			}
		}
	}
}

// expandCPUList turns "0-2,5" into [0 1 2 5].
func expandCPUList(t *testing.T, s string) []int {
	t.Helper()
	var out []int
	for _, part := range strings.Split(s, ",") {
		var lo, hi int
		if _, err := fmt.Sscanf(part, "%d-%d", &lo, &hi); err != nil {
			if _, err := fmt.Sscanf(part, "%d", &lo); err != nil {
				t.Fatalf("cpu list %q: %v", s, err)
			}
			hi = lo
		}
		for i := lo; i <= hi; i++ {
			out = append(out, i)
		}
	}
	return out
}

func TestParseStatPPID(t *testing.T) {
	if got, err := parseStatPPID("77 (my (odd) proc) S 42 77 77 0"); err != nil || got != 42 {
		t.Errorf("got %d, %v; want 42", got, err)
	}
	if _, err := parseStatPPID("77 (x)"); err == nil {
		t.Error("a line without a parent pid must be an error")
	}
	kids, err := descendants(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("cat")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); _ = cmd.Wait() }()
	after, err := descendants(os.Getpid())
	if err != nil || !slices.Contains(after, cmd.Process.Pid) || len(after) != len(kids)+1 {
		t.Errorf("descendants %v -> %v (%v), want the cat child %d added", kids, after, err, cmd.Process.Pid)
	}
}

// Without nginx the run goes on: startNginx starts nothing, returns no error,
// and the report says why there is no nginx column.
func TestNoNginxIsANoteNotAnError(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	saved := nginxBinaries
	nginxBinaries = []string{filepath.Join(t.TempDir(), "nginx")}
	defer func() { nginxBinaries = saved }()
	if _, err := findNginx(context.Background()); !errors.Is(err, errNoNginx) {
		t.Fatalf("findNginx = %v, want errNoNginx", err)
	}
	for _, on := range []bool{true, false} {
		b := &bench{opt: options{nginx: on, streams: 10, concurrency: 4}, rep: &report{}}
		if err := b.startNginx(context.Background(), t.TempDir(), -1); err != nil || b.ngx != nil {
			t.Fatalf("-nginx=%v: err %v, child %v", on, err, b.ngx)
		}
		want := map[bool]string{true: "not measured: " + errNoNginx.Error(), false: "off (-nginx=false)"}[on]
		if b.rep.Settings.Nginx != want {
			t.Errorf("-nginx=%v: note %q, want %q", on, b.rep.Settings.Nginx, want)
		}
	}
}
