package upstream

import (
	"context"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/llmrouter/llmrouter/internal/config"
)

var policy = config.Retry{
	Attempts: 5, InitialBackoff: 500 * time.Millisecond, MaxBackoff: 4 * time.Second,
	Multiplier: 2, OnStatus: []int{429, 500, 502, 503, 504, 529, 400},
}

func TestBackoffExponentialCapped(t *testing.T) {
	want := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second}
	for n, w := range want {
		if got := Backoff(policy, n+1, nil); got != w {
			t.Errorf("Backoff(%d) = %v, want %v", n+1, got, w)
		}
	}
}

func TestBackoffJitterBounds(t *testing.T) {
	p := policy
	p.Jitter = 0.2
	rnd := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		d := Backoff(p, 2, rnd)
		if d < 800*time.Millisecond || d > 1200*time.Millisecond {
			t.Fatalf("jittered backoff %v outside ±20%% of 1s", d)
		}
	}
}

func TestRetryStatus(t *testing.T) {
	for status, want := range map[int]bool{429: true, 503: true, 529: true, 400: false, 401: false, 403: false, 404: false, 422: false, 418: false} {
		if got := RetryStatus(policy, status); got != want {
			t.Errorf("RetryStatus(%d) = %v, want %v", status, got, want)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		header map[string]string
		want   time.Duration
		ok     bool
	}{
		{"seconds", map[string]string{"Retry-After": "3"}, 3 * time.Second, true},
		{"http date", map[string]string{"Retry-After": now.Add(7 * time.Second).Format(http.TimeFormat)}, 7 * time.Second, true},
		{"date in the past", map[string]string{"Retry-After": now.Add(-time.Minute).Format(http.TimeFormat)}, 0, true},
		{"ms wins", map[string]string{"Retry-After": "3", "Retry-After-Ms": "250"}, 250 * time.Millisecond, true},
		{"garbage", map[string]string{"Retry-After": "soon"}, 0, false},
		{"beyond time.Duration saturates", map[string]string{"Retry-After": "1e12"}, math.MaxInt64, true},
		{"ms beyond time.Duration saturates", map[string]string{"Retry-After-Ms": "1e300"}, math.MaxInt64, true},
		{"absent", nil, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.header {
				h.Set(k, v)
			}
			got, ok := RetryAfter(h, now)
			if got != tt.want || ok != tt.ok {
				t.Errorf("got %v %v, want %v %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

// Sleep waits the whole backoff in fake time, and ends at once when the context
// (the client) goes away.
func TestSleep(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		if !Sleep(context.Background(), 1500*time.Millisecond) {
			t.Fatal("full wait reported as interrupted")
		}
		if d := time.Since(start); d != 1500*time.Millisecond {
			t.Errorf("slept %v", d)
		}
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			time.Sleep(100 * time.Millisecond)
			cancel()
		}()
		start = time.Now()
		if Sleep(ctx, 20*time.Second) {
			t.Fatal("interrupted wait reported as complete")
		}
		if d := time.Since(start); d != 100*time.Millisecond {
			t.Errorf("cancelled after %v, want 100ms", d)
		}
	})
}

// The idle timer cancels a silent body read with ErrIdleTimeout and is re-armed by
// every successful read, so a slow but steady stream is never cut.
func TestIdleReader(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pr, pw, cancel := cancellablePipe()
		ir := NewIdleReader(pr, time.Second, cancel)
		go func() {
			for range 5 { // steady: one byte every 900ms, each within the idle timeout
				time.Sleep(900 * time.Millisecond)
				_, _ = pw.Write([]byte("x"))
			}
		}()
		buf := make([]byte, 1)
		for range 5 {
			if _, err := ir.Read(buf); err != nil {
				t.Fatalf("healthy stream cut: %v", err)
			}
		}
		start := time.Now()
		_, err := ir.Read(buf)
		if !errors.Is(err, ErrIdleTimeout) || !IsTimeout(err) {
			t.Fatalf("err = %v, want idle timeout", err)
		}
		if d := time.Since(start); d != time.Second {
			t.Errorf("idle fired after %v", d)
		}
		ir.Stop()
	})
}

// SetIdle shortens the wait from now on, also when no idle timeout was configured:
// a relay with the whole answer waits only briefly for the body's end.
func TestIdleReaderSetIdle(t *testing.T) {
	for _, idle := range []time.Duration{time.Minute, 0} {
		synctest.Test(t, func(t *testing.T) {
			pr, _, cancel := cancellablePipe()
			ir := NewIdleReader(pr, idle, cancel)
			defer ir.Stop()
			ir.SetIdle(250 * time.Millisecond)
			start := time.Now()
			_, err := ir.Read(make([]byte, 1))
			if !errors.Is(err, ErrIdleTimeout) {
				t.Fatalf("idle %v: err = %v, want idle timeout", idle, err)
			}
			if d := time.Since(start); d != 250*time.Millisecond {
				t.Errorf("idle %v: fired after %v, want 250ms", idle, d)
			}
		})
	}
}

// cancellablePipe is a body whose reads fail with the cause once cancel is called,
// as a response body does when its request's context is cancelled.
func cancellablePipe() (*io.PipeReader, *io.PipeWriter, context.CancelCauseFunc) {
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancelCause(context.Background())
	go func() {
		<-ctx.Done()
		pw.CloseWithError(context.Cause(ctx))
	}()
	return pr, pw, cancel
}
