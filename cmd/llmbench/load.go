package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// side is one way of reaching the fake upstream: directly, through the router,
// or through another proxy measured for context (the reference proxy, the floor
// proxies, nginx). proc is nil for direct.
type side struct {
	name  string
	label string // in the report's "↳ label, same figure" rows
	url   string
	proc  *child
}

// sides are the ways compared in this run: direct and router always, then the
// reference proxy, the floor proxies and nginx when they run. Entries from index
// 2 on are the context sides.
func (b *bench) sides() []side {
	s := []side{{name: "direct", url: b.up.url}, {name: "router", label: "router", url: b.rt.url, proc: b.rt}}
	for _, c := range b.contexts() {
		if *c != nil {
			s = append(s, side{name: (*c).name, label: (*c).label, url: (*c).url, proc: *c})
		}
	}
	return s
}

// sideNamed is the index of the proxy side called name in sides, or -1.
func sideNamed(sides []side, name string) int {
	for i, s := range sides {
		if s.proc != nil && s.name == name {
			return i
		}
	}
	return -1
}

// load is what one vegeta phase measured.
type load struct {
	lat      []time.Duration // latencies of the successful (200) requests
	ok       int
	failed   int
	firstErr string
	elapsed  time.Duration // from the first request to the last answer
	cpu      time.Duration // CPU time the side's process used during the phase
}

// throughput is successful requests per second of wall time.
func (l load) throughput() float64 {
	if l.elapsed <= 0 {
		return 0
	}
	return float64(l.ok) / l.elapsed.Seconds()
}

// cpuPerRequest is the side's process CPU time per request handled.
func (l load) cpuPerRequest() time.Duration { return perRequest(l.cpu, l.ok+l.failed) }

// merge adds another slice of the same phase.
func (l *load) merge(o load) {
	l.lat = append(l.lat, o.lat...)
	l.ok += o.ok
	if l.failed += o.failed; l.firstErr == "" {
		l.firstErr = o.firstErr
	}
	l.elapsed += o.elapsed
	l.cpu += o.cpu
}

// attack runs vegeta against s for d: at rate (open loop), or, with
// rate.Freq == 0 and workers > 0, as fast as exactly workers concurrent
// requests allow (closed loop). Every request is bounded by the client's
// timeout, and the whole phase by d plus that timeout.
func (b *bench) attack(ctx context.Context, s side, body []byte, rate vegeta.Rate, workers uint64, d time.Duration) (load, error) {
	opts := []func(*vegeta.Attacker){vegeta.Client(b.loadClient), vegeta.MaxBody(0)}
	if workers > 0 {
		opts = append(opts, vegeta.Workers(workers), vegeta.MaxWorkers(workers))
	}
	atk := vegeta.NewAttacker(opts...)
	defer context.AfterFunc(ctx, func() { atk.Stop() })()
	tgt := vegeta.NewStaticTargeter(vegeta.Target{Method: http.MethodPost, URL: s.url + openAI.path(), Body: body, Header: openAI.header()})

	var l load
	cpu := func() (time.Duration, error) {
		if s.proc == nil {
			return 0, nil
		}
		return s.proc.cpu()
	}
	cpu0, err := cpu()
	if err != nil {
		return l, err
	}
	start := time.Now()
	for res := range atk.Attack(tgt, rate, d, "") {
		if res.Code == http.StatusOK && res.Error == "" {
			l.ok++
			l.lat = append(l.lat, res.Latency)
			continue
		}
		if l.failed++; l.firstErr == "" {
			l.firstErr = fmt.Sprintf("code %d %s", res.Code, res.Error)
		}
	}
	l.elapsed = time.Since(start)
	cpu1, err := cpu()
	if err != nil {
		return l, err
	}
	l.cpu = cpu1 - cpu0
	return l, ctx.Err()
}

// sliceLength is how long one side runs before the next takes over.
const sliceLength = 2 * time.Second

