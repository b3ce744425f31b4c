package health

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// Defaults and bounds of active checks.
const (
	DefaultCheckInterval = 15 * time.Second
	DefaultCheckTimeout  = 5 * time.Second
	minCheckInterval     = 100 * time.Millisecond
	// maxCheckBody is how much of a check's answer is read (and discarded, so
	// the connection can be reused); the rest is dropped with the connection.
	maxCheckBody = 64 << 10
)

// Target is one deployment an active Checker polls with GET.
type Target struct {
	// Name identifies the target in errors (the deployment id). Never a URL
	// with a secret in it: errors quote it.
	Name string
	// URL is the address checked, for example endpoint + "/health" on vLLM.
	URL string
	// Header is sent with every check (for example an API key when the check
	// path needs one). It is only read, never logged.
	Header http.Header
	// Transport carries the checks; nil means http.DefaultTransport. Pass the
	// deployment's own transport so TLS settings and connection reuse match.
	// Redirects are never followed (they could carry Header elsewhere).
	Transport http.RoundTripper
	// Interval between checks (default 15s, at least 100ms); Timeout of one
	// check, response headers included (default 5s).
	Interval time.Duration
	Timeout  time.Duration
	// Report receives every check's outcome: Success for a 2xx answer,
	// CheckFailed for any other status, NetworkError or FirstByteTimeout when
	// no answer came. Feed it to the deployment's tracker (Tracker.Check).
	// A check's timing is not a model's time to first byte, so TTFB is zero.
	// It is called from the checker's goroutine, one call at a time per target.
	Report func(Result)
}

// Checker runs active health checks: one goroutine per target, each checking
// at once and then every Interval, until the context ends.
type Checker struct {
	targets []Target
	clients []*http.Client
}

// ErrTarget is wrapped by every error NewChecker returns.
var ErrTarget = errors.New("invalid health check target")

// NewChecker validates the targets and fills their defaults.
func NewChecker(targets []Target) (*Checker, error) {
	c := &Checker{targets: make([]Target, len(targets)), clients: make([]*http.Client, len(targets))}
	for i, t := range targets {
		if err := t.validate(); err != nil {
			return nil, err
		}
		t.Interval = max(cmp.Or(t.Interval, DefaultCheckInterval), minCheckInterval)
		t.Timeout = cmp.Or(t.Timeout, DefaultCheckTimeout)
		c.targets[i] = t
		c.clients[i] = &http.Client{
			Transport: t.Transport,
			Timeout:   t.Timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		}
	}
	return c, nil
}

func (t Target) validate() error {
	u, err := url.Parse(t.URL)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return fmt.Errorf("%w %q: the URL must be absolute http or https", ErrTarget, t.Name)
	case t.Report == nil:
		return fmt.Errorf("%w %q: no Report function", ErrTarget, t.Name)
	case t.Interval < 0 || t.Timeout < 0:
		return fmt.Errorf("%w %q: negative interval or timeout", ErrTarget, t.Name)
	}
	return nil
}

// Run checks every target until ctx ends, then waits for its goroutines to
// finish. A check cut short by ctx is not reported.
func (c *Checker) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for i := range c.targets {
		wg.Go(func() { c.loop(ctx, i) })
	}
	wg.Wait()
}

func (c *Checker) loop(ctx context.Context, i int) {
	t := &c.targets[i]
	tick := time.NewTicker(t.Interval)
	defer tick.Stop()
	for {
		r := c.check(ctx, i)
		if ctx.Err() != nil {
			return
		}
		t.Report(r)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// check makes one GET and classifies its outcome.
func (c *Checker) check(ctx context.Context, i int) Result {
	t := &c.targets[i]
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.URL, nil)
	if err != nil {
		return Result{Cause: CheckFailed}
	}
	req.Header = t.Header.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	resp, err := c.clients[i].Do(req)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return Result{Cause: FirstByteTimeout}
		}
		return Result{Cause: NetworkError}
	}
	// Drain a bounded amount so a small answer keeps the connection reusable;
	// a larger one is cut when the body is closed.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxCheckBody))
	_ = resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return Result{Cause: CheckFailed}
	}
	return Result{Cause: Success}
}
