package limit

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/llmrouter/llmrouter/internal/limit/redistest"
)

// Two replicas sharing one Redis, on Redis's clock, admit exactly the limit between them.
func TestReplicasShareOneLimitExactly(t *testing.T) {
	srv := redistest.Start(t)
	a := mustOpen(t, Options{Store: srv.URL()})
	b := mustOpen(t, Options{Store: srv.URL()})
	key := mustScope(t, "key:shared", Rule{RPM: 10})

	type result struct {
		admitted bool
		denied   *Denied
		err      error
	}
	results := make(chan result, 20)
	begin := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 20 {
		eng := []*Engine{a, b}[i%2]
		wg.Go(func() {
			<-begin
			r, err := eng.Reserve(context.Background(), Request{Scopes: []*Scope{key}})
			var d *Denied
			errors.As(err, &d)
			results <- result{admitted: r != nil && err == nil, denied: d, err: err}
		})
	}
	close(begin)
	wg.Wait()
	close(results)

	admitted, denied := 0, 0
	for r := range results {
		switch {
		case r.admitted:
			admitted++
		case r.denied != nil:
			denied++
			h := http.Header{}
			r.denied.WriteHeaders(h, OpenAI, time.Now())
			secs, err := strconv.Atoi(h.Get("Retry-After"))
			if r.denied.Scope != "key:shared" || r.denied.Reason != Requests || err != nil || secs < 1 || secs > 6 {
				t.Errorf("denied by %s for %s with Retry-After %q; want key:shared, requests, 1-6 s",
					r.denied.Scope, r.denied.Reason, h.Get("Retry-After"))
			}
			if got := h.Get("x-ratelimit-remaining-requests"); got != "0" {
				t.Errorf("x-ratelimit-remaining-requests = %q on a denial, want 0", got)
			}
		default:
			t.Errorf("Reserve failed: %v", r.err)
		}
	}
	if admitted != 10 || denied != 10 {
		t.Fatalf("%d admitted, %d denied; want 10 and 10", admitted, denied)
	}
}

// Tokens reserved on one replica and settled low free the window for the other, even when the
// settling request's client has gone away.
func TestReplicasSettleTokensFromRealUsage(t *testing.T) {
	srv := redistest.Start(t)
	a := mustOpen(t, Options{Store: srv.URL()})
	b := mustOpen(t, Options{Store: srv.URL()})
	key := mustScope(t, "key:tokens", Rule{TPM: 1000})
	ctx, cancel := context.WithCancel(context.Background())
	first, err := a.Reserve(ctx, Request{Scopes: []*Scope{key}, Estimate: est(100, 800)})
	if err != nil {
		t.Fatalf("Reserve: %v", err)
	}
	if d := deny(t, b, est(100, 800), key); d.Reason != Tokens {
		t.Fatalf("denied for %s, want tokens", d.Reason)
	}
	cancel() // the client disconnects; what it used is still settled
	if err := first.Settle(ctx, est(60, 40)); err != nil {
		t.Fatalf("Settle after the client left: %v", err)
	}
	admit(t, b, est(100, 800), key)
}

// A caller that went away is not a store failure.
func TestCancelledReserveIsNotAnOutage(t *testing.T) {
	srv := redistest.Start(t)
	var logs logBuffer
	eng := mustOpen(t, Options{Store: srv.URL(), OnStoreError: FailClosed, Logger: logs.logger()})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := eng.Reserve(ctx, Request{Scopes: []*Scope{mustScope(t, "key:a", Rule{RPM: 1})}})
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrUnavailable) {
		t.Fatalf("Reserve with a cancelled context = %v, want context.Canceled only", err)
	}
	if c := eng.Counters(); c.StoreErrors != 0 || c.FailedClosed != 0 || logs.String() != "" {
		t.Fatalf("a cancelled request counted as an outage: %+v, log %q", c, logs.String())
	}
	admit(t, eng, est(0, 0), mustScope(t, "key:a", Rule{RPM: 1}))
}

