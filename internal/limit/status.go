package limit

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"
)

// Window is one rate limit's state for a scope.
type Window struct {
	// Limit is the per-minute limit; 0 means the scope has none in this dimension.
	Limit int64
	// Remaining is how many more could be admitted now.
	Remaining int64
	// Reset is how long until the window is full again (everything used has drained).
	Reset time.Duration
}

// State is one scope's rate-limit windows after a decision.
type State struct {
	Scope    string
	Requests Window
	Tokens   Window
}

// Status is the rate-limit state of every scope a decision looked at, in request order.
type Status struct {
	Scopes []State
	// denied is the index of the scope that refused, or -1.
	denied int
	reason Reason
}

// Format is a client dialect's set of rate-limit headers.
type Format uint8

// The header formats. The names are those the providers send and their SDKs read:
// OpenAI x-ratelimit-{limit,remaining,reset}-{requests,tokens} with the reset as a duration
// ("6s", "1m0s", "12ms"); Anthropic anthropic-ratelimit-{requests,tokens}-{limit,remaining,reset}
// with the reset as an RFC 3339 time.
const (
	OpenAI Format = iota + 1
	Anthropic
)

// Binding returns, for requests and for tokens, the window that binds: the denying scope's in the
// dimension that denied, else the one with the fewest remaining (ties: the later reset). ok is
// false where no scope has a limit in that dimension.
func (st Status) Binding() (req, tok Window, reqOK, tokOK bool) {
	req, reqOK = st.binding(func(s State) Window { return s.Requests }, Requests)
	tok, tokOK = st.binding(func(s State) Window { return s.Tokens }, Tokens)
	return req, tok, reqOK, tokOK
}

func (st Status) binding(dim func(State) Window, r Reason) (Window, bool) {
	if st.reason == r && st.denied >= 0 && st.denied < len(st.Scopes) {
		return dim(st.Scopes[st.denied]), true
	}
	var best Window
	found := false
	for _, s := range st.Scopes {
		w := dim(s)
		if w.Limit == 0 {
			continue
		}
		if !found || w.Remaining < best.Remaining || w.Remaining == best.Remaining && w.Reset > best.Reset {
			best, found = w, true
		}
	}
	return best, found
}

// WriteHeaders sets f's rate-limit headers on h from the binding windows (see Binding); a
// dimension no scope limits gets no header. now dates Anthropic's reset times.
func (st Status) WriteHeaders(h http.Header, f Format, now time.Time) {
	req, tok, reqOK, tokOK := st.Binding()
	if reqOK {
		writeWindow(h, f, "requests", req, now)
	}
	if tokOK {
		writeWindow(h, f, "tokens", tok, now)
	}
}

func writeWindow(h http.Header, f Format, dim string, w Window, now time.Time) {
	limit := strconv.FormatInt(w.Limit, 10)
	remaining := strconv.FormatInt(w.Remaining, 10)
	switch f {
	case OpenAI:
		h.Set("x-ratelimit-limit-"+dim, limit)
		h.Set("x-ratelimit-remaining-"+dim, remaining)
		h.Set("x-ratelimit-reset-"+dim, w.Reset.Round(time.Millisecond).String())
	case Anthropic:
		h.Set("anthropic-ratelimit-"+dim+"-limit", limit)
		h.Set("anthropic-ratelimit-"+dim+"-remaining", remaining)
		reset := now.Add(w.Reset + time.Second - 1).Truncate(time.Second).UTC()
		h.Set("anthropic-ratelimit-"+dim+"-reset", reset.Format(time.RFC3339))
	}
}

// Denied is the error Reserve returns when a scope refuses a request; nothing was charged.
type Denied struct {
	// Scope is the name of the scope that refused (when several did, the one to wait longest for).
	Scope string
	// Reason is the rule that refused.
	Reason Reason
	// RetryAfter is when the request would be admitted, other traffic aside.
	RetryAfter time.Duration
	// Status is every scope's rate-limit state, without this request.
	Status Status
}

// Error names the scope and the rule; scope names are never secrets.
func (d *Denied) Error() string {
	return fmt.Sprintf("limit %s: %s exhausted, retry after %s", d.Scope, d.Reason, d.RetryAfter.Round(time.Millisecond))
}

// RetryAfterSeconds is the Retry-After value: whole seconds, rounded up, at least 1.
func (d *Denied) RetryAfterSeconds() int64 {
	return max(1, int64(math.Ceil(d.RetryAfter.Seconds())))
}

// WriteHeaders sets Retry-After and f's rate-limit headers on h.
func (d *Denied) WriteHeaders(h http.Header, f Format, now time.Time) {
	h.Set("Retry-After", strconv.FormatInt(d.RetryAfterSeconds(), 10))
	d.Status.WriteHeaders(h, f, now)
}
