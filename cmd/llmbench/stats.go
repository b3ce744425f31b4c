package main

import (
	"math"
	"slices"
	"time"
)

// percentile returns the p-quantile (0 <= p <= 1) of sorted samples, interpolating
// linearly between the two closest ranks (numpy's default), so the median of an
// even count is the mean of the middle two. It returns 0 for no samples.
func percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	switch {
	case n == 0:
		return 0
	case p <= 0:
		return sorted[0]
	case p >= 1:
		return sorted[n-1]
	}
	pos := p * float64(n-1)
	lo := int(math.Floor(pos))
	frac := pos - float64(lo)
	if lo+1 >= n {
		return sorted[n-1]
	}
	return sorted[lo] + time.Duration(math.Round(frac*float64(sorted[lo+1]-sorted[lo])))
}

// summary is the distribution of one set of latencies.
type summary struct {
	N   int
	P50 time.Duration
	P99 time.Duration
}

// summarize sorts a copy of samples and takes its median and 99th percentile.
func summarize(samples []time.Duration) summary {
	s := slices.Clone(samples)
	slices.Sort(s)
	return summary{N: len(s), P50: percentile(s, 0.50), P99: percentile(s, 0.99)}
}

// ratio returns a/b, or NaN when b is zero (no baseline: no ratio).
func ratio(a, b float64) float64 {
	if b == 0 {
		return math.NaN()
	}
	return a / b
}

// perRequest spreads a CPU time over n requests; 0 when there were none.
func perRequest(cpu time.Duration, n int) time.Duration {
	if n <= 0 {
		return 0
	}
	return cpu / time.Duration(n)
}

// ms and us express a duration as fractional milliseconds and microseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
