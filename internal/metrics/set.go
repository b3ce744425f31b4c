package metrics

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Config lists the label values one configuration allows. Build it from the compiled
// config: one Deployment per entry of `models:` (entries sharing a name are
// deployments of one model), and the names of the object-form API keys.
type Config struct {
	Deployments []Deployment
	Keys        []string // names of named API keys; never a key itself
}

// Deployment is one configured upstream of a model.
type Deployment struct {
	Model    string // the entry's name as configured; a glob stays its pattern
	ID       string // the entry's id, unique in the config
	Provider string // openai, anthropic, ollama: the gen_ai_provider_name value
}

// ErrDuplicateID is returned by Build when two deployments share an id.
var ErrDuplicateID = errors.New("duplicate deployment id")

// Set is the handles of one configuration. Build it with Metrics.Build when a config
// is compiled, keep it beside the compiled gateway, and swap both together: requests
// started on a Set finish on it. A nil *Set records nothing.
type Set struct {
	m       *Metrics
	routes  map[string]*Route
	deps    map[string]*Handle
	keys    map[string]*Key
	other   *Route
	otherK  *Key
	unnamed *Key
}

// Route is the handles of one configured model (its series carry the model name).
type Route struct {
	set      *Set
	name     string
	none     *pair // requests that reached no deployment
	otherDep *Handle
	inFlight [numAPI]slot[prometheus.Gauge]
	streams  [numAPI]slot[prometheus.Gauge]
	overhead [numAPI][2]slot[prometheus.Observer]
	foreign  sync.Map // *Handle of another model (a fallback) -> *pair under this model
}

// Handle is the handle of one configured deployment (Set.Deployment): the series
// of its attempts under its own model, and of the requests it answered for it.
type Handle struct {
	route    *Route
	id       string
	provider string
	own      *pair
	attempts [numOp][numCause]slot[prometheus.Counter]
	opTime   [numOp][numCause]slot[prometheus.Observer]
}

// Key is the handles of one named API key's limit decisions.
type Key struct {
	m         *Metrics
	name      string
	decisions [numScope][4]slot[prometheus.Counter]
}

// Build compiles cfg into a Set. It creates no series: each one appears on first use.
// Building does not change what is exported; Activate does: activate every Set once
// it serves, the first one included, so that the next reload knows what it retires.
func (m *Metrics) Build(cfg Config) (*Set, error) {
	s := &Set{m: m, routes: map[string]*Route{}, deps: map[string]*Handle{}, keys: map[string]*Key{}}
	s.other = s.newRoute(Other)
	for _, d := range cfg.Deployments {
		if _, dup := s.deps[d.ID]; dup {
			return nil, fmt.Errorf("metrics: %w %q", ErrDuplicateID, d.ID)
		}
		r := s.routes[d.Model]
		if r == nil {
			r = s.newRoute(d.Model)
			s.routes[d.Model] = r
		}
		s.deps[d.ID] = r.newHandle(d.ID, d.Provider)
	}
	s.otherK = &Key{m: m, name: Other}
	s.unnamed = &Key{m: m, name: Unnamed}
	for _, k := range cfg.Keys {
		s.keys[k] = &Key{m: m, name: k}
	}
	return s, nil
}

func (s *Set) newRoute(name string) *Route {
	r := &Route{set: s, name: name}
	r.none = &pair{m: s.m, model: name, deployment: None, provider: None}
	r.otherDep = r.newHandle(Other, Other)
	return r
}

func (r *Route) newHandle(id, provider string) *Handle {
	p := &pair{m: r.set.m, model: r.name, deployment: id, provider: provider}
	return &Handle{route: r, id: id, provider: provider, own: p}
}

// Route returns the handles of a configured model by its configured name (for a glob
// entry, the pattern, never the client's string). Any other name returns the shared
// "other" route. Resolve it once per request, after routing.
func (s *Set) Route(name string) *Route {
	if s == nil {
		return nil
	}
	if r, ok := s.routes[name]; ok {
		return r
	}
	return s.other
}

// Deployment returns a configured deployment's handle by id; an unknown id returns
// the "other" deployment of the other model. Resolve it once, when the gateway
// compiles its targets.
func (s *Set) Deployment(id string) *Handle {
	if s == nil {
		return nil
	}
	if h, ok := s.deps[id]; ok {
		return h
	}
	return s.other.otherDep
}

// Key returns a named key's handle; "" is a plain key (label "unnamed"), and a name
// the config does not list counts as "other".
func (s *Set) Key(name string) *Key {
	if s == nil {
		return nil
	}
	if name == "" {
		return s.unnamed
	}
	if k, ok := s.keys[name]; ok {
		return k
	}
	return s.otherK
}

// Deployment returns one of the route's deployments by id, or its "other" handle.
func (r *Route) Deployment(id string) *Handle {
	if r == nil {
		return nil
	}
	if h, ok := r.set.deps[id]; ok && h.route == r {
		return h
	}
	return r.otherDep
}

// Name returns the model label value of the route ("" for a nil route).
func (r *Route) Name() string {
	if r == nil {
		return ""
	}
	return r.name
}

// Activate makes s the active Set: the series of models, deployments and keys that
// the previously active Set had and s has not are deleted, so a reload that removes a
// model removes its series, while every series whose labels are still configured
// keeps its value (counters do not reset). Call it after the new configuration is
// serving; requests still finishing on the old Set record into series that are no
// longer exported, which loses at most their last increments.
func (m *Metrics) Activate(s *Set) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old := m.active; old != nil {
		for _, match := range retired(old, s) {
			m.deleteMatching(match)
		}
	}
	m.active = s
}

// retired lists label matches for what old has and s has not.
func retired(old, s *Set) []prometheus.Labels {
	var out []prometheus.Labels
	for name := range old.routes {
		if _, ok := s.routes[name]; !ok {
			out = append(out, prometheus.Labels{labelModel: name}, prometheus.Labels{labelFallbackTo: name})
		}
	}
	for id, h := range old.deps {
		n, ok := s.deps[id]
		switch {
		case !ok:
			out = append(out, prometheus.Labels{labelDeployment: id})
		case n.provider != h.provider || n.route.name != h.route.name:
			out = append(out, prometheus.Labels{labelDeployment: id, labelProvider: h.provider, labelModel: h.route.name})
		}
	}
	for name := range old.keys {
		if _, ok := s.keys[name]; !ok {
			out = append(out, prometheus.Labels{labelKey: name})
		}
	}
	return out
}

// deleteMatching deletes the series matching every label of match from each family
// that carries all of those labels (a family without one of them cannot tell the
// retired series from a live one, so it keeps its series).
func (m *Metrics) deleteMatching(match prometheus.Labels) {
	for _, v := range m.vecs {
		all := true
		for l := range match {
			all = all && v.labels[l]
		}
		if all {
			v.DeletePartialMatch(match)
		}
	}
}

// Loaded records the initial configuration load at a time: the last-success
// timestamp, and "successful". It does not count a reload.
func (m *Metrics) Loaded(at time.Time) {
	m.reloadOK.Set(1)
	m.reloadTime.Set(float64(at.UnixNano()) / 1e9)
}

// Reloaded records the outcome of a reload finished at a time. A failed reload
// leaves the last-success timestamp where it was.
func (m *Metrics) Reloaded(err error, at time.Time) {
	if err != nil {
		m.reloadFailed.Inc()
		m.reloadOK.Set(0)
		return
	}
	m.reloadDone.Inc()
	m.Loaded(at)
}