// compare runs the same phase against every side, each after a warm-up of its
// own, for opt.duration per side. The duration is cut into slices of about two
// seconds and the sides take turns in rotating order, so that a burst of load
// from a neighbour on a shared machine lands on all sides alike instead of on
// whichever happened to run then. The result is indexed like b.sides().
func (b *bench) compare(ctx context.Context, name string, rate vegeta.Rate, workers uint64, body []byte) ([]load, error) {
	sides := b.sides()
	for _, s := range sides {
		if _, err := b.attack(ctx, s, body, rate, workers, b.opt.warmup); err != nil {
			return nil, err
		}
	}
	out := make([]load, len(sides))
	n := max(1, int(b.opt.duration/sliceLength))
	slice := b.opt.duration / time.Duration(n)
	for i := range n {
		for j := range sides {
			k := (i + j) % len(sides)
			l, err := b.attack(ctx, sides[k], body, rate, workers, slice)
			if err != nil {
				return nil, err
			}
			out[k].merge(l)
		}
	}
	for k, s := range sides {
		b.rep.fail(name+" "+s.name, out[k].failed, out[k].firstErr)
	}
	return out, nil
}

// contextRow is another proxy's figure next to the router's, for context.
func contextRow(s side, scenario, unit string, direct, v float64, added bool, note string) row {
	r := row{Scenario: scenario, Figure: "↳ " + s.label + ", same figure", Unit: unit,
		Baseline: val(direct), Router: val(v), Ratio: val(ratio(v, direct)), Note: note}
	if added {
		r.Added = val(v - direct)
	}
	if direct == 0 { // a figure without a baseline (CPU)
		r.Baseline, r.Ratio = nil, nil
	}
	return r
}

// withContext returns r followed by one context row per side from index 2 on.
func withContext(r row, sides []side, each func(k int, s side) row) []row {
	out := []row{r}
	for k := 2; k < len(sides); k++ {
		out = append(out, each(k, sides[k]))
	}
	return out
}

// latency is scenario 1: added latency at a fixed request rate (open loop, so
// a slow router cannot slow the offered load down and hide its own delay).
func (b *bench) latency(ctx context.Context) error {
	body := chatBody(openAI, "gpt-4o", 1024, false)
	sides := b.sides()
	ls, err := b.compare(ctx, "latency", vegeta.Rate{Freq: b.opt.rate, Per: time.Second}, 0, body)
	if err != nil {
		return err
	}
	d, r := ls[0], ls[1]
	ds, rs := summarize(d.lat), summarize(r.lat)
	fig := fmt.Sprintf("p50 latency, %d req/s, 1 KB, non-stream", b.opt.rate)
	note := fmt.Sprintf("n=%d/%d, achieved %.0f/%.0f req/s", ds.N, rs.N, d.throughput(), r.throughput())
	p50 := row{Scenario: "1", Figure: fig, Unit: "ms", Baseline: val(ms(ds.P50)), Router: val(ms(rs.P50)),
		Added: val(ms(rs.P50 - ds.P50)), Ratio: val(ratio(ms(rs.P50), ms(ds.P50))),
		Target: fmt.Sprintf("added < %.1f ms", ms(targetAddedP50)), Verdict: verdict(rs.P50-ds.P50 < targetAddedP50), Note: note}
	p99 := row{Scenario: "1", Figure: fmt.Sprintf("p99 latency, %d req/s", b.opt.rate), Unit: "ms", Baseline: val(ms(ds.P99)),
		Router: val(ms(rs.P99)), Added: val(ms(rs.P99 - ds.P99)), Ratio: val(ratio(ms(rs.P99), ms(ds.P99)))}
	cpu := row{Scenario: "1", Figure: fmt.Sprintf("router CPU per request, %d req/s", b.opt.rate), Unit: "µs",
		Router: val(us(r.cpuPerRequest())), Note: fmt.Sprintf("%.2f s CPU", r.cpu.Seconds())}
	b.rep.add(withContext(p50, sides, func(k int, s side) row {
		fs := summarize(ls[k].lat)
		return contextRow(s, "1", "ms", ms(ds.P50), ms(fs.P50), true, fmt.Sprintf("n=%d, achieved %.0f req/s", fs.N, ls[k].throughput()))
	})...)
	b.rep.add(withContext(p99, sides, func(k int, s side) row {
		return contextRow(s, "1", "ms", ms(ds.P99), ms(summarize(ls[k].lat).P99), true, "")
	})...)
	b.rep.add(withContext(cpu, sides, func(k int, s side) row {
		return contextRow(s, "1", "µs", 0, us(ls[k].cpuPerRequest()), false, fmt.Sprintf("%.2f s CPU", ls[k].cpu.Seconds()))
	})...)
	return nil
}

