package upstream

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/llmrouter/llmrouter/internal/config"
)

// neverRetry are statuses that mean the request itself is wrong: sending the same
// bytes again cannot succeed, whatever on_status says.
var neverRetry = []int{400, 401, 403, 404, 422}

// RetryStatus reports whether the policy retries an upstream HTTP status.
func RetryStatus(p config.Retry, status int) bool {
	return !slices.Contains(neverRetry, status) && slices.Contains(p.OnStatus, status)
}

// Backoff returns the wait before attempt n+1 after n failed attempts (n >= 1):
// initial * multiplier^(n-1), capped at max, then spread by ±jitter.
func Backoff(p config.Retry, n int, rnd *rand.Rand) time.Duration {
	d := float64(p.InitialBackoff) * math.Pow(p.Multiplier, float64(n-1))
	d = math.Min(d, float64(p.MaxBackoff))
	if p.Jitter > 0 {
		f := 1 + p.Jitter*(2*randFloat(rnd)-1)
		d *= f
	}
	return time.Duration(d)
}

func randFloat(rnd *rand.Rand) float64 {
	if rnd == nil {
		return rand.Float64()
	}
	return rnd.Float64()
}

// RetryAfter reads retry-after-ms, then Retry-After (seconds or an HTTP date).
func RetryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	if v := h.Get("Retry-After-Ms"); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms >= 0 {
			return duration(ms * float64(time.Millisecond)), true
		}
	}
	v := h.Get("Retry-After")
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 {
		return duration(s * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// duration converts nanoseconds, saturating: a float beyond the range of
// time.Duration converts to an arbitrary (on amd64, negative) value, and a
// Retry-After of 1e12 seconds must mean "too long to wait", not "no hint".
func duration(ns float64) time.Duration {
	if ns >= math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(ns)
}

// Sleep waits d or until ctx ends, whichever is first; it reports whether the full
// wait elapsed. A client that disconnects ends a backoff wait at once.
func Sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// ErrIdleTimeout is the cause of a request cancelled because the upstream was
// silent longer than the idle timeout.
var ErrIdleTimeout = errors.New("upstream idle timeout")

// ErrTotalTimeout is the cause of a request that exceeded the total timeout.
var ErrTotalTimeout = errors.New("upstream total timeout")

// IsTimeout reports whether err is a connect, first-byte, idle or total timeout.
func IsTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, ErrIdleTimeout) || errors.Is(err, ErrTotalTimeout) ||
		errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}
