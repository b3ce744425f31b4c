package limit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync/atomic"
	"time"
)

// Policy is what Reserve does when the store cannot be reached.
type Policy uint8

// The store failure policies.
const (
	// FailOpen admits the request unchecked (limits.on_store_error: fail_open, the default).
	FailOpen Policy = iota
	// FailClosed refuses it with an error matching ErrUnavailable (fail_closed: answer 503).
	FailClosed
)

// String returns the config spelling.
func (p Policy) String() string {
	if p == FailClosed {
		return "fail_closed"
	}
	return "fail_open"
}

// Observer receives the engine's decisions; the metrics code implements it. Its methods are
// called on the request path and must not block.
type Observer interface {
	// Decided is called once per Reserve that consulted a store: with the scope and reason when
	// o is Rejected, with "" and NoReason otherwise.
	Decided(o Outcome, scope string, r Reason)
	// StoreChanged is called when the store becomes unavailable (with the error, password
	// masked) and when it is available again (err nil).
	StoreChanged(available bool, err error)
}

// Options configures an engine.
type Options struct {
	// Store is "memory" (or "", the default: in-process, one router) or a Redis/Valkey URL
	// (redis://user:pass@host:6379/0, rediss:// for TLS, unix://). The URL is a secret: it is
	// logged and returned only with its password masked.
	Store string
	// OnStoreError is the policy while the store is unreachable.
	OnStoreError Policy
	// Prices per model, for cost budgets. A model without a price costs nothing.
	Prices map[string]Price
	// Logger gets one line per store state change; nil: slog.Default().
	Logger *slog.Logger
	// Observer, if set, is told every decision and store state change.
	Observer Observer
	// Now is the clock for tests. nil: time.Now, and with Redis the server's TIME, so every
	// replica decides on Redis's clock and their own clocks' skew does not matter. When set, the
	// Redis scripts are given this clock instead.
	Now func() time.Time
	// Timeout bounds each store I/O: dialing, waiting for a pooled connection, writing a
	// command, reading its reply; default 500ms.
	Timeout time.Duration
	// ProbeEvery is how often, while the store is unavailable, one request tries it again (the
	// others apply the policy at once instead of waiting for a timeout); default 1s.
	ProbeEvery time.Duration
	// KeyPrefix starts every Redis key; default "llmrouter:limit:". Routers that share a Redis
	// but not their limits need different prefixes.
	KeyPrefix string
	// Adopt, when this engine and Adopt both count in process, makes this one count in Adopt's
	// memory: a configuration reload keeps every window and budget instead of starting them
	// afresh. Scopes are matched by name. A Redis store keeps its state in Redis and ignores it.
	Adopt *Engine
}

// Engine decides and records limits. It is safe for concurrent use; make one per config.
type Engine struct {
	store    store
	policy   Policy
	prices   map[string]Price
	log      *slog.Logger
	obs      Observer
	now      func() time.Time
	timeout  time.Duration
	probe    time.Duration
	down     atomic.Bool
	next     atomic.Int64          // UnixNano of the next probe while down
	last     atomic.Pointer[error] // the error that marked the store down
	counters counters
}