// cores describes the CPU a side used in a phase.
func cores(l load) string {
	return fmt.Sprintf("%.2f s CPU in %.1f s = %.2f cores", l.cpu.Seconds(), l.elapsed.Seconds(), l.cpu.Seconds()/l.elapsed.Seconds())
}

// throughput is scenario 2: the most requests per second at a fixed
// concurrency (closed loop), and the router's CPU cost per request there,
// judged against nginx's in the same phase when nginx runs.
func (b *bench) throughput(ctx context.Context) error {
	body := chatBody(openAI, "gpt-4o", 1024, false)
	c := b.opt.concurrency
	sides := b.sides()
	ls, err := b.compare(ctx, "throughput", vegeta.Rate{Freq: 0}, uint64(c), body)
	if err != nil {
		return err
	}
	d, r := ls[0], ls[1]
	q := ratio(r.throughput(), d.throughput())
	tput := row{Scenario: "2", Figure: fmt.Sprintf("throughput, concurrency %d, 1 KB", c), Unit: "req/s",
		Baseline: val(d.throughput()), Router: val(r.throughput()), Ratio: val(q),
		Target: fmt.Sprintf("≥ %.1f× direct", targetThroughput), Verdict: verdict(q >= targetThroughput),
		Note: fmt.Sprintf("n=%d/%d", d.ok, r.ok)}
	b.rep.add(withContext(tput, sides, func(k int, s side) row {
		return contextRow(s, "2", "req/s", d.throughput(), ls[k].throughput(), false, fmt.Sprintf("n=%d", ls[k].ok))
	})...)
	b.rep.add(cpuRows(ls, sides)...)
	return nil
}

// cpuRows are the CPU per request rows at max load: the router's, judged
// against nginx's, then each context side's, with its ratio to nginx's when
// nginx ran. ls is indexed like sides.
func cpuRows(ls []load, sides []side) []row {
	x := cpuVsNginx(ls[1], ls, sides)
	if k := sideNamed(sides, "floor"); k >= 0 && ls[k].cpuPerRequest() > 0 {
		x.Note += fmt.Sprintf("; router ÷ net/http floor: %.2f×", ratio(us(ls[1].cpuPerRequest()), us(ls[k].cpuPerRequest())))
	}
	n := 0.0
	if k := sideNamed(sides, "nginx"); k >= 0 {
		n = us(ls[k].cpuPerRequest())
	}
	return withContext(x, sides, func(k int, s side) row {
		v := us(ls[k].cpuPerRequest())
		r := contextRow(s, "2", "µs", 0, v, false, cores(ls[k]))
		if s.name != "nginx" && n > 0 {
			r.Baseline, r.Ratio = val(n), val(ratio(v, n))
			r.Note = "baseline: nginx; ratio: " + s.label + " ÷ nginx; " + r.Note
		}
		return r
	})
}

// cpuVsNginx is the router's CPU per request at max load, with nginx's in the
// same phase as its baseline and the ratio between them held to the target.
func cpuVsNginx(r load, ls []load, sides []side) row {
	cpu := us(r.cpuPerRequest())
	x := row{Scenario: "2", Figure: "router CPU per request, max load", Unit: "µs", Router: val(cpu),
		Target: fmt.Sprintf("≤ %.0f× nginx, same run", targetCPUToNginx), Note: cores(r)}
	k := sideNamed(sides, "nginx")
	if k < 0 {
		x.Note += "; not judged: no nginx in this run"
		return x
	}
	n := us(ls[k].cpuPerRequest())
	if n == 0 {
		x.Note += "; not judged: nginx used less than one 10 ms tick"
		return x
	}
	q := ratio(cpu, n)
	x.Baseline, x.Ratio, x.Verdict = val(n), val(q), verdict(q <= targetCPUToNginx)
	x.Note = "baseline: nginx; ratio: router ÷ nginx; " + x.Note
	return x
}
