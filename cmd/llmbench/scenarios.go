package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"
)

// callTimeout bounds every single sequential request or stream.
const callTimeout = 30 * time.Second

// call is one timed request: a whole non-stream answer, or a stream's first event.
type call func(ctx context.Context) (time.Duration, error)

// samples are the timings of one variant of an interleaved measurement.
type samples struct {
	d        []time.Duration
	failed   int
	firstErr string
}

func (s *samples) record(d time.Duration, err error) {
	if err == nil {
		s.d = append(s.d, d)
		return
	}
	if s.failed++; s.firstErr == "" {
		s.firstErr = err.Error()
	}
}

// interleave runs each call n times, one request at a time, after warm untimed
// rounds. Round i starts with call i mod len(calls), so drift on a noisy machine
// and any first-or-last effect fall on every variant alike. The result is
// indexed like calls.
func interleave(ctx context.Context, n, warm int, calls ...call) ([]samples, error) {
	out := make([]samples, len(calls))
	for i := range warm + n {
		for j := range calls {
			if err := ctx.Err(); err != nil {
				return out, err
			}
			k := (i + j) % len(calls)
			cctx, cancel := context.WithTimeout(ctx, callTimeout)
			d, err := calls[k](cctx)
			cancel()
			if i >= warm {
				out[k].record(d, err)
			}
		}
	}
	return out, nil
}

func (b *bench) postCall(d dialect, url string, body []byte) call {
	return func(ctx context.Context) (time.Duration, error) { return post(ctx, b.client, d, url, body) }
}

func (b *bench) streamCall(d dialect, url string, body []byte) call {
	return func(ctx context.Context) (time.Duration, error) { return streamOnce(ctx, b.client, d, url, body) }
}

// streamURL asks the fake upstream for a stream of events content events.
func streamURL(base string, d dialect, events int, hold bool) string {
	u := base + d.path() + "?events=" + strconv.Itoa(events)
	if hold {
		u += "&hold=1"
	}
	return u
}

// ttfb is scenario 3: the time to the first event of a stream, direct and
// through the router, one request at a time. The fake upstream sends all events
// back to back, so the proxy is still relaying the burst while the client reads
// the first one; a 1-event stream, for information, shows the hop alone.
func (b *bench) ttfb(ctx context.Context) error {
	if err := b.ttfbOf(ctx, b.opt.events, true); err != nil || b.opt.events == 1 {
		return err
	}
	return b.ttfbOf(ctx, 1, false)
}

// ttfbOf measures one stream length; judged streams are held to the target.
func (b *bench) ttfbOf(ctx context.Context, events int, judged bool) error {
	body := chatBody(openAI, "gpt-4o", 1024, true)
	sides := b.sides()
	calls := make([]call, len(sides))
	for i, s := range sides {
		calls[i] = b.streamCall(openAI, streamURL(s.url, openAI, events, false), body)
	}
	res, err := interleave(ctx, b.opt.count(ttfbRequests), b.opt.warm, calls...)
	if err != nil {
		return err
	}
	for i, s := range sides {
		b.rep.fail(fmt.Sprintf("ttfb %d events %s", events, s.name), res[i].failed, res[i].firstErr)
	}
	ds, rs := summarize(res[0].d), summarize(res[1].d)
	added := rs.P50 - ds.P50
	r := row{Scenario: "3", Figure: fmt.Sprintf("median stream TTFB, %d-event stream", events), Unit: "ms",
		Baseline: val(ms(ds.P50)), Router: val(ms(rs.P50)), Added: val(ms(added)), Ratio: val(ratio(ms(rs.P50), ms(ds.P50))),
		Note: fmt.Sprintf("n=%d/%d sequential", ds.N, rs.N)}
	if judged {
		r.Target, r.Verdict = fmt.Sprintf("added < %.1f ms", ms(targetAddedTTFB)), verdict(added < targetAddedTTFB)
	}
	b.rep.add(withContext(r, sides, func(k int, s side) row {
		fs := summarize(res[k].d)
		return contextRow(s, "3", "ms", ms(ds.P50), ms(fs.P50), true, fmt.Sprintf("n=%d", fs.N))
	})...)
	return nil
}

// held is what holding many streams open through one proxy measured.
type held struct {
	idle, peak uint64 // VmRSS before, VmHWM with every stream open
	open       int    // streams whose first event reached the client
	upstream   int64  // streams the fake upstream was holding
}

