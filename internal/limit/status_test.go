package limit

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The headers a denial writes, from a real decision: the key's tokens refuse while the model
// has fewer requests left, so each dimension shows its binding scope.
func TestDeniedWritesTheProvidersHeaders(t *testing.T) {
	clk := &manualClock{t: start}
	eng := mustOpen(t, Options{Now: clk.Now})
	key := mustScope(t, "key:a", Rule{RPM: 100, TPM: 1000})
	model := mustScope(t, "model:m", Rule{RPM: 3})
	admit(t, eng, est(500, 400), key, model)
	admit(t, eng, est(0, 0), key, model)
	_, err := eng.Reserve(context.Background(), Request{Scopes: []*Scope{key, model}, Estimate: est(200, 300)})
	var d *Denied
	if !errors.As(err, &d) || d.Scope != "key:a" || d.Reason != Tokens {
		t.Fatalf("Reserve = %v, want key:a denied for tokens", err)
	}
	// 900 tokens of 1000 used: 400 more are needed, which takes 24s; the window is empty in 54s.
	// The model: 2 requests of 3 used, its window empty in 40s.
	for _, c := range []struct {
		format Format
		want   http.Header
	}{
		{OpenAI, http.Header{
			"Retry-After":                    {"24"},
			"X-Ratelimit-Limit-Requests":     {"3"},
			"X-Ratelimit-Remaining-Requests": {"1"},
			"X-Ratelimit-Reset-Requests":     {"40s"},
			"X-Ratelimit-Limit-Tokens":       {"1000"},
			"X-Ratelimit-Remaining-Tokens":   {"100"},
			"X-Ratelimit-Reset-Tokens":       {"54s"},
		}},
		{Anthropic, http.Header{
			"Retry-After":                            {"24"},
			"Anthropic-Ratelimit-Requests-Limit":     {"3"},
			"Anthropic-Ratelimit-Requests-Remaining": {"1"},
			"Anthropic-Ratelimit-Requests-Reset":     {"2026-01-31T23:59:40Z"},
			"Anthropic-Ratelimit-Tokens-Limit":       {"1000"},
			"Anthropic-Ratelimit-Tokens-Remaining":   {"100"},
			"Anthropic-Ratelimit-Tokens-Reset":       {"2026-01-31T23:59:54Z"},
		}},
	} {
		h := http.Header{}
		d.WriteHeaders(h, c.format, start)
		if diff := cmp.Diff(c.want, h); diff != "" {
			t.Errorf("format %d headers (-want +got):\n%s", c.format, diff)
		}
	}
}

func TestStatusWithoutLimitsWritesNothing(t *testing.T) {
	eng := mustOpen(t, Options{})
	r := admit(t, eng, est(1, 1), mustScope(t, "key:budget", Rule{Budget: Budget{Tokens: 10, Period: Day}}))
	h := http.Header{}
	r.Status().WriteHeaders(h, OpenAI, time.Now())
	if len(h) != 0 {
		t.Fatalf("a scope with only a budget wrote %v, want no header", h)
	}
}

func TestRetryAfterRoundsUp(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want int64
	}{{0, 1}, {time.Millisecond, 1}, {time.Second, 1}, {1001 * time.Millisecond, 2}, {31 * 24 * time.Hour, 2678400}} {
		if got := (&Denied{RetryAfter: c.d}).RetryAfterSeconds(); got != c.want {
			t.Errorf("RetryAfterSeconds(%s) = %d, want %d", c.d, got, c.want)
		}
	}
}
