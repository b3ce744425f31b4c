// Command llmbench measures what llmrouter adds to a request: it builds the
// router, runs it as a child process in front of a fake upstream served by
// llmbench itself, and measures each figure directly against the upstream and
// through the router back to back in the same run, reporting ratios and
// differences, so that a shared, noisy machine affects both sides alike. A bare
// httputil.ReverseProxy child (the reference proxy) is measured alongside, to
// separate the cost of any extra HTTP hop from the router's own work, so is a
// net/http floor proxy (the least a Go proxy hop can do: the limit of net/http,
// see floor.go) and, with -fasthttp-floor, the same on fasthttp, and so is nginx
// when it is installed: one plain proxy hop, the limit to compare with. By
// default the proxy under test runs alone on one CPU and llmbench (load
// generator and fake upstream) on another.
//
// Usage, from the module root:
//
//	go run ./cmd/llmbench [-duration 10s] [-rate 500] [-concurrency 64]
//	                      [-streams 1000] [-quick] [-json] [-only latency,rss]
//	                      [-reference=false] [-floor=false] [-nginx=false]
//	                      [-pin=false] [-router PATH] [-fasthttp-floor PATH]
//
// Scenarios: 1 latency (open loop, fixed rate), 2 throughput (closed loop,
// fixed concurrency, router CPU per request), 3 ttfb (stream time to first
// event), 4 rss (peak memory with many open streams), 5 translate (cost of
// Anthropic <-> OpenAI translation). Everything runs on 127.0.0.1, and every
// loop is bounded in count and time. The exit status is 1 when a request failed
// or the run could not complete; a missed target is reported, not an error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == referenceCommand {
		os.Exit(serveReference(os.Args[2:], os.Stderr))
	}
	if len(os.Args) > 1 && os.Args[1] == floorCommand {
		os.Exit(serveFloor(os.Args[2:], os.Stderr))
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// options are the parsed flags.
type options struct {
	duration    time.Duration // per load phase
	warmup      time.Duration // per load phase, untimed
	rate        int
	concurrency int
	streams     int
	events      int
	sequential  int // timed requests per variant in scenarios 3 and 5
	warm        int // untimed requests per variant before them
	quick       bool
	json        bool
	only        map[string]bool
	router      string
	reference   bool
	floor       bool
	fastFloor   string // the fasthttp floor binary; empty: not measured
	nginx       bool
	pin         bool
}

// count is how many sequential requests per variant a scenario makes: -n, or
// the scenario's default.
func (o options) count(def int) int {
	if o.sequential > 0 {
		return o.sequential
	}
	return def
}

// Sequential requests per variant when -n is not given.
const (
	ttfbRequests      = 200
	translateRequests = 300
)

// scenarios in run order, by name; -only also accepts their numbers.
var scenarios = []string{"latency", "throughput", "ttfb", "rss", "translate"}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("llmbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "length of each load phase (scenarios 1 and 2), per side")
	fs.IntVar(&o.rate, "rate", 500, "requests per second of the open-loop latency phase")
	fs.IntVar(&o.concurrency, "concurrency", 64, "concurrent requests of the throughput phase")
	fs.IntVar(&o.streams, "streams", 1000, "streams held open at once for the RSS phase")
	fs.IntVar(&o.events, "events", defaultEvents, "content events per stream")
	fs.IntVar(&o.sequential, "n", 0, "sequential requests per variant in ttfb and translate (default 200 for ttfb, 300 for translate; 50 with -quick)")
	fs.BoolVar(&o.quick, "quick", false, "CI smoke run: 1s phases, 100 streams, 50 sequential requests")
	fs.BoolVar(&o.json, "json", false, "print the report as JSON instead of Markdown")
	only := fs.String("only", "", "comma-separated scenarios to run: "+strings.Join(scenarios, ",")+" (or 1-5); default all")
	fs.StringVar(&o.router, "router", "", "use this llmrouter binary instead of building ./cmd/llmrouter")
	fs.BoolVar(&o.reference, "reference", true, "also measure a bare httputil.ReverseProxy child process, for context")
	fs.BoolVar(&o.floor, "floor", true, "also measure the net/http floor proxy (read the body, one POST, copy the answer): the limit of a net/http hop")
	fs.StringVar(&o.fastFloor, "fasthttp-floor", "", "also measure this fasthttp floor binary (go build -C cmd/llmbench/fastfloor -o PATH .)")
	fs.BoolVar(&o.nginx, "nginx", true, "also measure nginx as a plain proxy (when installed): the limit of one hop")
	fs.BoolVar(&o.pin, "pin", true, "with 2+ CPUs, run the proxy under test on the second CPU and llmbench (load, fake upstream) on the first")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	o.warmup, o.warm = time.Second, 20
	if o.quick {
		if !set["duration"] {
			o.duration = time.Second
		}
		if !set["streams"] {
			o.streams = 100
		}
		if !set["n"] {
			o.sequential = 50
		}
		o.warmup, o.warm = 200*time.Millisecond, 5
	}
	switch {
	case o.duration <= 0 || o.duration > 10*time.Minute:
		return o, fmt.Errorf("-duration must be in (0, 10m], got %s", o.duration)
	case o.rate < 1 || o.rate > 100000:
		return o, fmt.Errorf("-rate must be in [1, 100000], got %d", o.rate)
	case o.concurrency < 1 || o.concurrency > 4096:
		return o, fmt.Errorf("-concurrency must be in [1, 4096], got %d", o.concurrency)
	case o.streams < 1 || o.streams > 20000:
		return o, fmt.Errorf("-streams must be in [1, 20000], got %d", o.streams)
	case o.events < 1 || o.events > maxEvents:
		return o, fmt.Errorf("-events must be in [1, %d], got %d", maxEvents, o.events)
	case o.sequential < 0 || o.sequential > 100000:
		return o, fmt.Errorf("-n must be in [0, 100000] (0: default), got %d", o.sequential)
	}
	var err error
	o.only, err = parseOnly(*only)
	return o, err
}

// parseOnly turns "1,rss" into a set of scenario names; empty means all.
func parseOnly(s string) (map[string]bool, error) {
	set := map[string]bool{}
	if strings.TrimSpace(s) == "" {
		for _, n := range scenarios {
			set[n] = true
		}
		return set, nil
	}
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(strings.ToLower(f))
		ok := false
		for i, n := range scenarios {
			if f == n || f == fmt.Sprint(i+1) {
				set[n], ok = true, true
			}
		}
		if !ok {
			return nil, fmt.Errorf("-only: unknown scenario %q (want %s or 1-%d)", f, strings.Join(scenarios, ","), len(scenarios))
		}
	}
	return set, nil
}

