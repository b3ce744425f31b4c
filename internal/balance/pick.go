package balance

import (
	"math/bits"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/llmrouter/llmrouter/internal/health"
)

// Tried is the set of a group's deployments already tried in one request;
// Pick adds to it. The zero value is empty.
type Tried uint64

// Len returns how many deployments were tried.
func (t Tried) Len() int { return bits.OnesCount64(uint64(t)) }

// Has reports whether d was tried.
func (t Tried) Has(d *Deployment) bool { return t&(1<<d.pos) != 0 }

// Request is the per-request input of Pick: keep one per request and group,
// so successive picks never return a deployment twice.
type Request struct {
	// Tried holds the deployments already picked; Pick adds its pick. To
	// retry after every deployment was tried (a one-deployment model with
	// retry.attempts 3 keeps retrying its upstream, as before groups), back off
	// and set Tried to zero: a new round.
	Tried Tried
	// Admit, if set, is asked about the one deployment a pick is about to
	// return; false means the deployment is over its own rate limit (rpm/tpm):
	// it is skipped for this pick, the next best is tried, and its health is
	// untouched. Since it is only asked about the deployment that will be used,
	// it may take the rate-limit token as it answers.
	Admit func(*Deployment) bool
}

// Attempt is one picked deployment. Report its outcome, and call Done exactly
// once when the attempt is over (a stream: when it ends).
type Attempt struct {
	g     *Group
	d     *Deployment
	probe health.Probe
}

// Deployment returns the deployment picked.
func (a Attempt) Deployment() *Deployment { return a.d }

// Probe reports whether the attempt is the one probe of a deployment whose
// cooldown just ended (for the access log).
func (a Attempt) Probe() bool { return a.probe != 0 }

// Report records how the attempt went, as soon as that is known: Success with
// the TTFB at the commit point (first content event) or with the complete
// answer; the classified failure otherwise. Health takes effect on the very
// next pick. A stream that dies of an upstream cause after its commit point
// may be reported once more with that failure: it counts as one more
// consecutive failure (so a deployment that always breaks mid-stream is still
// ejected) and never touches a probe's verdict already given.
func (a Attempt) Report(r health.Result) {
	if a.d == nil {
		return // the zero Attempt of a failed pick
	}
	st := a.d.st
	var c health.Change
	if !st.health.Moot(r, a.probe) {
		c = st.health.Report(a.g.policy, time.Now(), r, a.probe)
	}
	switch {
	case c.Kind == health.Recovered:
		// The average from before the ejection is stale: start from this sample.
		st.ewma.Store(int64(r.TTFB))
	case r.Cause == health.Success && r.TTFB > 0:
		observeLatency(&st.ewma, r.TTFB)
	}
	a.g.apply(a.d, c)
}

// Done releases the attempt's in-flight slot. On the zero Attempt of a failed
// pick it does nothing, so `defer a.Done()` may precede the error check.
func (a Attempt) Done() {
	if a.d != nil {
		a.d.st.inflight.Add(-1)
	}
}

// observeLatency folds a TTFB sample into the moving average with weight 1/4:
// about the last 8 samples matter, so a change shows within a few requests.
func observeLatency(ewma *atomic.Int64, ttfb time.Duration) {
	s := max(int64(ttfb), 1)
	for {
		old := ewma.Load()
		next := s
		if old != 0 {
			next = max(old+(s-old)/4, 1)
		}
		if ewma.CompareAndSwap(old, next) {
			return
		}
	}
}

// Pick returns the deployment for the next attempt: from the best priority
// that has one usable, not yet tried and admitted; within it, by the group's
// strategy. A deployment of that priority whose cooldown is over goes first,
// as its one probe: the first request after a cooldown probes, the others keep
// avoiding it until the verdict. When nothing is left Pick returns an
// *Unavailable (errors.Is ErrUnavailable) saying why. It never blocks (Wait
// does) and makes no allocation unless it fails.
func (g *Group) Pick(r *Request) (Attempt, error) {
	s := scan{version: g.version.Load()}
	for _, lv := range g.levels {
		if a, ok := g.pickLevel(lv, r, &s); ok {
			r.Tried |= 1 << a.d.pos
			return a, nil
		}
	}
	return Attempt{}, s.unavailable(len(g.ds), r.Tried)
}

// scan accumulates why a pick found nothing.
type scan struct {
	now                       time.Time // read lazily: a healthy group never needs it
	version                   uint64
	cooling, probing, refused int
	recovery                  time.Time
}

func (s *scan) time() time.Time {
	if s.now.IsZero() {
		s.now = time.Now()
	}
	return s.now
}

