package limit

import (
	"context"
	"sync"
)

// store keeps the cells. Its methods take the decision's instant; the Redis store ignores it and
// reads Redis's clock unless the engine was given a clock (Options.Now).
type store interface {
	reserve(ctx context.Context, at instant, p *plan) error
	settle(ctx context.Context, at instant, s *settlement) error
	// usage reads the budget usage of scope in period id.
	usage(ctx context.Context, s *Scope, id int64) (spend, error)
	ping(ctx context.Context) error
	close() error
	// String describes the store for logs, with any password masked.
	String() string
}

// memory is the in-process store: one mutex over a map of cells. A cell that holds nothing (its
// windows drained, its budget periods over) is dropped by a sweep that runs at most once per
// minute of decisions, so memory is bounded by the scopes used in the last minute or budget period.
type memory struct {
	mu        sync.Mutex
	cells     map[string]*cell
	nextSweep float64
	cal       calendar
}

func newMemory() *memory { return &memory{cells: make(map[string]*cell)} }

// maxInline is how many scopes a decision evaluates without allocating.
const maxInline = 8

func (m *memory) reserve(_ context.Context, at instant, p *plan) error {
	var buf [maxInline]cell
	next := buf[:0]
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweep(at.us)
	p.ok, p.denied = true, -1
	for i, s := range p.scopes {
		var c cell
		if old := m.cells[s.name]; old != nil {
			c = *old
		}
		g, r, retry := check(&c, s, at, &m.cal, p.tokens, p.cost)
		p.grants[i] = g
		next = append(next, c)
		if r != NoReason && (p.ok || retry > p.retry) {
			p.ok, p.denied, p.reason, p.retry = false, i, r, retry
		}
	}
	if !p.ok {
		for i, s := range p.scopes {
			var c cell
			if old := m.cells[s.name]; old != nil {
				c = *old
			}
			peek(&c, s, at.us, &p.grants[i])
		}
		return nil
	}
	for i, s := range p.scopes {
		c := m.cells[s.name]
		if c == nil {
			c = new(cell)
			m.cells[s.name] = c
		}
		*c = next[i]
	}
	return nil
}

func (m *memory) settle(_ context.Context, at instant, st *settlement) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, s := range st.scopes {
		c := m.cells[s.name]
		if c == nil {
			c = new(cell)
			m.cells[s.name] = c
		}
		settleCell(c, s, at, &m.cal, st.tokens, st.grants[i], st.budget)
	}
	return nil
}

func (m *memory) usage(_ context.Context, s *Scope, id int64) (spend, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return periodUsage(m.cells[s.name], id), nil
}

// sweep drops the cells that hold nothing, once per minute at most.
func (m *memory) sweep(now float64) {
	if now < m.nextSweep {
		return
	}
	m.nextSweep = now + sweepEvery
	for k, c := range m.cells {
		if c.expires <= now {
			delete(m.cells, k)
		}
	}
}

// size returns the number of cells held, for tests.
func (m *memory) size() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.cells)
}

func (m *memory) ping(context.Context) error { return nil }
func (m *memory) close() error               { return nil }
func (m *memory) String() string             { return "memory" }
