package gcfloor

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
)

// update is one call of a tuner's updated hook.
type update struct {
	percent int
	armed   bool
}

// startWatched starts a tuner whose every update is sent on the channel returned
// (buffered far beyond what a test's cycles produce; a full channel drops).
func startWatched(t *testing.T, floor uint64) (*Tuner, <-chan update) {
	t.Helper()
	ch := make(chan update, 1024)
	tu := start(floor, func(p int, armed bool) {
		select {
		case ch <- update{p, armed}:
		default:
		}
	})
	t.Cleanup(tu.Stop)
	return tu, ch
}

// setPercent sets the GC percent for the test, restoring the one before after it.
func setPercent(t *testing.T, p int) {
	t.Helper()
	prev := debug.SetGCPercent(p)
	t.Cleanup(func() { debug.SetGCPercent(prev) })
}

func readUint(t *testing.T, name string) uint64 {
	t.Helper()
	s := []metrics.Sample{{Name: name}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		t.Fatalf("metric %s is not supported", name)
	}
	return s[0].Value.Uint64()
}

var sink []byte

// churn allocates total bytes of short-lived garbage and returns the GC cycles
// that ran meanwhile.
func churn(t *testing.T, total int) uint64 {
	t.Helper()
	const chunk = 64 << 10
	before := readUint(t, "/gc/cycles/total:gc-cycles")
	for n := 0; n < total; n += chunk {
		sink = make([]byte, chunk)
	}
	sink = nil
	return readUint(t, "/gc/cycles/total:gc-cycles") - before
}

// waitUpdate returns the next update, after the cycle that runtime.GC runs.
func waitUpdate(ch <-chan update) update {
	runtime.GC()
	return <-ch
}

// With a floor and a small live heap, allocating garbage runs far fewer GC cycles
// than without; after Stop, the GC percent is the one before Start and stays so.
func TestTunerCutsCycles(t *testing.T) {
	const floor, total = 32 * mib, 256 * mib
	setPercent(t, 130)
	runtime.GC()
	without := churn(t, total)
	// A cycle with nothing allocated meanwhile: what it finds live is the live heap
	// (objects allocated during a concurrent mark count as live for that cycle).
	runtime.GC()

	tu, ch := startWatched(t, floor)
	if p := readUint(t, "/gc/gogc:percent"); p <= 130 {
		t.Fatalf("GC percent after Start = %d, want above 130", p)
	}
	if u := waitUpdate(ch); !u.armed || u.percent <= 130 {
		t.Fatalf("update after a cycle = %+v, want armed with a percent above 130", u)
	}
	if g := readUint(t, "/gc/heap/goal:bytes"); g < floor-floor/16 || g > floor+floor/16 {
		t.Errorf("heap goal = %d, want about the floor %d", g, floor)
	}
	with := churn(t, total)
	t.Logf("%d MiB of garbage: %d GC cycles without a floor, %d with a %d MiB floor", total/mib, without, with, floor/mib)
	if with > 2*total/floor || 3*with > without {
		t.Errorf("GC cycles with a floor = %d, want at most %d and a third of the %d without", with, 2*total/floor, without)
	}

	tu.Stop()
	if p := readUint(t, "/gc/gogc:percent"); p != 130 {
		t.Errorf("GC percent after Stop = %d, want 130", p)
	}
	for u := waitUpdate(ch); u.armed; u = <-ch {
	}
	runtime.GC()
	if p := readUint(t, "/gc/gogc:percent"); p != 130 {
		t.Errorf("GC percent after Stop and more cycles = %d, want 130", p)
	}
	if without < 16 {
		t.Errorf("GC cycles without a floor = %d: the live heap is not small, the test proves nothing", without)
	}
}

// With a live heap above the floor, the percent is the one before Start, at Start
// and after every cycle.
func TestTunerLeavesLargeHeapAlone(t *testing.T) {
	setPercent(t, 100)
	ballast := make([]byte, 24*mib)
	runtime.GC()
	_, ch := startWatched(t, 16*mib)
	if p := readUint(t, "/gc/gogc:percent"); p != 100 {
		t.Errorf("GC percent after Start with 24 MiB live = %d, want 100", p)
	}
	for range 3 {
		if u := waitUpdate(ch); u != (update{100, true}) {
			t.Errorf("update after a cycle with 24 MiB live = %+v, want percent 100, armed", u)
		}
	}
	runtime.KeepAlive(ballast)
}

// With the GC off, a tuner leaves it off and Stop keeps it so; so does a floor of 0
// with the percent in force.
func TestTunerIdle(t *testing.T) {
	setPercent(t, -1)
	tu := Start(64 * mib)
	if p := debug.SetGCPercent(-1); p != -1 {
		t.Errorf("GC percent after Start with the GC off = %d, want -1", p)
	}
	tu.Stop()
	tu.Stop()
	if p := debug.SetGCPercent(100); p != -1 {
		t.Errorf("GC percent after Stop = %d, want -1", p)
	}
	tu = Start(0)
	if p := readUint(t, "/gc/gogc:percent"); p != 100 {
		t.Errorf("GC percent after Start with no floor = %d, want 100", p)
	}
	tu.Stop()
}
