package upstream

import (
	"context"
	"io"
	"time"
)

// IdleReader wraps a response body and cancels the request (with ErrIdleTimeout as
// the cause) when no read completes within the idle timeout. Every successful read
// re-arms the timer, so a healthy long stream is never cut.
type IdleReader struct {
	r      io.Reader
	timer  *time.Timer
	idle   time.Duration
	cancel context.CancelCauseFunc
}

// NewIdleReader arms the idle timer over r; cancel must cancel the request's context.
func NewIdleReader(r io.Reader, idle time.Duration, cancel context.CancelCauseFunc) *IdleReader {
	ir := &IdleReader{r: r, idle: idle, cancel: cancel}
	if idle > 0 {
		ir.timer = time.AfterFunc(idle, func() { cancel(ErrIdleTimeout) })
	}
	return ir
}

// SetIdle replaces the idle timeout and re-arms the timer with it, from now. A
// relay that has the whole answer uses it to wait only briefly for the body's end.
func (ir *IdleReader) SetIdle(d time.Duration) {
	ir.idle = d
	if ir.timer == nil {
		ir.timer = time.AfterFunc(d, func() { ir.cancel(ErrIdleTimeout) })
		return
	}
	ir.timer.Reset(d)
}

// Read reads from the body and re-arms the idle timer on progress.
func (ir *IdleReader) Read(p []byte) (int, error) {
	n, err := ir.r.Read(p)
	if n > 0 && ir.timer != nil {
		ir.timer.Reset(ir.idle)
	}
	return n, err
}

// Pause stops the idle timer, e.g. while the router itself waits on the client.
func (ir *IdleReader) Pause() {
	if ir.timer != nil {
		ir.timer.Stop()
	}
}

// Resume re-arms the idle timer.
func (ir *IdleReader) Resume() {
	if ir.timer != nil {
		ir.timer.Reset(ir.idle)
	}
}

// Stop disarms the timer for good.
func (ir *IdleReader) Stop() { ir.Pause() }
