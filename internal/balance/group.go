package balance

import (
	"cmp"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/llmrouter/llmrouter/internal/health"
)

// Bounds of a group.
const (
	// MaxDeployments is the most deployments one group may have (one bit each
	// in Tried).
	MaxDeployments = 64
	// MaxWeight bounds a weight, so the sum of a group's weights fits an int.
	MaxWeight = 1_000_000
	// DefaultExplore is the share of latency picks sent to a random other
	// deployment so a slow one that recovered is noticed.
	DefaultExplore = 0.05
)

// Strategy is how a pick chooses among the usable deployments of one priority.
type Strategy uint8

// Strategies.
const (
	// Weighted picks at random in proportion to weight (the default).
	Weighted Strategy = iota
	// LeastInFlight picks the fewest requests in flight per unit of weight;
	// ties are broken at random in proportion to weight.
	LeastInFlight
	// Latency picks the lowest moving average of time to first byte, exploring
	// (see Options.Explore and pickLatency).
	Latency
)

var strategyNames = [...]string{"weighted", "least_in_flight", "latency"}

// String returns the strategy's configuration name.
func (s Strategy) String() string {
	if int(s) < len(strategyNames) {
		return strategyNames[s]
	}
	return fmt.Sprintf("strategy(%d)", uint8(s))
}

// ErrConfig is wrapped by every error New and ParseStrategy return.
var ErrConfig = errors.New("invalid deployment group")

// ParseStrategy reads a strategy's configuration name; "" is Weighted.
func ParseStrategy(name string) (Strategy, error) {
	if name == "" {
		return Weighted, nil
	}
	for i, n := range strategyNames {
		if n == name {
			return Strategy(i), nil
		}
	}
	return 0, fmt.Errorf("%w: unknown strategy %q (weighted, least_in_flight or latency)", ErrConfig, name)
}

// Key is a deployment's identity across configuration reloads: a new group
// adopts the health and load state of an old deployment with an equal Key.
// Changing any of these fields makes it a new deployment with a clean record.
type Key struct {
	ID            string // unique within the group; shown in headers, logs, metrics
	Endpoint      string
	Provider      string
	UpstreamModel string
}

// Spec describes one deployment to New.
type Spec struct {
	Key
	Weight   int // 1..MaxWeight; 0 means 1
	Priority int // lower is tried first; equal priorities are balanced
}

// Deployment is one member of a group. Its exported fields are read-only.
type Deployment struct {
	Key
	Weight   int
	Priority int
	// Index is the deployment's position in the specs given to New: the
	// caller's handle to its own per-deployment data (endpoint, key, transport).
	Index int
	pos   int    // position in the group's priority order (its bit in Tried)
	st    *state // shared with the previous group's twin after Adopt
}

// state is what a deployment carries across reloads.
type state struct {
	health   health.Tracker
	inflight atomic.Int64
	ewma     atomic.Int64 // moving average of TTFB in ns; 0 = no sample yet
}

// Options configure a group.
type Options struct {
	Strategy Strategy
	// Health is the ejection policy; zero fields take their defaults.
	Health health.Policy
	// Explore is the share of Latency picks that go to a random deployment
	// other than the fastest. 0 means DefaultExplore; negative means none.
	Explore float64
	// Rand is the source of randomness; nil uses the runtime's, which is fast
	// and safe for concurrent use. A source given here must be safe for
	// concurrent use if picks are concurrent (tests pass a seeded one).
	Rand rand.Source
	// Observer, if set, is told of ejections and recoveries.
	Observer Observer
}

// Observer hears about health changes, for metrics and logs. Calls are made
// synchronously from Report and ReportCheck, outside any lock, and may be
// concurrent: keep them short and safe for concurrent use. Gauges (in flight,
// latency, standing) are read with Group.Snapshot instead, so a pick pays
// nothing for them.
type Observer interface {
	// Ejected: the deployment left rotation (c.Repeat: a failed probe kept it
	// out), because of c.Cause, for c.Cooldown.
	Ejected(d *Deployment, c health.Change)
	// Recovered: a probe or an active check readmitted the deployment.
	Recovered(d *Deployment)
}

// Group is the deployments of one model. Build it with New; it is safe for
// concurrent use.
type Group struct {
	ds       []Deployment // in priority order (stable)
	byIndex  []int        // spec index -> position in ds
	levels   []level
	strategy Strategy
	policy   health.Policy
	explore  uint64 // explore when a 53-bit random number is below this
	src      rand.Source
	obs      Observer

	version atomic.Uint64 // bumped on every health change, for Wait
	mu      sync.Mutex
	changed chan struct{} // closed on the next change; nil until someone waits
}

// level is a run of ds with one priority.
type level struct{ lo, hi int }

