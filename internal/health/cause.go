// Package health keeps the passive (and optional active) health of upstream
// deployments: consecutive upstream-caused failures eject a deployment for a
// growing cooldown, one probe readmits it.
//
// The package knows nothing of HTTP routing or configuration: the caller
// classifies each attempt into a Cause (the gateway owns that mapping) and
// reports it; a Tracker turns the reports into the state a balancer reads with
// two atomic loads per pick.
package health

import (
	"fmt"
	"time"
)

// Cause classifies how one attempt against a deployment ended. The gateway
// decides the cause, because only it knows whether a deadline was the client's
// or the upstream's; the tracker only asks Counts.
//
// The split follows litellm#41223: a caller's own timeout or a 400 must never
// cool a healthy deployment, while 25 consecutive 500s must (LiteLLM PR#34836).
type Cause uint8

// Causes. Success and the causes after ClientError are neutral or good; the
// others are the upstream's fault and count toward ejection.
const (
	// Success: the upstream answered (2xx, or a stream reached its first content
	// event). It resets the consecutive-failure count.
	Success Cause = iota

	// ServerError: the upstream answered 5xx (529 "overloaded" included).
	ServerError
	// RateLimited: the upstream answered 429. (A deployment over the router's
	// own rpm/tpm limit is not a failure: the balancer skips it, see
	// balance.Request.Admit.)
	RateLimited
	// NetworkError: connection refused or reset, DNS or TLS failure, or the
	// connection closed before a complete response.
	NetworkError
	// ConnectTimeout: the connect timeout (TCP + TLS) elapsed.
	ConnectTimeout
	// FirstByteTimeout: the upstream sent no response headers within the
	// first-byte timeout.
	FirstByteTimeout
	// IdleTimeout: the upstream went silent longer than the idle timeout.
	IdleTimeout
	// InBandError: a stream carried an upstream-side error event before its
	// first content event (for example Anthropic's overloaded_error, or a
	// Responses response.failed with server_error).
	InBandError
	// BadResponse: the upstream answered something the router cannot use: an
	// unexpected 1xx/3xx status or a malformed body.
	BadResponse
	// CheckFailed: an active health check got a non-2xx answer.
	CheckFailed

	// ClientError: the upstream rejected the request itself (4xx other than
	// 429: bad request, auth, not found, context window exceeded, content
	// policy). The same bytes would fail anywhere; never counted.
	ClientError
	// ClientGone: the client disconnected; never counted.
	ClientGone
	// ClientDeadline: the request's total deadline, chosen by the client or the
	// operator for the whole request, ran out; never counted. (A per-phase
	// upstream timeout is ConnectTimeout, FirstByteTimeout or IdleTimeout.)
	ClientDeadline

	numCauses
)

var causeNames = [numCauses]string{
	Success:          "success",
	ServerError:      "server_error",
	RateLimited:      "rate_limited",
	NetworkError:     "network_error",
	ConnectTimeout:   "connect_timeout",
	FirstByteTimeout: "first_byte_timeout",
	IdleTimeout:      "idle_timeout",
	InBandError:      "in_band_error",
	BadResponse:      "bad_response",
	CheckFailed:      "check_failed",
	ClientError:      "client_error",
	ClientGone:       "client_gone",
	ClientDeadline:   "client_deadline",
}

// String returns the cause's snake_case name, the label value metrics and logs use.
func (c Cause) String() string {
	if c < numCauses {
		return causeNames[c]
	}
	return fmt.Sprintf("cause(%d)", uint8(c))
}

// Counts reports whether the cause is the upstream's fault and so counts
// toward ejecting the deployment.
func (c Cause) Counts() bool { return c > Success && c < ClientError }

// Neutral reports whether the cause says nothing about the deployment's health:
// it neither counts as a failure nor resets the failure count. A client error
// proves the upstream is reachable, but a 401 from one key or a 400 on one
// prompt says nothing about the next request, so it is kept out of both.
func (c Cause) Neutral() bool { return c >= ClientError }

// FromStatus classifies an upstream HTTP status: 2xx Success, 429 RateLimited,
// 5xx ServerError, other 4xx ClientError, anything else BadResponse.
func FromStatus(status int) Cause {
	switch {
	case status >= 200 && status <= 299:
		return Success
	case status == 429:
		return RateLimited
	case status >= 400 && status <= 499:
		return ClientError
	case status >= 500 && status <= 599:
		return ServerError
	default:
		return BadResponse
	}
}

// Result is what the caller reports about one attempt.
type Result struct {
	Cause Cause
	// TTFB is the time from sending the request to its first byte (response
	// headers for a plain answer; the first content event is also fine if used
	// consistently). It feeds the latency strategy; zero means unknown and is
	// ignored. Only read with Success.
	TTFB time.Duration
	// RetryAfter is the upstream's Retry-After (or retry-after-ms) hint that came
	// with a failure, zero if none. An ejection lasts at least this long, capped
	// at the policy's MaxCooldown (the hint is upstream-controlled and so bounded).
	RetryAfter time.Duration
}