func (g *Group) pickLevel(lv level, r *Request, s *scan) (Attempt, bool) {
	usable, probes := g.classify(lv, r.Tried, s)
	for probes != 0 {
		d := &g.ds[bits.TrailingZeros64(probes)]
		probes &^= 1 << d.pos
		p, ok := d.st.health.Claim(g.policy, s.time())
		switch {
		case !ok && d.st.health.InRotation():
			usable |= 1 << d.pos // readmitted meanwhile
		case !ok:
			s.probing++
		case admit(r, d):
			return g.start(d, p), true
		default:
			g.apply(d, d.st.health.Release(p))
			s.refused++
		}
	}
	for usable != 0 {
		d := &g.ds[g.choose(usable)]
		if admit(r, d) {
			return g.start(d, 0), true
		}
		usable &^= 1 << d.pos
		s.refused++
	}
	return Attempt{}, false
}

// classify splits a level's untried deployments into usable ones and ones
// whose cooldown is over (probe candidates), counting the others.
func (g *Group) classify(lv level, tried Tried, s *scan) (usable, probes uint64) {
	for i := lv.lo; i < lv.hi; i++ {
		bit := uint64(1) << i
		h := &g.ds[i].st.health
		switch {
		case uint64(tried)&bit != 0:
		case h.InRotation():
			usable |= bit
		default:
			switch st, until := h.Standing(s.time()); st {
			case health.Usable:
				usable |= bit
			case health.Cooling:
				s.cooling++
				if s.recovery.IsZero() || until.Before(s.recovery) {
					s.recovery = until
				}
			case health.Probing:
				s.probing++
			case health.Probeable:
				probes |= bit
			}
		}
	}
	return usable, probes
}

func admit(r *Request, d *Deployment) bool { return r.Admit == nil || r.Admit(d) }

func (g *Group) start(d *Deployment, p health.Probe) Attempt {
	d.st.inflight.Add(1)
	return Attempt{g: g, d: d, probe: p}
}

// choose applies the strategy to a non-empty set of usable positions.
func (g *Group) choose(set uint64) int {
	if set&(set-1) == 0 {
		return bits.TrailingZeros64(set)
	}
	switch g.strategy {
	case LeastInFlight:
		return g.pickLeast(set)
	case Latency:
		return g.pickLatency(set)
	default:
		return g.pickWeighted(set)
	}
}

// pickWeighted draws one number below the set's total weight.
func (g *Group) pickWeighted(set uint64) int {
	total := 0
	for m := set; m != 0; m &= m - 1 {
		total += g.ds[bits.TrailingZeros64(m)].Weight
	}
	x := g.intn(total)
	for m := set; ; m &= m - 1 {
		i := bits.TrailingZeros64(m)
		if x -= g.ds[i].Weight; x < 0 {
			return i
		}
	}
}

// pickLeast returns the lowest in-flight count per unit of weight (compared
// as a cross product, no division); ties go to a weighted random draw, so an
// idle group spreads instead of sending everything to its first deployment.
func (g *Group) pickLeast(set uint64) int {
	best, tie := -1, 0
	var bestN int64
	for m := set; m != 0; m &= m - 1 {
		i := bits.TrailingZeros64(m)
		n, w := g.ds[i].st.inflight.Load(), g.ds[i].Weight
		if best >= 0 {
			switch l, r := n*int64(g.ds[best].Weight), bestN*int64(w); {
			case l > r:
				continue
			case l == r:
				// Weighted reservoir: keep i with probability w/(tie+w).
				if tie += w; g.intn(tie) >= w {
					continue
				}
				best, bestN = i, n
				continue
			}
		}
		best, bestN, tie = i, n, w
	}
	return best
}

// pickLatency implements the Latency strategy:
//  1. a deployment with no latency sample yet (new, or readmitted by an active
//     check) and nothing in flight is tried first, one request at a time;
//  2. otherwise, with probability Options.Explore, a uniformly random usable
//     deployment other than the fastest is picked (exploration: how a slow
//     deployment that got fast again is noticed);
//  3. otherwise the lowest moving average of TTFB wins;
//  4. if no usable deployment has a sample (all new and busy), least in flight.
func (g *Group) pickLatency(set uint64) int {
	var fresh uint64
	best := -1
	var bestLat int64
	for m := set; m != 0; m &= m - 1 {
		i := bits.TrailingZeros64(m)
		st := g.ds[i].st
		lat := st.ewma.Load()
		switch {
		case lat == 0 && st.inflight.Load() == 0:
			fresh |= 1 << i
		case lat == 0:
		case best < 0 || lat < bestLat:
			best, bestLat = i, lat
		}
	}
	switch {
	case fresh != 0:
		return g.pickWeighted(fresh)
	case best < 0:
		return g.pickLeast(set)
	case g.explore != 0 && g.rand()>>11 < g.explore:
		others := set &^ (1 << best)
		k := g.intn(bits.OnesCount64(others))
		for ; k > 0; k-- {
			others &= others - 1
		}
		return bits.TrailingZeros64(others)
	}
	return best
}

func (g *Group) rand() uint64 {
	if g.src != nil {
		return g.src.Uint64()
	}
	return rand.Uint64()
}

// intn returns a uniform number in [0, n) (Lemire's multiply-shift; the bias
// for n far below 2^64 is negligible).
func (g *Group) intn(n int) int {
	hi, _ := bits.Mul64(g.rand(), uint64(n))
	return int(hi)
}