// bench is one benchmark run: the fake upstream, the router child and clients.
type bench struct {
	opt        options
	up         *upstream
	rt         *child       // the llmrouter
	ref        *child       // the reference proxy; nil with -reference=false
	floor      *child       // the net/http floor proxy; nil with -floor=false
	fast       *child       // the fasthttp floor proxy; nil without -fasthttp-floor
	ngx        *child       // nginx; nil with -nginx=false or when not installed
	client     *http.Client // sequential requests and streams
	loadClient *http.Client // vegeta
	rep        *report
}

func run(args []string, stdout, stderr io.Writer) int {
	opt, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "llmbench:", err)
		return 2
	}
	// Ctrl-C or SIGTERM cancels every loop; the deferred cleanup then stops the router.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	raiseFileLimit(stderr)
	started := time.Now()
	rep := &report{
		Command: strings.TrimSpace("llmbench " + strings.Join(args, " ")),
		Machine: describeMachine(),
		Started: started.UTC().Format(time.RFC3339),
		Settings: settings{
			Duration: opt.duration.String(), Rate: opt.rate, Concurrency: opt.concurrency,
			Streams: opt.streams, Events: opt.events, Quick: opt.quick, LogLevel: "warn",
			Sequential: fmt.Sprintf("%d (ttfb), %d (translate)", opt.count(ttfbRequests), opt.count(translateRequests)),
		},
	}
	b, cleanup, err := setup(ctx, opt, rep, stderr)
	defer cleanup()
	if err != nil {
		fmt.Fprintln(stderr, "llmbench:", err)
		return 1
	}
	code := 0
	for _, name := range scenarios {
		if !opt.only[name] {
			continue
		}
		fmt.Fprintf(stderr, "llmbench: %s...\n", name)
		if err := b.scenario(ctx, name); err != nil {
			fmt.Fprintf(stderr, "llmbench: %s: %v (the report below is partial)\n", name, err)
			code = 1
			break
		}
	}
	rep.Took = time.Since(started).Round(time.Second).String()
	rep.Machine.LoadAvgEnd = loadAvg()
	if opt.json {
		if err := rep.writeJSON(stdout); err != nil {
			fmt.Fprintln(stderr, "llmbench:", err)
			return 1
		}
	} else {
		rep.writeMarkdown(stdout)
	}
	if code != 0 || len(rep.Failures) > 0 {
		b.dumpLogs(stderr)
		return 1
	}
	return 0
}