// recorder is an Observer that keeps what it was told.
type recorder struct {
	mu      sync.Mutex
	changes []string
	counts  map[Outcome]int
}

func (r *recorder) Decided(o Outcome, scope string, why Reason) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.counts == nil {
		r.counts = map[Outcome]int{}
	}
	r.counts[o]++
}

func (r *recorder) StoreChanged(available bool, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.changes = append(r.changes, fmt.Sprintf("available=%v err=%v", available, err != nil))
}

// With Redis stopped, fail_open admits and fail_closed refuses; once it is back, both enforce
// the limit again without a new engine, and each logged one line per change.
func TestRedisOutageFollowsPolicyAndRecovers(t *testing.T) {
	srv := redistest.Start(t)
	clk := &manualClock{t: start}
	var openLog, closedLog logBuffer
	var openObs, closedObs recorder
	open := mustOpen(t, Options{Store: srv.URL(), Now: clk.Now, Logger: openLog.logger(), Observer: &openObs, OnStoreError: FailOpen})
	closed := mustOpen(t, Options{Store: srv.URL(), Now: clk.Now, Logger: closedLog.logger(), Observer: &closedObs, OnStoreError: FailClosed})
	key := mustScope(t, "key:outage", Rule{RPM: 2, Budget: Budget{Period: Day}})
	admit(t, open, est(0, 0), key)
	inFlight := admit(t, closed, est(0, 0), key)
	deny(t, open, est(0, 0), key)

	srv.Stop()
	if err := inFlight.Settle(context.Background(), est(1, 1)); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Settle with Redis down = %v, want ErrUnavailable", err)
	}
	var unchecked *Reservation
	for range 3 {
		unchecked = admit(t, open, est(0, 0), key)
		if !unchecked.Unchecked() {
			t.Fatal("fail_open admitted a request while Redis is down without marking it unchecked")
		}
		_, err := closed.Reserve(context.Background(), Request{Scopes: []*Scope{key}})
		var se *StoreError
		if !errors.Is(err, ErrUnavailable) || !errors.As(err, &se) {
			t.Fatalf("fail_closed Reserve = %v, want a StoreError matching ErrUnavailable", err)
		}
	}

	srv.Restart() // empty: the limit starts again
	clk.Advance(time.Second)
	for _, eng := range []*Engine{open, closed} {
		if r := admit(t, eng, est(0, 0), key); r.Unchecked() {
			t.Fatal("a request after Redis returned was admitted unchecked")
		}
	}
	deny(t, open, est(0, 0), key)
	deny(t, closed, est(0, 0), key)
	settle(t, unchecked, est(200, 300)) // fail_open usage is recorded once Redis is back
	if u := usage(t, open, key, clk.Now()); u.Tokens != 500 {
		t.Fatalf("usage after settling the unchecked request: %d tokens, want 500", u.Tokens)
	}

	for name, l := range map[string]*logBuffer{"fail_open": &openLog, "fail_closed": &closedLog} {
		if down, up := l.count("limit store unavailable"), l.count("limit store available again"); down != 1 || up != 1 {
			t.Errorf("%s logged %d outages and %d recoveries, want 1 and 1:\n%s", name, down, up, l)
		}
	}
	want := []string{"available=false err=true", "available=true err=false"}
	if fmt.Sprint(openObs.changes) != fmt.Sprint(want) || fmt.Sprint(closedObs.changes) != fmt.Sprint(want) {
		t.Errorf("observed changes %v and %v, want %v", openObs.changes, closedObs.changes, want)
	}
	if c := open.Counters(); c.FailedOpen != 3 || c.Admitted != 2 || c.Rejected != 2 {
		t.Errorf("fail_open counters %+v, want 3 failed open, 2 admitted, 2 rejected", c)
	}
	if c := closed.Counters(); c.FailedClosed != 3 || c.Admitted != 2 || c.Rejected != 1 || c.StoreErrors != 4 || c.SettleErrors != 1 {
		t.Errorf("fail_closed counters %+v, want 3 failed closed, 2 admitted, 1 rejected, 4 store errors, 1 settle error", c)
	}
	if openObs.counts[FailedOpen] != 3 || closedObs.counts[FailedClosed] != 3 {
		t.Errorf("observed outcomes %v and %v, want 3 fail_open and 3 fail_closed", openObs.counts, closedObs.counts)
	}
}

