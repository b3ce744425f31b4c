// Package balance picks the deployment that serves one attempt of a request:
// from the best (lowest) priority that has a usable deployment, balanced within
// it by weighted random, least in flight or lowest latency; never a deployment
// already tried in the request, never one that is ejected (package health) or
// over its own rate limit.
//
// A Group is the deployments of one model, built once per configuration and
// safe for concurrent use. A pick is a few atomic loads and one random number,
// with no allocation and no lock (one is taken only to claim a probe); health
// is local to the process and a report takes effect on the very next pick.
//
// # Per request, per attempt
//
// The gateway keeps one Request per request and group and, for each attempt:
//
//	a, err := group.Pick(&req)      // req.Tried grows; Admit asks the limiter
//	if err != nil { ... }           // *Unavailable: see below
//	t := targets[a.Deployment().Index]  // the caller's own per-deployment data
//	... send; classify the outcome ...
//	a.Report(health.Result{Cause: cause, TTFB: ttfb, RetryAfter: hint})
//	... relay the answer ...
//	a.Done()                        // when the attempt is over (stream ended)
//
// Report as soon as the fate is known: Success at the commit point (first
// content event, or the whole answer), the failure otherwise. The gateway
// classifies: an upstream status with health.FromStatus (429 RateLimited, 5xx
// ServerError, other 4xx ClientError); no response: ConnectTimeout,
// FirstByteTimeout or NetworkError; silence: IdleTimeout; an in-band error
// before the commit point: InBandError when the upstream is at fault
// (overloaded, server error), ClientError when the request is (context window,
// content policy, invalid request); the client gone: ClientGone; the request's
// total deadline: ClientDeadline. Only the upstream's faults eject.
//
// # When nothing is usable
//
// Pick returns an *Unavailable with counts of why. When every deployment is
// ejected (Ejected() and Tried == 0) the recommended answer is Hold: wait for
// the earliest recovery with Group.Wait if it is at most DefaultHoldLimit away
// and the model's first-byte timeout still fits before the total deadline,
// then pick again; otherwise 503 in the client's envelope with Retry-After set
// to RetryAfter(now) (whole seconds). Only one request probes a recovered
// deployment, so holding long waits would mostly pile requests up; SDKs honour
// Retry-After.
//
// # Strategies
//
//   - Weighted: random in proportion to weight (one random number per pick).
//   - LeastInFlight: fewest attempts in flight per unit of weight; ties go to a
//     weighted random draw.
//   - Latency: lowest moving average of TTFB (weight 1/4 per sample). A
//     deployment with no sample yet (new, or readmitted by an active check) is
//     tried first, one request at a time; Options.Explore (default 5%) of picks
//     go to a random other deployment, so a slow one that got fast is noticed.
//     A probe's success replaces the average with its own sample.
//
// # Reload and metrics
//
// A new Group adopts the health, in-flight count and latency of every
// deployment whose Key (id, endpoint, provider, upstream model) is unchanged:
// call newGroup.Adopt(oldGroups...) before publishing it. Ejections and recoveries
// go to an Observer (counters by cause); gauges are read with Snapshot at
// scrape time, so picks pay nothing for them.
package balance