// rss is scenario 4: the router's peak resident memory while opt.streams
// streams are open through it at once, and the other proxies' for context.
func (b *bench) rss(ctx context.Context) error {
	r, err := b.holdStreams(ctx, &b.rt)
	if err != nil {
		return err
	}
	n := b.opt.streams
	tgt, verd := fmt.Sprintf("< %.0f MB with %d streams", targetRSSBytes/1e6, targetRSSStreams), ""
	if n >= targetRSSStreams {
		verd = verdict(float64(r.peak) < targetRSSBytes)
	}
	b.rep.add(
		row{Scenario: "4", Figure: fmt.Sprintf("router peak RSS (VmHWM), %d open streams", n), Unit: "MB",
			Baseline: val(float64(r.idle) / 1e6), Router: val(float64(r.peak) / 1e6), Added: val(float64(r.peak-r.idle) / 1e6),
			Target: tgt, Verdict: verd, Note: fmt.Sprintf("baseline: idle process; %d streams open, %d held upstream", r.open, r.upstream)},
		row{Scenario: "4", Figure: "router memory per open stream", Unit: "KB",
			Router: val(float64(r.peak-r.idle) / 1e3 / float64(max(r.open, 1))), Note: "(peak − idle) / open streams"},
	)
	for _, c := range b.contexts() {
		if *c == nil {
			continue
		}
		f, err := b.holdStreams(ctx, c)
		if err != nil {
			return err
		}
		label := (*c).label
		b.rep.add(
			row{Scenario: "4", Figure: "↳ " + label + ", peak RSS", Unit: "MB", Baseline: val(float64(f.idle) / 1e6),
				Router: val(float64(f.peak) / 1e6), Added: val(float64(f.peak-f.idle) / 1e6), Note: fmt.Sprintf("%d streams open", f.open)},
			row{Scenario: "4", Figure: "↳ " + label + ", memory per open stream", Unit: "KB",
				Router: val(float64(f.peak-f.idle) / 1e3 / float64(max(f.open, 1)))},
		)
	}
	return nil
}

// holdStreams restarts *c (so that its high-water mark is not one left by an
// earlier phase), opens opt.streams streams through it whose upstream sends one
// event and then holds, reads the peak RSS once every client has its first
// event, then releases them all and lets them finish.
func (b *bench) holdStreams(ctx context.Context, c **child) (held, error) {
	var h held
	fresh, err := (*c).restart(ctx)
	if err != nil {
		return h, err
	}
	*c = fresh
	b.client.CloseIdleConnections()
	b.loadClient.CloseIdleConnections()
	time.Sleep(200 * time.Millisecond)
	if h.idle, err = fresh.memory("VmRSS"); err != nil {
		return h, err
	}
	n := b.opt.streams
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	b.up.arm()
	defer b.up.releaseHeld()
	hc := newClient(0)
	defer hc.CloseIdleConnections()

	url, body := streamURL(fresh.url, openAI, b.opt.events, true), chatBody(openAI, "gpt-4o", 1024, true)
	firsts := make(chan error, n)
	release := make(chan struct{})
	opening := make(chan struct{}, 100) // at most 100 connects in flight: no SYN storm
	var wg sync.WaitGroup
	var mu sync.Mutex
	var drains samples
	for range n {
		wg.Go(func() {
			opening <- struct{}{}
			s, _, err := openStream(ctx, hc, openAI, url, body)
			<-opening
			firsts <- err
			if err != nil {
				return
			}
			select {
			case <-release:
				err = s.drain()
			case <-ctx.Done():
				s.close()
				err = ctx.Err()
			}
			mu.Lock()
			drains.record(0, err)
			mu.Unlock()
		})
	}
	var opened samples
	wait := time.NewTimer(time.Minute)
	defer wait.Stop()
collect:
	for opened.failed+len(opened.d) < n {
		select {
		case err := <-firsts:
			opened.record(0, err)
		case <-wait.C:
			opened.record(0, errors.New("no first event within a minute"))
			break collect
		case <-ctx.Done():
			break collect
		}
	}
	h.peak, err = fresh.memory("VmHWM")
	h.upstream, h.open = b.up.held.Load(), len(opened.d)
	close(release)
	b.up.releaseHeld()
	wg.Wait()
	b.rep.fail("rss "+fresh.name+" open", opened.failed, opened.firstErr)
	b.rep.fail("rss "+fresh.name+" drain", drains.failed, drains.firstErr)
	return h, err
}

