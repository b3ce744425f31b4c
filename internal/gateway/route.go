package gateway

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"

	"github.com/llmrouter/llmrouter/internal/balance"
	"github.com/llmrouter/llmrouter/internal/config"
	"github.com/llmrouter/llmrouter/internal/health"
)

// The deployments of each model, as the balancer sees them: one balance.Group
// per group of the routing table (config.Routes.Groups, same index), built once
// by New. Their health lives in the groups, local to the process, and is handed
// over to the next gateway of a reload (WithPrevious).

// group is one model's deployments: the balancer's group, and the targets its
// deployments stand for.
type group struct {
	cfg *config.Group
	bal *balance.Group
	// targets are the group's deployments, by balance.Deployment.Index (the
	// position in cfg.Deployments).
	targets []*target
	// first is the model's first entry in the file, whose settings are the
	// model's own where one value covers all its deployments: retry.attempts
	// and timeouts.total of the request.
	first *config.Model
}

// WithRand makes every deployment group draw its random numbers from src
// (weighted picks, ties, latency exploration) instead of the runtime's. For
// tests: a seeded source makes shares reproducible. A source that is not safe
// for concurrent use (rand.NewPCG) must only see one request at a time.
func WithRand(src rand.Source) Option {
	return func(o *options) { o.rand = src }
}

// compileGroups builds one balance group per group of the routing table.
func (g *Gateway) compileGroups(o options) error {
	r := &g.cfg.Routes
	strategy, err := balance.ParseStrategy(g.cfg.Routing.Strategy)
	if err != nil {
		return err
	}
	h := g.cfg.Routing.Health
	opts := balance.Options{Strategy: strategy, Rand: o.rand, Observer: g.healthObserver(healthLog{g.log}), // causes.go: ejections counted
		Health: health.Policy{Failures: h.Failures, Cooldown: h.Cooldown, MaxCooldown: h.MaxCooldown}}
	g.groups = make([]group, len(r.Groups))
	g.groupOf = make(map[*config.Group]*group, len(r.Groups))
	var old []*balance.Group
	if o.previous != nil {
		for i := range o.previous.groups {
			old = append(old, o.previous.groups[i].bal)
		}
	}
	for i := range r.Groups {
		cg := &r.Groups[i]
		grp := &g.groups[i]
		specs := make([]balance.Spec, len(cg.Deployments))
		for j, mi := range cg.Deployments {
			m := &g.cfg.Models[mi]
			specs[j] = balance.Spec{Weight: m.Weight, Priority: m.Priority, Key: balance.Key{
				ID: m.ID, Endpoint: m.Endpoint, Provider: string(m.Provider), UpstreamModel: m.UpstreamModel}}
			grp.targets = append(grp.targets, &g.targets[mi])
		}
		if grp.bal, err = balance.New(specs, opts); err != nil {
			return fmt.Errorf("model %s: %w", cg.Name, err)
		}
		grp.bal.Adopt(old...)
		grp.cfg, grp.first = cg, &g.cfg.Models[cg.Deployments[0]]
		g.groupOf[cg] = grp
	}
	return nil
}

// lookup routes a requested model name to its group.
func (g *Gateway) lookup(name string) (*group, bool) {
	cg, ok := g.cfg.Routes.Lookup(name)
	if !ok {
		return nil, false
	}
	return g.groupOf[cg], true
}

// healthLog writes a deployment's ejections and recoveries to the log: rare
// events an operator wants to see as they happen.
type healthLog struct{ log *slog.Logger }

func (h healthLog) Ejected(d *balance.Deployment, c health.Change) {
	h.log.Warn("deployment ejected", "deployment", d.ID, "cause", c.Cause.String(),
		"cooldown", c.Cooldown.String(), "repeat", c.Repeat)
}

func (h healthLog) Recovered(d *balance.Deployment) {
	h.log.Info("deployment recovered", "deployment", d.ID)
}

// checks runs the active health checks of the deployments that have one.
type checks struct {
	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

// StartChecks starts the active health checks (health_check: path, interval,
// timeout) of every deployment that has one, each sent through the
// deployment's own transport with its credential; their results feed the
// deployment's health. They run until Close. Calling it again does
// nothing. A gateway built only to explain requests never calls it.
func (g *Gateway) StartChecks() error {
	targets := g.checkTargets()
	if len(targets) == 0 {
		return nil
	}
	ck, err := health.NewChecker(targets)
	if err != nil {
		return err
	}
	g.checks.mu.Lock()
	defer g.checks.mu.Unlock()
	if g.checks.done != nil {
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	g.checks.cancel, g.checks.done = cancel, make(chan struct{})
	go func() {
		defer close(g.checks.done)
		ck.Run(ctx)
	}()
	return nil
}

// checkTargets lists a target per deployment with a health check.
func (g *Gateway) checkTargets() []health.Target {
	var out []health.Target
	for i := range g.groups {
		grp := &g.groups[i]
		for j, t := range grp.targets {
			hc := t.model.HealthCheck
			if hc.URL == "" {
				continue
			}
			h := http.Header{}
			var key string
			if t.model.APIKey != "" {
				key = t.model.APIKey.Reveal()
			}
			t.upstreams[g.endpoints[0].proto].dialect.SetAuth(h, key)
			out = append(out, health.Target{Name: t.model.ID, URL: hc.URL, Header: h, Transport: t.transport,
				Interval: hc.Interval, Timeout: hc.Timeout, Report: func(r health.Result) { grp.bal.ReportCheck(j, r) }})
		}
	}
	return out
}

// stopChecks stops the active health checks and waits for them to end (Close).
func (g *Gateway) stopChecks() {
	g.checks.mu.Lock()
	cancel, done := g.checks.cancel, g.checks.done
	g.checks.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	<-done
}

// maxAttemptBudget bounds the attempts one request makes across its model and
// its fallbacks, whatever their number of deployments.
const maxAttemptBudget = 16

// share is how many attempts the model gets when a request asks for it:
// retry.attempts of its first entry, and at least one per deployment, so that
// every deployment can be tried once within a request.
func (grp *group) share() int {
	return min(max(cmp.Or(grp.first.Retry.Attempts, 1), len(grp.targets)), maxAttemptBudget)
}
