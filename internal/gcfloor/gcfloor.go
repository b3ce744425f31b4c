// Package gcfloor keeps the garbage collector from running every few MB when the
// live heap is small: after each GC cycle it sets the GC percent so that the next
// heap goal is at least a floor, never lower than the GC percent in force before
// (GOGC=100 by default) would put it.
//
// With the default GC percent (100) the next collection starts once the heap has
// grown to about twice what the last one found live. A router's live heap is a few
// MB, so under load it collects every few MB of allocation and spends a good part
// of each request's CPU in the collector. A floor of F bytes makes the goal
// max(2*live, F): a small heap is collected once per ~F bytes of allocation, a large
// one exactly as before. This is the technique of Uber's GOGC tuner and TiDB's
// gctuner. The cost is memory: up to about F bytes of garbage may accumulate
// before a collection. GOMEMLIMIT, when set, still bounds the heap as usual.
package gcfloor

import (
	"math"
	"math/bits"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// heapMinimum is the runtime's own lower bound of the heap goal at GOGC=100,
// which it scales with the GC percent (4 MiB * percent / 100, runtime/mgcpacer.go).
// A percent above floor*100/heapMinimum would therefore raise the goal above the
// floor whatever the live heap: Percent never returns more.
const heapMinimum = 4 << 20

// The runtime/metrics samples a tuner reads after each cycle: the heap the last
// cycle found live, and the roots it scanned (the runtime's heap goal is
// live + (live + stacks + globals) * percent / 100).
const (
	metricLive    = "/gc/heap/live:bytes"
	metricStacks  = "/gc/scan/stack:bytes"
	metricGlobals = "/gc/scan/globals:bytes"
	metricPercent = "/gc/gogc:percent"
)

// Percent returns the GC percent that puts the next heap goal at the floor, given
// what the last cycle measured: live, the bytes of heap it found live, and roots,
// the bytes of stacks and globals it scanned. It is never below base (the percent
// in force without a floor) and never above floor*100/4MiB, the percent at which
// the runtime's own heap minimum reaches the floor; with a floor of 0, or a live
// heap of half the floor or more, it is base (a negative base, the GC off, too).
func Percent(base int, floor, live, roots uint64) int {
	limit := floor / (heapMinimum / 100)
	if limit > math.MaxInt32 {
		limit = math.MaxInt32
	}
	if floor <= live || uint64(base) >= limit {
		return base
	}
	// p = (floor - live) * 100 / (live + roots), without overflow: a quotient
	// that does not fit (no live heap, no roots) is above the limit anyway.
	scanned := live + roots
	hi, lo := bits.Mul64(floor-live, 100)
	if hi >= scanned {
		return int(limit)
	}
	p, _ := bits.Div64(hi, lo, scanned)
	return int(max(min(p, limit), uint64(base)))
}

// Tuner sets the GC percent after every GC cycle until it is stopped. A tuner
// that is never stopped runs for the life of the process.
type Tuner struct {
	floor uint64
	// updated, when set, is called after each setting the tuner makes, with the
	// percent it set, and once with armed false when a cycle ends after Stop
	// (tests; it runs on the finalizer goroutine: it must not block).
	updated func(percent int, armed bool)

	mu      sync.Mutex
	prev    int // the GC percent before Start, restored by Stop
	stopped bool
	samples []metrics.Sample
}

// sentinel is the object whose finalizer runs once per GC cycle: it is never
// reachable, so the first cycle after it is allocated finds it garbage. It holds a
// pointer, which keeps it out of the tiny allocator (a tiny object's finalizer may
// never run).
type sentinel struct{ t *Tuner }

// Start starts a tuner with a floor in bytes: the GC percent is set at once from
// the last cycle's measurements, then again after every cycle. With the GC off
// (a negative percent, GOGC=off) or a floor of 0, the tuner does nothing until
// Stop.
func Start(floor uint64) *Tuner {
	return start(floor, nil)
}

func start(floor uint64, updated func(int, bool)) *Tuner {
	t := &Tuner{floor: floor, updated: updated, samples: []metrics.Sample{
		{Name: metricLive}, {Name: metricStacks}, {Name: metricGlobals},
	}}
	t.prev = currentPercent()
	if t.prev < 0 || floor == 0 {
		return t
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.apply()
	t.arm()
	return t
}

// Stop restores the GC percent in force before Start and stops the tuning: the
// finalizer left armed does nothing when it runs. Stop may be called more than
// once.
func (t *Tuner) Stop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return
	}
	t.stopped = true
	debug.SetGCPercent(t.prev)
}

// arm allocates the next sentinel; t.mu is held.
func (t *Tuner) arm() {
	runtime.SetFinalizer(&sentinel{t: t}, collected)
}

// collected runs on the finalizer goroutine after a cycle has found s garbage.
func collected(s *sentinel) {
	t := s.t
	t.mu.Lock()
	if t.stopped {
		t.mu.Unlock()
		if t.updated != nil {
			t.updated(t.prev, false)
		}
		return
	}
	p := t.apply()
	t.arm()
	t.mu.Unlock()
	if t.updated != nil {
		t.updated(p, true)
	}
}

// apply reads the last cycle's measurements and sets the percent; t.mu is held.
func (t *Tuner) apply() int {
	metrics.Read(t.samples)
	live, roots := value(t.samples[0]), value(t.samples[1])+value(t.samples[2])
	p := Percent(t.prev, t.floor, live, roots)
	debug.SetGCPercent(p)
	return p
}

// currentPercent is the GC percent in force (negative: the GC is off).
func currentPercent() int {
	s := []metrics.Sample{{Name: metricPercent}}
	metrics.Read(s)
	return int(int32(s[0].Value.Uint64())) // the runtime's int32, sign-extended
}

// value is a sample's value, 0 should the runtime drop its metric (every metric
// read here exists since Go 1.21).
func value(s metrics.Sample) uint64 {
	if s.Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s.Value.Uint64()
}