// Open validates opts and opens the store. It does not contact Redis: a store that is down now is
// handled by the policy and recovered from without a restart.
func Open(opts Options) (*Engine, error) {
	e := &Engine{
		policy: opts.OnStoreError, prices: opts.Prices, log: opts.Logger, obs: opts.Observer,
		now: opts.Now, timeout: opts.Timeout, probe: opts.ProbeEvery,
	}
	if e.policy > FailClosed {
		return nil, fmt.Errorf("limit store: unknown policy %d", e.policy)
	}
	for model, p := range opts.Prices {
		if !(p.Input >= 0 && p.Output >= 0 && p.Input <= maxDollars && p.Output <= maxDollars) {
			return nil, fmt.Errorf("limit prices: model %q: prices must be between 0 and %g dollars per million tokens", model, float64(maxDollars))
		}
	}
	if e.log == nil {
		e.log = slog.Default()
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.timeout <= 0 {
		e.timeout = 500 * time.Millisecond
	}
	if e.probe <= 0 {
		e.probe = time.Second
	}
	prefix := opts.KeyPrefix
	if prefix == "" {
		prefix = "llmrouter:limit:"
	}
	switch {
	case opts.Store == "" || opts.Store == "memory":
		e.store = newMemory()
		if opts.Adopt != nil {
			if m, ok := opts.Adopt.store.(*memory); ok {
				e.store = m
			}
		}
	case strings.HasPrefix(opts.Store, "redis://") || strings.HasPrefix(opts.Store, "rediss://") || strings.HasPrefix(opts.Store, "unix://"):
		s, err := openRedis(opts.Store, prefix, e.timeout, opts.Now != nil, e.log)
		if err != nil {
			return nil, err
		}
		e.store = s
	default:
		return nil, errors.New("limit store: want memory, redis://, rediss:// or unix:// (the value is not shown: it may hold a password)")
	}
	return e, nil
}

// Close releases the store's connections.
func (e *Engine) Close() error { return e.store.close() }

// String describes the store, password masked ("memory", "redis://app:xxxxx@host:6379/0").
func (e *Engine) String() string { return e.store.String() }

// Check reaches the store once (for the `check` command and readiness probes).
func (e *Engine) Check(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	if err := e.store.ping(ctx); err != nil {
		return e.storeError(ctx, "check", err)
	}
	return nil
}

// StoreError is an error from an unreachable store; it matches ErrUnavailable.
type StoreError struct {
	Op    string
	Store string // password masked
	Err   error
}

// Error names the operation and the store, password masked.
func (e *StoreError) Error() string {
	return fmt.Sprintf("limit store %s: %s: %v", e.Store, e.Op, e.Err)
}

// Unwrap returns ErrUnavailable and the cause.
func (e *StoreError) Unwrap() []error { return []error{ErrUnavailable, e.Err} }

// storeError wraps err, marks the store down (logging once per change) unless ctx ended.
func (e *Engine) storeError(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return fmt.Errorf("limit %s: %w", op, err)
	}
	se := &StoreError{Op: op, Store: e.store.String(), Err: err}
	e.counters.storeErrors.Add(1)
	e.last.Store(&err)
	e.next.Store(e.now().Add(e.probe).UnixNano())
	if e.down.CompareAndSwap(false, true) {
		e.log.Warn("limit store unavailable", "store", e.store.String(), "policy", e.policy.String(), "err", err.Error())
		if e.obs != nil {
			e.obs.StoreChanged(false, se)
		}
	}
	return se
}

// storeOK marks the store available again, logging once.
func (e *Engine) storeOK() {
	if e.down.Load() && e.down.CompareAndSwap(true, false) {
		e.log.Info("limit store available again", "store", e.store.String())
		if e.obs != nil {
			e.obs.StoreChanged(true, nil)
		}
	}
}

// mayTry reports whether a call may go to the store: always while it is up; while it is down,
// one call per ProbeEvery.
func (e *Engine) mayTry() bool {
	if !e.down.Load() {
		return true
	}
	now := e.now().UnixNano()
	next := e.next.Load()
	return now >= next && e.next.CompareAndSwap(next, now+int64(e.probe))
}

var errNotTried = errors.New("not tried until the next probe")

// skipped is the error while the store is down and not probed.
func (e *Engine) skipped(op string) error {
	e.counters.storeErrors.Add(1)
	cause := errNotTried
	if last := e.last.Load(); last != nil {
		cause = fmt.Errorf("%w; last error: %w", errNotTried, *last)
	}
	return &StoreError{Op: op, Store: e.store.String(), Err: cause}
}

// micros converts the engine's µs to a Duration, rounding up.
func micros(us float64) time.Duration {
	return time.Duration(math.Ceil(max(us, 0))) * time.Microsecond
}
