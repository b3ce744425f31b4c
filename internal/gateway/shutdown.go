package gateway

import (
	"context"
	"errors"
	"net/http"
	"sync"
)

// errStopped is the cause with which Stop cancels the requests in flight.
var errStopped = errors.New("the router is shutting down: shutdown_grace expired")

// Stop ends every proxied request still in flight, for when the server's shutdown
// grace has expired and its connections are about to be closed: the upstream
// requests are cancelled, a stream past its commit point ends with one in-band
// error event in the client's protocol, and a request that has sent nothing yet
// gets a 503 in its envelope (a non-streaming answer already being relayed can
// only be cut). Requests that reach the gateway after Stop get the 503 at once.
//
// Stop returns when the handlers of those requests have returned, or with ctx's
// error when ctx ends first (a client that does not read its last event holds its
// handler until the write deadline). The caller then closes the connections:
// http.Server.Shutdown again (connections whose response just ended are closed
// cleanly), then Close.
func (g *Gateway) Stop(ctx context.Context) error { return g.flight.stop(ctx) }

// flight tracks the requests in flight so that Stop can end them. The zero value
// is ready to use.
type flight struct {
	mu      sync.Mutex
	stopped bool
	calls   map[*inFlight]struct{}
	empty   chan struct{} // closed when the last call leaves after stop; nil before
}

// inFlight is one request in flight: why it was ended, when it was (the total
// timeout, Stop), and the context it works in now, an attempt's or a wait's,
// which ending the request cancels with that cause. The request has no context
// of its own above its attempts': each context registered under the client
// request's (net/http cancels it when the client goes away) costs allocations
// and an entry in its parent's map of children, per request.
type inFlight struct {
	mu     sync.Mutex
	parent context.Context // the client request's
	cause  error           // why the request was ended; nil while it runs
	cancel context.CancelCauseFunc
}

// end ends the request with cause (the total timeout, Stop): its current
// context and every later one are cancelled with it. The first cause stays; a
// request whose client has gone already keeps that as its cause.
func (f *inFlight) end(cause error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cause != nil || f.parent.Err() != nil {
		return
	}
	f.cause = cause
	if f.cancel != nil {
		f.cancel(cause)
	}
}

// enter returns a new context for the request's next attempt or wait, a child
// of the client request's, cancelled at once when the request has ended. Pass
// its cancel function to leave when done with it.
func (f *inFlight) enter() (context.Context, context.CancelCauseFunc) {
	ctx, cancel := context.WithCancelCause(f.parent)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cause != nil {
		cancel(f.cause)
	}
	f.cancel = cancel
	return ctx, cancel
}

// leave cancels a context enter returned, which the request no longer uses.
func (f *inFlight) leave(cancel context.CancelCauseFunc) {
	f.mu.Lock()
	f.cancel = nil
	f.mu.Unlock()
	cancel(nil)
}

// ended returns why the request was ended (the total timeout, Stop), or nil.
func (f *inFlight) ended() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cause
}

// join registers a request, c (the call's own, not allocated per request),
// ended with errStopped when Stop comes (at once if it has come). Pass c to
// leave when the request is over.
func (f *flight) join(c *inFlight) *inFlight {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.calls == nil {
		f.calls = map[*inFlight]struct{}{}
	}
	f.calls[c] = struct{}{}
	if f.stopped {
		c.end(errStopped)
	}
	return c
}

// leave unregisters a request joined with join.
func (f *flight) leave(c *inFlight) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.calls, c)
	if len(f.calls) == 0 && f.empty != nil {
		close(f.empty)
		f.empty = nil
	}
}

func (f *flight) stop(ctx context.Context) error {
	f.mu.Lock()
	f.stopped = true
	for c := range f.calls {
		c.end(errStopped)
	}
	if len(f.calls) == 0 {
		f.mu.Unlock()
		return nil
	}
	if f.empty == nil {
		f.empty = make(chan struct{})
	}
	empty := f.empty
	f.mu.Unlock()
	select {
	case <-empty:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// stoppedError is the client's view of a request ended by Stop, or nil when ctx
// was not cancelled by Stop.
func stoppedError(ctx context.Context, err error) *apiError {
	if !errors.Is(context.Cause(ctx), errStopped) {
		return nil
	}
	return &apiError{Status: http.StatusServiceUnavailable, Message: "the router is shutting down (shutdown_grace expired); retry the request", Err: err}
}
