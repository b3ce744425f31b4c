package main

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

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
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers + 1}}
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