// dumpLogs prints what the child processes logged last (warnings and errors).
func (b *bench) dumpLogs(w io.Writer) {
	for _, c := range b.children() {
		if c.log.String() != "" {
			fmt.Fprintf(w, "llmbench: last lines logged by the %s:\n%s\n", c.name, c.log)
		}
	}
}

func (b *bench) scenario(ctx context.Context, name string) error {
	switch name {
	case "latency":
		return b.latency(ctx)
	case "throughput":
		return b.throughput(ctx)
	case "ttfb":
		return b.ttfb(ctx)
	case "rss":
		return b.rss(ctx)
	default:
		return b.translate(ctx)
	}
}

// setup builds the router, pins llmbench to its CPU, and starts the fake
// upstream and the proxies. The returned cleanup stops them all, restores
// llmbench's CPU mask and removes the temporary directory; it is always non-nil.
func setup(ctx context.Context, opt options, rep *report, stderr io.Writer) (*bench, func(), error) {
	b := &bench{opt: opt, rep: rep, client: newClient(callTimeout), loadClient: newClient(callTimeout)}
	var undo []func()
	cleanup := func() {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
	}
	dir, err := os.MkdirTemp("", "llmbench-")
	if err != nil {
		return nil, cleanup, err
	}
	undo = append(undo, func() { os.RemoveAll(dir) })
	bin := opt.router
	if bin == "" {
		fmt.Fprintln(stderr, "llmbench: building ./cmd/llmrouter...")
		if bin, err = buildRouter(ctx, dir); err != nil {
			return nil, cleanup, err
		}
	}
	proxyCPU, unpin, err := pin(opt, rep)
	if err != nil {
		return nil, cleanup, err
	}
	undo = append(undo, unpin)
	if b.up, err = startUpstream(); err != nil {
		return nil, cleanup, err
	}
	undo = append(undo, b.up.close)
	// The children are referred to through b, not copied: the RSS scenario replaces them.
	undo = append(undo, func() {
		for _, c := range b.children() {
			c.stop()
		}
	})
	err = b.startProxies(ctx, dir, bin, proxyCPU)
	rep.Settings.Pinning = describePinning(rep.Settings.Pinning, b)
	return b, cleanup, err
}

// pin puts llmbench on its CPU when -pin is on and there are two CPUs or more,
// and returns the CPU for the proxies (-1: not pinned) and how to undo it.
func pin(opt options, rep *report) (proxyCPU int, undo func(), err error) {
	plan, ok, err := planCPUs()
	switch {
	case err != nil:
		return -1, func() {}, err
	case !opt.pin:
		rep.Settings.Pinning = "off (-pin=false)"
		return -1, func() {}, nil
	case !ok:
		rep.Settings.Pinning = "off: fewer than 2 CPUs"
		return -1, func() {}, nil
	}
	if undo, err = pinSelf(plan.load); err != nil {
		return -1, func() {}, err
	}
	rep.Settings.Pinning = fmt.Sprintf("proxy under test alone on CPU %d; llmbench (load generator and fake upstream) on CPU %d with GOMAXPROCS 1",
		plan.proxy, plan.load)
	return plan.proxy, undo, nil
}

// describePinning adds the CPUs each proxy may run on, read back from /proc.
func describePinning(desc string, b *bench) string {
	var seen []string
	for _, c := range b.children() {
		cpus, err := procStatusText(c.pid(), "Cpus_allowed_list")
		if err != nil {
			cpus = "?"
		}
		seen = append(seen, c.name+" "+cpus)
	}
	if len(seen) == 0 {
		return desc
	}
	return desc + " (allowed CPUs read back: " + strings.Join(seen, ", ") + ")"
}