// translate is scenario 5: what translating costs. The same request goes to the
// same openai upstream as an OpenAI client (passthrough: bytes relayed) and as an
// Anthropic client (translated both ways); the difference is translation. At
// 5 KB the same body also goes straight to the fake upstream, for what a
// translated route adds in all (the hop and the translation).
func (b *bench) translate(ctx context.Context) error {
	n, warm := b.opt.count(translateRequests), b.opt.warm
	base := b.rt.url
	for _, size := range []int{5 << 10, 200 << 10} {
		calls := []call{
			b.postCall(openAI, base+openAI.path(), chatBody(openAI, "gpt-4o", size, false)),
			b.postCall(anthropicAPI, base+anthropicAPI.path(), chatBody(anthropicAPI, "gpt-4o", size, false)),
		}
		judged := size == 5<<10
		if judged {
			calls = append(calls, b.postCall(openAI, b.up.url+openAI.path(), chatBody(openAI, "gpt-4o", size, false)))
		}
		res, err := interleave(ctx, n, warm, calls...)
		if err != nil {
			return err
		}
		r := b.translationRow(fmt.Sprintf("translation Anthropic client → openai, %d KB", size>>10), "translate", res)
		if !judged {
			b.rep.add(r)
			continue
		}
		added := summarize(res[1].d).P50 - summarize(res[0].d).P50
		r.Target, r.Verdict = fmt.Sprintf("added < %.0f µs", us(targetTranslation)), verdict(added < targetTranslation)
		b.rep.add(r, b.translatedVsDirect(size, res[2], res[1]))
	}
	res, err := interleave(ctx, n, warm,
		b.streamCall(openAI, streamURL(base, openAI, b.opt.events, false), chatBody(openAI, "gpt-4o", 1024, true)),
		b.streamCall(anthropicAPI, streamURL(base, anthropicAPI, b.opt.events, false), chatBody(anthropicAPI, "gpt-4o", 1024, true)))
	if err != nil {
		return err
	}
	b.rep.add(b.translationRow(fmt.Sprintf("translated stream TTFB, %d events", b.opt.events), "translate stream", res))
	// The other direction, for information: OpenAI client to an anthropic upstream.
	res, err = interleave(ctx, n, warm,
		b.postCall(anthropicAPI, base+anthropicAPI.path(), chatBody(anthropicAPI, "claude-bench", 5<<10, false)),
		b.postCall(openAI, base+openAI.path(), chatBody(openAI, "claude-bench", 5<<10, false)))
	if err != nil {
		return err
	}
	b.rep.add(b.translationRow("translation OpenAI client → anthropic, 5 KB", "translate reverse", res))
	return nil
}

// translationRow compares the medians of a passthrough (res[0]) and a
// translated (res[1]) variant.
func (b *bench) translationRow(fig, phase string, res []samples) row {
	pass, tr := res[0], res[1]
	b.rep.fail(phase+" passthrough", pass.failed, pass.firstErr)
	b.rep.fail(phase+" translated", tr.failed, tr.firstErr)
	ps, ts := summarize(pass.d), summarize(tr.d)
	return row{Scenario: "5", Figure: fig, Unit: "µs", Baseline: val(us(ps.P50)), Router: val(us(ts.P50)),
		Added: val(us(ts.P50 - ps.P50)), Ratio: val(ratio(us(ts.P50), us(ps.P50))),
		Note: fmt.Sprintf("median; baseline: passthrough route; n=%d/%d", ps.N, ts.N)}
}

// translatedVsDirect compares the median of the translated variant with the
// same request sent straight to the fake upstream: issue 14's "translated added
// p50" (Anthropic client, OpenAI upstream).
func (b *bench) translatedVsDirect(size int, direct, tr samples) row {
	b.rep.fail("translate direct", direct.failed, direct.firstErr)
	ds, ts := summarize(direct.d), summarize(tr.d)
	added := ts.P50 - ds.P50
	return row{Scenario: "5", Figure: fmt.Sprintf("translated added p50, Anthropic client → openai, %d KB", size>>10), Unit: "ms",
		Baseline: val(ms(ds.P50)), Router: val(ms(ts.P50)), Added: val(ms(added)), Ratio: val(ratio(ms(ts.P50), ms(ds.P50))),
		Target: fmt.Sprintf("added < %.1f ms", ms(targetTranslatedP50)), Verdict: verdict(added < targetTranslatedP50),
		Note: fmt.Sprintf("median; baseline: direct to the upstream; n=%d/%d sequential", ds.N, ts.N)}
}
