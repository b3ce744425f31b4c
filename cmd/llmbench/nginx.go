package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
)

// nginx is the physical limit of one proxy hop that issue 14 measures the
// router against: a plain proxy_pass with upstream keepalive and unbuffered
// responses (as SSE needs), no routing, no body parsing. llmbench writes its
// config into the run's temporary directory and runs it as a child process like
// the router, when it is installed (Debian: apt-get install -y nginx-light).

// errNoNginx is returned by findNginx when no nginx binary is installed.
var errNoNginx = errors.New("nginx is not installed (apt-get install -y nginx-light)")

// nginxBinaries are tried after $PATH, which often lacks /usr/sbin for non-root users.
var nginxBinaries = []string{"/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx"}

// nginxInfo is what `nginx -V` says about the installed binary.
type nginxInfo struct {
	path    string
	version string          // "1.22.1"
	without map[string]bool // modules built out: "http_uwsgi_module", ...
}

// findNginx locates nginx and reads its version and build options.
func findNginx(ctx context.Context) (nginxInfo, error) {
	path, err := exec.LookPath("nginx")
	for _, p := range nginxBinaries {
		if err == nil {
			break
		}
		if _, serr := os.Stat(p); serr == nil {
			path, err = p, nil
		}
	}
	if err != nil {
		return nginxInfo{}, errNoNginx
	}
	out, err := exec.CommandContext(ctx, path, "-V").CombinedOutput()
	if err != nil {
		return nginxInfo{}, fmt.Errorf("%s -V: %w\n%s", path, err, out)
	}
	return parseNginxV(path, string(out))
}

var (
	nginxVersionRE = regexp.MustCompile(`nginx version: nginx/(\d+\.\d+\.\d+)`)
	nginxWithoutRE = regexp.MustCompile(`--without-(\w+)`)
)

// parseNginxV reads the output of `nginx -V`.
func parseNginxV(path, out string) (nginxInfo, error) {
	m := nginxVersionRE.FindStringSubmatch(out)
	if m == nil {
		return nginxInfo{}, fmt.Errorf("%s -V: no version in %q", path, firstLine(out))
	}
	n := nginxInfo{path: path, version: m[1], without: map[string]bool{}}
	for _, w := range nginxWithoutRE.FindAllStringSubmatch(out, -1) {
		n.without[w[1]] = true
	}
	return n, nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// atLeast reports whether the version is at least major.minor.patch.
func (n nginxInfo) atLeast(want ...int) bool {
	got := strings.Split(n.version, ".")
	for i, w := range want {
		g := 0
		if i < len(got) {
			g, _ = strconv.Atoi(got[i])
		}
		if g != w {
			return g > w
		}
	}
	return true
}

// nginxSetup is what the config depends on.
type nginxSetup struct {
	dir         string // the run's directory for nginx: config, pid file, temp files
	listen      string // 127.0.0.1:PORT
	upstream    string // the fake upstream, 127.0.0.1:PORT
	workers     int    // one per CPU the proxy may use: GOMAXPROCS of a Go proxy there
	connections int    // worker_connections
	root        bool   // llmbench runs as root
}

// Upstream connections nginx keeps idle per worker: as many as the reference
// proxy's MaxIdleConnsPerHost, more than any phase has in flight.
const nginxKeepalive = 1024

// nginxConfig is the config for s. One worker runs as a single process
// (master_process off), so its CPU is that process's; several run under a master
// in the foreground (daemon off). Nothing is written outside s.dir: the pid file
// and every temp path are there, the access log is off, and errors go to stderr,
// which llmbench keeps like the router's log.
func (n nginxInfo) nginxConfig(s nginxSetup) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("# Written by llmbench: one plain proxy hop to the fake upstream.")
	p("daemon off;")
	if s.workers <= 1 {
		p("master_process off;")
		p("worker_processes 1;")
	} else {
		p("master_process on;")
		p("worker_processes %d;", s.workers)
	}
	if s.root {
		p("user root;") // workers would otherwise switch to nobody and lose the temp dir
	}
	p("pid %s;", filepath.Join(s.dir, "nginx.pid"))
	p("error_log stderr warn;")
	p("events { worker_connections %d; }", s.connections)
	p("http {")
	p("    access_log off;")
	for _, t := range []struct{ module, directive string }{
		{"", "client_body_temp_path"}, {"http_proxy_module", "proxy_temp_path"},
		{"http_fastcgi_module", "fastcgi_temp_path"}, {"http_uwsgi_module", "uwsgi_temp_path"},
		{"http_scgi_module", "scgi_temp_path"},
	} {
		if t.module == "" || !n.without[t.module] {
			p("    %s %s;", t.directive, filepath.Join(s.dir, strings.TrimSuffix(t.directive, "_path")))
		}
	}
	p("    client_max_body_size 32m;")
	p("    keepalive_requests 1000000;")
	p("    keepalive_timeout 90s;")
	p("    upstream fake-upstream {")
	p("        server %s;", s.upstream)
	p("        keepalive %d;", nginxKeepalive)
	p("        keepalive_requests 1000000;")
	p("        keepalive_timeout 90s;")
	p("    }")
	p("    server {")
	p("        listen %s backlog=4096;", s.listen)
	p("        location = /healthz { return 200 ok; }")
	p("        location / {")
	p("            proxy_pass http://fake-upstream;")
	p("            proxy_http_version 1.1;")
	p(`            proxy_set_header Connection "";`)
	p("            proxy_buffering off;")
	p("            proxy_read_timeout 300s;")
	p("        }")
	p("    }")
	p("}")
	return b.String()
}

// writeNginx writes the config for s into s.dir and returns nginx's argv.
func (n nginxInfo) writeNginx(s nginxSetup) ([]string, error) {
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return nil, err
	}
	conf := filepath.Join(s.dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(n.nginxConfig(s)), 0o600); err != nil {
		return nil, err
	}
	argv := []string{n.path, "-p", s.dir + "/", "-c", conf}
	if n.atLeast(1, 19, 5) {
		// Before the config is read, nginx logs to its built-in error log path.
		argv = append(argv, "-e", "stderr")
	}
	return argv, nil
}

// testConfig runs `nginx -t` on the config written for s.
func (n nginxInfo) testConfig(ctx context.Context, argv []string) error {
	args := append(append([]string{}, argv[1:]...), "-t", "-q")
	out, err := exec.CommandContext(ctx, n.path, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("nginx -t: %w\n%s", err, bytes.TrimSpace(out))
	}
	return nil
}

// nginxConnections sizes worker_connections for the run: every stream of the
// RSS phase and every load connection needs one downstream and one upstream
// connection, with room for idle keep-alive ones, within the open-files limit.
func nginxConnections(streams, concurrency int) int {
	n := max(4096, 2*(streams+concurrency)+2*nginxKeepalive)
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil && lim.Cur > 128 && uint64(n) > lim.Cur-64 {
		n = int(lim.Cur - 64)
	}
	return n
}