// startProxies starts the router, then the reference proxy, the floor proxies
// and nginx unless they are turned off, each confined to cpu (-1: not pinned).
func (b *bench) startProxies(ctx context.Context, dir, bin string, cpu int) error {
	listen, err := freeAddr()
	if err != nil {
		return err
	}
	config, err := writeConfig(dir, listen, b.up.url)
	if err != nil {
		return err
	}
	spec := childSpec{name: "router", label: "router", argv: []string{bin, "serve", "-config", config}, listen: listen, cpu: cpu}
	if b.rt, err = startChild(ctx, spec); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	for _, p := range []struct {
		on          bool
		name, label string
		argv        []string // LISTEN and UPSTREAM_URL are appended
		c           **child
	}{
		{b.opt.reference, "reference", "reference proxy", []string{self, referenceCommand}, &b.ref},
		{b.opt.floor, "floor", "net/http floor", []string{self, floorCommand}, &b.floor},
		{b.opt.fastFloor != "", "fasthttp-floor", "fasthttp floor", []string{b.opt.fastFloor}, &b.fast},
	} {
		if !p.on {
			continue
		}
		if listen, err = freeAddr(); err != nil {
			return err
		}
		spec = childSpec{name: p.name, label: p.label, argv: append(p.argv, listen, b.up.url), listen: listen, cpu: cpu}
		if *p.c, err = startChild(ctx, spec); err != nil {
			return err
		}
	}
	return b.startNginx(ctx, dir, cpu)
}

// contexts are the proxies measured next to the router, in report order, as
// pointers to bench's fields (the RSS scenario replaces the processes), whether
// they run or not.
func (b *bench) contexts() []**child { return []**child{&b.ref, &b.floor, &b.fast, &b.ngx} }

// children are the proxy processes of the run: the router and the contexts that run.
func (b *bench) children() []*child {
	var out []*child
	for _, c := range append([]**child{&b.rt}, b.contexts()...) {
		if *c != nil {
			out = append(out, *c)
		}
	}
	return out
}

// startNginx starts nginx when -nginx is on and it is installed. Its workers
// match the CPUs a proxy may use (one when pinned), as a Go proxy there sizes
// its GOMAXPROCS; the report says why there is no nginx column otherwise.
func (b *bench) startNginx(ctx context.Context, dir string, cpu int) error {
	set := &b.rep.Settings
	if !b.opt.nginx {
		set.Nginx = "off (-nginx=false)"
		return nil
	}
	ngx, err := findNginx(ctx)
	if errors.Is(err, errNoNginx) {
		set.Nginx = "not measured: " + err.Error()
		return nil
	}
	if err != nil {
		return err
	}
	listen, err := freeAddr()
	if err != nil {
		return err
	}
	workers := 1
	if cpu < 0 {
		cpus, err := allowedCPUs()
		if err != nil {
			return err
		}
		workers = len(cpus)
	}
	s := nginxSetup{dir: filepath.Join(dir, "nginx"), listen: listen, upstream: strings.TrimPrefix(b.up.url, "http://"),
		workers: workers, connections: nginxConnections(b.opt.streams, b.opt.concurrency), root: os.Geteuid() == 0}
	argv, err := ngx.writeNginx(s)
	if err != nil {
		return err
	}
	if b.ngx, err = startChild(ctx, childSpec{name: "nginx", label: "nginx", argv: argv, listen: listen, cpu: cpu}); err != nil {
		return err
	}
	mode := "one process, master_process off"
	if workers > 1 {
		mode = fmt.Sprintf("%d workers under a master", workers)
	}
	set.Nginx = fmt.Sprintf("nginx/%s, %s, upstream keepalive %d, proxy_buffering off", ngx.version, mode, nginxKeepalive)
	return nil
}

// raiseFileLimit lifts the soft open-files limit to the hard one. Calling
// Setrlimit explicitly (rather than relying on the Go runtime's own raise) also
// makes the router child inherit it: 1,000 streams need about 2,000 descriptors
// in each process.
func raiseFileLimit(stderr io.Writer) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		fmt.Fprintln(stderr, "llmbench: getrlimit:", err)
		return
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		fmt.Fprintln(stderr, "llmbench: setrlimit:", err)
	}
}