// New builds a group. Deployments keep their spec order within a priority.
func New(specs []Spec, o Options) (*Group, error) {
	if len(specs) == 0 || len(specs) > MaxDeployments {
		return nil, fmt.Errorf("%w: %d deployments (1 to %d)", ErrConfig, len(specs), MaxDeployments)
	}
	if int(o.Strategy) >= len(strategyNames) {
		return nil, fmt.Errorf("%w: unknown strategy %d", ErrConfig, o.Strategy)
	}
	if o.Explore > 1 {
		return nil, fmt.Errorf("%w: explore %v is above 1", ErrConfig, o.Explore)
	}
	policy := o.Health.WithDefaults()
	if err := policy.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	ds, err := deployments(specs)
	if err != nil {
		return nil, err
	}
	g := &Group{ds: ds, byIndex: make([]int, len(ds)), strategy: o.Strategy,
		policy: policy, explore: exploreThreshold(o.Explore), src: o.Rand, obs: o.Observer}
	for pos := range g.ds {
		d := &g.ds[pos]
		d.pos = pos
		g.byIndex[d.Index] = pos
		if pos == 0 || d.Priority != g.ds[pos-1].Priority {
			g.levels = append(g.levels, level{lo: pos})
		}
		g.levels[len(g.levels)-1].hi = pos + 1
	}
	return g, nil
}

// deployments validates the specs and returns them in priority order.
func deployments(specs []Spec) ([]Deployment, error) {
	ds := make([]Deployment, len(specs))
	seen := make(map[string]bool, len(specs))
	for i, s := range specs {
		switch {
		case s.ID == "":
			return nil, fmt.Errorf("%w: deployment %d has no id", ErrConfig, i)
		case seen[s.ID]:
			return nil, fmt.Errorf("%w: deployment id %q is used twice", ErrConfig, s.ID)
		case s.Weight < 0 || s.Weight > MaxWeight:
			return nil, fmt.Errorf("%w: deployment %q: weight %d is not between 1 and %d", ErrConfig, s.ID, s.Weight, MaxWeight)
		}
		seen[s.ID] = true
		ds[i] = Deployment{Key: s.Key, Weight: cmp.Or(s.Weight, 1), Priority: s.Priority, Index: i, st: new(state)}
	}
	slices.SortStableFunc(ds, func(a, b Deployment) int { return cmp.Compare(a.Priority, b.Priority) })
	return ds, nil
}

func exploreThreshold(share float64) uint64 {
	switch {
	case share == 0:
		share = DefaultExplore
	case share < 0:
		return 0
	}
	return uint64(share * (1 << 53))
}

// Adopt carries state over a configuration reload: every deployment of g whose
// Key equals one in the old groups shares that deployment's health, in-flight
// count and latency average from then on (attempts still running on an old
// group report into the same state). Pass the old group of the same model, or
// all old groups if ids are unique across models. It returns how many were
// adopted. Call it before g is used.
func (g *Group) Adopt(old ...*Group) int {
	n := 0
	for i := range g.ds {
		if st := find(old, g.ds[i].Key); st != nil {
			g.ds[i].st = st
			n++
		}
	}
	return n
}

func find(groups []*Group, k Key) *state {
	for _, o := range groups {
		if o == nil {
			continue
		}
		for j := range o.ds {
			if o.ds[j].Key == k {
				return o.ds[j].st
			}
		}
	}
	return nil
}

// Len returns the number of deployments.
func (g *Group) Len() int { return len(g.ds) }

// Deployment returns the deployment built from specs[i].
func (g *Group) Deployment(i int) *Deployment { return &g.ds[g.byIndex[i]] }

// Strategy returns the group's strategy.
func (g *Group) Strategy() Strategy { return g.strategy }

// Status is one deployment's state at a moment, for gauges and `explain`.
type Status struct {
	ID       string
	Index    int
	Priority int
	Standing health.Standing
	Until    time.Time     // end of the cooldown unless Usable
	InFlight int64         // attempts picked and not yet Done
	Latency  time.Duration // moving average of TTFB; 0 = no sample
}

// Snapshot appends every deployment's status, in priority order, to dst.
func (g *Group) Snapshot(dst []Status) []Status {
	now := time.Now()
	for i := range g.ds {
		d := &g.ds[i]
		st, until := d.st.health.Standing(now)
		dst = append(dst, Status{ID: d.ID, Index: d.Index, Priority: d.Priority, Standing: st,
			Until: until, InFlight: d.st.inflight.Load(), Latency: time.Duration(d.st.ewma.Load())})
	}
	return dst
}

// ReportCheck feeds the result of an active health check of the deployment
// built from specs[i] (see health.Checker and health.Tracker.Check). A
// deployment readmitted by a check has its latency average cleared, so the
// Latency strategy tries it with one request before trusting an old figure.
func (g *Group) ReportCheck(i int, r health.Result) {
	d := g.Deployment(i)
	c := d.st.health.Check(g.policy, time.Now(), r)
	if c.Kind == health.Recovered {
		d.st.ewma.Store(0)
	}
	g.apply(d, c)
}