// A Redis URL's password appears in no error, log line, observed error or description.
func TestRedisPasswordIsNeverShown(t *testing.T) {
	const canary = "canary-PW-7f3a9c"
	srv := redistest.Start(t, redistest.WithPassword(canary))
	var logs logBuffer
	obs := &errorRecorder{}
	var shown []string
	check := func(what string) {
		t.Helper()
		shown = append(shown, what)
	}

	for _, bad := range []string{
		"redis://:" + canary + "@[::1",                   // does not parse
		"redis://:" + canary + "@" + srv.Addr + "/nodb",  // bad database
		"http://:" + canary + "@" + srv.Addr + "/0",      // wrong scheme
		"redis://u:" + canary + "@" + srv.Addr + "/0/1",  // bad path
		"redis://:" + canary + "@" + srv.Addr + "/0?x=1", // unknown option
	} {
		_, err := Open(Options{Store: bad})
		if err == nil {
			t.Fatalf("Open accepted a bad URL")
		}
		check(err.Error())
	}

	wrong := mustOpen(t, Options{Store: "redis://:wrong-" + canary + "@" + srv.Addr + "/0",
		OnStoreError: FailClosed, Logger: logs.logger(), Observer: obs})
	_, err := wrong.Reserve(context.Background(), Request{Scopes: []*Scope{mustScope(t, "k", Rule{RPM: 1})}})
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Reserve with a wrong password = %v, want ErrUnavailable", err)
	}
	check(err.Error())
	check(fmt.Sprintf("%v %+v %s", wrong, err, wrong))

	right := mustOpen(t, Options{Store: srv.URL(), OnStoreError: FailClosed, Logger: logs.logger(), Observer: obs})
	if err := right.Check(context.Background()); err != nil {
		t.Fatalf("Check with the right password: %v", err)
	}
	srv.Stop()
	err = right.Check(context.Background())
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Check with Redis stopped = %v, want ErrUnavailable", err)
	}
	check(err.Error())
	check(right.String())
	check(logs.String())
	check(obs.String())

	all := strings.Join(shown, "\n")
	if strings.Contains(all, canary) {
		t.Fatalf("the Redis password was shown:\n%s", all)
	}
	if !strings.Contains(right.String(), "xxxxx@"+srv.Addr) || !strings.Contains(logs.String(), "limit store unavailable") {
		t.Fatalf("want the masked URL and the outage logged; got %q and:\n%s", right.String(), logs.String())
	}
	// go-redis's own messages (its pool failing to dial) come through the engine's logger, at
	// debug level, rather than the standard logger's stderr.
	if !strings.Contains(logs.String(), "level=DEBUG msg=\"redis client\"") {
		t.Fatalf("go-redis's messages did not reach the engine's logger:\n%s", logs.String())
	}
}

// An error from the client library that quotes the password is scrubbed but still matches its cause.
func TestRedisErrorsQuotingThePasswordAreScrubbed(t *testing.T) {
	const canary = "canary-PW/with+chars"
	eng := mustOpen(t, Options{Store: "redis://app:" + url.QueryEscape(canary) + "@127.0.0.1:1/0"})
	cause := errors.New("auth app:" + canary + " and " + url.QueryEscape(canary) + " refused")
	err := eng.store.(*redisStore).wrap(cause)
	if strings.Contains(err.Error(), "canary-PW") || !errors.Is(err, cause) {
		t.Fatalf("wrap = %q (matches the cause: %v), want the password masked and the cause kept", err, errors.Is(err, cause))
	}
}

type errorRecorder struct {
	mu   sync.Mutex
	errs []string
}

func (r *errorRecorder) Decided(Outcome, string, Reason) {}

func (r *errorRecorder) StoreChanged(_ bool, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.errs = append(r.errs, err.Error())
	}
}

func (r *errorRecorder) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.errs, "\n")
}

// roundTrips is a go-redis hook counting the commands a client sends and the connections it dials.
type roundTrips struct {
	mu          sync.Mutex
	cmds, dials int
	names       []string
}

func (h *roundTrips) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		h.mu.Lock()
		h.dials++
		h.mu.Unlock()
		return next(ctx, network, addr)
	}
}

func (h *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.mu.Lock()
		h.cmds++
		h.names = append(h.names, cmd.Name())
		h.mu.Unlock()
		return next(ctx, cmd)
	}
}

func (h *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.mu.Lock()
		h.cmds += len(cmds)
		h.mu.Unlock()
		return next(ctx, cmds)
	}
}

func (h *roundTrips) take() (cmds, dials int, names []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	cmds, dials, names = h.cmds, h.dials, h.names
	h.cmds, h.dials, h.names = 0, 0, nil
	return cmds, dials, names
}

// A Reserve, a Settle and a Usage each send one command on an open connection.
func TestRedisCallsAreOneRoundTrip(t *testing.T) {
	srv := redistest.Start(t)
	eng := mustOpen(t, Options{Store: srv.URL()})
	hook := &roundTrips{}
	eng.store.(*redisStore).client.AddHook(hook)
	key := mustScope(t, "key:a", Rule{RPM: 100, TPM: 100000, Budget: Budget{Tokens: 1e9, Period: Month}})
	model := mustScope(t, "model:m", Rule{RPM: 1000, TPM: 1000000})
	dep := mustScope(t, "deployment:d", Rule{RPM: 1000})
	settle(t, admit(t, eng, est(10, 10), key, model, dep), est(5, 5)) // dials, loads the scripts
	hook.take()

	var r *Reservation
	calls := []struct {
		name, cmd string
		f         func()
	}{
		{"reserve", "evalsha", func() { r = admit(t, eng, est(10, 10), key, model, dep) }},
		{"settle", "evalsha", func() { settle(t, r, est(1, 1)) }},
		{"usage", "hmget", func() { usage(t, eng, key, time.Now()) }},
	}
	for _, c := range calls {
		c.f()
		if n, dials, names := hook.take(); n != 1 || dials != 0 || names[0] != c.cmd {
			t.Errorf("%s sent %v (%d dials), want one %s", c.name, names, dials, c.cmd)
		}
	}
}

// The scripts' calendar (budget periods computed from Redis's clock) agrees with Go's.
func TestRedisPeriodsMatchGo(t *testing.T) {
	srv := redistest.Start(t)
	clk := &manualClock{}
	eng := mustOpen(t, Options{Store: srv.URL(), Now: clk.Now})
	day := mustScope(t, "key:day", Rule{Budget: Budget{Tokens: 1, Period: Day}})
	month := mustScope(t, "key:month", Rule{Budget: Budget{Tokens: 1, Period: Month}})
	for _, at := range []time.Time{
		time.Date(2026, 1, 31, 23, 59, 59, 999999000, time.UTC),
		time.Date(2026, 12, 31, 12, 0, 0, 0, time.UTC),
		time.Date(2028, 2, 28, 23, 0, 0, 0, time.UTC),
		time.Date(2028, 2, 29, 0, 0, 0, 1000, time.UTC),
		time.Date(2100, 2, 28, 1, 2, 3, 0, time.UTC),
		time.Date(2400, 2, 29, 1, 2, 3, 0, time.UTC),
		time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		clk.t = at
		for _, s := range []*Scope{day, month} {
			d := deny(t, eng, est(1, 1), s)
			_, end := periodBounds(s.rule.Budget.Period, periodID(s.rule.Budget.Period, at.Unix()))
			if want := end.Sub(at); d.RetryAfter != want {
				t.Errorf("%s at %s: retry after %s, want %s (to %s)", s.rule.Budget.Period, at, d.RetryAfter, want, end)
			}
		}
	}
}
