package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/llmrouter/llmrouter/internal/limit/redistest"
)

// Replicas as an operator runs them: two `llmrouter serve` processes (the real
// binary) with one config file, one real redis-server behind a password, one
// upstream, and clients using OpenAI's SDK against either process. The limit
// windows run on Redis's clock, as in production (no test clock reaches a child
// process): a key with rpm L admits L requests at once, then one every minute/L,
// so each phase below finishes well within one refill interval.

// The secrets the config reads from the environment; none may appear in a log.
const (
	replicaKeyEnv      = "REPLICA_TEAM_KEY"
	replicaKey         = "team-key-canary-5b1e0c7d9f2a"
	replicaPasswordEnv = "REPLICA_REDIS_PASSWORD"
	replicaPassword    = "redis-pass-canary-3a8d61"
	replicaUpKeyEnv    = "REPLICA_UPSTREAM_KEY"
	replicaUpKey       = "sk-upstream-canary-0123456789abcdef"
)

// replicaConfig is one key, team-a, with rpm requests per minute counted in the
// Redis at addr (the password from the environment) with the policy given.
const replicaConfig = `server:
  listen: {{LISTEN}}
  api_keys:
    - name: team-a
      key: ${` + replicaKeyEnv + `}
      rpm: %d
limits:
  store: redis://:${` + replicaPasswordEnv + `}@%s/0
  on_store_error: %s
defaults:
  retry: {attempts: 1}
models:
  - name: gpt-4o
    provider: openai
    endpoint: %s/v1
    api_key: ${` + replicaUpKeyEnv + `}
`

// fixtureContent is the answer's text in testdata/fixtures/openai-chat-response.json.
const fixtureContent = "Hello! How can I assist you today?"

// fixtureUp is an OpenAI upstream answering every chat request with a recorded
// completion, counting the requests it received and those it should never have
// (another path, or a credential other than the deployment's key).
type fixtureUp struct {
	*httptest.Server
	requests atomic.Int64
	wrong    atomic.Int64
}

func newFixtureUp(t *testing.T) *fixtureUp {
	t.Helper()
	body, err := os.ReadFile("../../testdata/fixtures/openai-chat-response.json")
	if err != nil {
		t.Fatal(err)
	}
	u := &fixtureUp{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.requests.Add(1)
		if r.URL.Path != "/v1/chat/completions" || r.Header.Get("Authorization") != "Bearer "+replicaUpKey {
			u.wrong.Add(1)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	t.Cleanup(u.Close)
	return u
}

// replicaSet is a Redis, an upstream, and n router processes sharing them.
type replicaSet struct {
	redis   *redistest.Server
	up      *fixtureUp
	routers []*reloadRouter
	clients []openai.Client
}

// startReplicas runs Redis (with a password), the upstream and two router
// processes counting the key's rpm in that Redis with the policy given.
func startReplicas(t *testing.T, rpm int, policy string) *replicaSet {
	t.Helper()
	t.Setenv(replicaKeyEnv, replicaKey)
	t.Setenv(replicaPasswordEnv, replicaPassword)
	t.Setenv(replicaUpKeyEnv, replicaUpKey)
	s := &replicaSet{redis: redistest.Start(t, redistest.WithPassword(replicaPassword)), up: newFixtureUp(t)}
	t.Cleanup(func() { s.noSecretsLogged(t) }) // after the processes have ended: their whole log
	cfg := fmt.Sprintf(replicaConfig, rpm, s.redis.Addr, policy, s.up.URL)
	for range 2 {
		r := startReloadRouter(t, cfg)
		s.routers = append(s.routers, r)
		s.clients = append(s.clients, openai.NewClient(option.WithBaseURL("http://"+r.addr+"/v1"),
			option.WithAPIKey(replicaKey), option.WithMaxRetries(0)))
	}
	return s
}

// noSecretsLogged checks that neither process wrote the key, the Redis
// password or the upstream key to its stderr (the access log included).
func (s *replicaSet) noSecretsLogged(t *testing.T) {
	t.Helper()
	for i, r := range s.routers {
		log := r.log.String()
		for _, secret := range []string{replicaKey, replicaPassword, replicaUpKey} {
			if strings.Contains(log, secret) {
				t.Errorf("router %d logged a secret (%.10s…):\n%s", i, secret, log)
			}
		}
	}
}

// replicaAnswer is what the SDK made of one answer.
type replicaAnswer struct {
	status  int
	header  http.Header
	content string // a completion's text
	errType string // an error envelope's type and message
	errMsg  string
}

func (a replicaAnswer) String() string {
	return fmt.Sprintf("%d %q %s: %s Retry-After %q", a.status, a.content, a.errType, a.errMsg, a.header.Get("Retry-After"))
}

// ask sends one chat completion through the SDK. An error other than an API
// error (no answer at all) is returned.
func ask(ctx context.Context, c openai.Client) (replicaAnswer, error) {
	var raw *http.Response
	comp, err := c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model: "gpt-4o", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")},
	}, option.WithResponseInto(&raw))
	var oe *openai.Error
	switch {
	case err == nil:
		a := replicaAnswer{status: raw.StatusCode, header: raw.Header}
		if len(comp.Choices) > 0 {
			a.content = comp.Choices[0].Message.Content
		}
		return a, nil
	case errors.As(err, &oe):
		return replicaAnswer{status: oe.StatusCode, header: oe.Response.Header, errType: oe.Type, errMsg: oe.Message}, nil
	}
	return replicaAnswer{}, err
}

// send is ask for the test's goroutine: router i answers, or the test fails.
func (s *replicaSet) send(t *testing.T, i int) replicaAnswer {
	t.Helper()
	a, err := ask(t.Context(), s.clients[i])
	if err != nil {
		t.Fatalf("router %d: %v", i, err)
	}
	return a
}

// wantServed checks an answer is the upstream's completion.
func wantServed(t *testing.T, what string, a replicaAnswer) {
	t.Helper()
	if a.status != 200 || a.content != fixtureContent {
		t.Fatalf("%s: %s, want 200 with the upstream's answer", what, a)
	}
}

// wantRateLimited checks a 429 is OpenAI's for a key out of requests: type
// "requests", Retry-After in whole seconds within the window, and the
// x-ratelimit-* headers its SDK reads saying none is left of limit.
func wantRateLimited(t *testing.T, what string, a replicaAnswer, limit int) {
	t.Helper()
	if a.status != 429 || a.errType != "requests" {
		t.Fatalf("%s: %s, want 429 of type requests", what, a)
	}
	if secs, err := strconv.Atoi(a.header.Get("Retry-After")); err != nil || secs < 1 || secs > 60 {
		t.Errorf("%s: Retry-After %q, want 1 to 60 seconds", what, a.header.Get("Retry-After"))
	}
	if got, want := a.header.Get("X-Ratelimit-Limit-Requests"), strconv.Itoa(limit); got != want {
		t.Errorf("%s: x-ratelimit-limit-requests %q, want %q", what, got, want)
	}
	if got := a.header.Get("X-Ratelimit-Remaining-Requests"); got != "0" {
		t.Errorf("%s: x-ratelimit-remaining-requests %q, want 0", what, got)
	}
	if reset, err := time.ParseDuration(a.header.Get("X-Ratelimit-Reset-Requests")); err != nil || reset <= 0 || reset > time.Minute {
		t.Errorf("%s: x-ratelimit-reset-requests %q, want a duration within the minute", what, a.header.Get("X-Ratelimit-Reset-Requests"))
	}
}

// wantStoreDown checks fail_closed's answer while Redis is down: 503 in
// OpenAI's envelope, retry in a second (the engine probes Redis every second).
func wantStoreDown(t *testing.T, what string, a replicaAnswer) {
	t.Helper()
	if a.status != 503 || a.errType != "server_error" || !strings.Contains(a.errMsg, "limit store is unavailable") ||
		a.header.Get("Retry-After") != "1" {
		t.Fatalf("%s: %s, want 503 server_error (limit store is unavailable) with Retry-After 1", what, a)
	}
}

// 20 concurrent requests with one key against its 10 requests per minute,
// alternating between two router processes that share one Redis, get exactly
// 10 answers and 10 429s with Retry-After and the x-ratelimit-* headers; the
// upstream receives 10. After them, either process refuses the key.
func TestReplicaProcessesEnforceOneLimitExactly(t *testing.T) {
	s := startReplicas(t, 10, "fail_closed")
	start := make(chan struct{})
	answers := make([]replicaAnswer, 20)
	errs := make([]error, 20)
	var wg sync.WaitGroup
	for i := range answers {
		wg.Go(func() {
			<-start
			answers[i], errs[i] = ask(t.Context(), s.clients[i%2])
		})
	}
	began := time.Now()
	close(start)
	wg.Wait()
	took := time.Since(began)
	count := map[int]int{}
	for i, a := range answers {
		if errs[i] != nil {
			t.Fatalf("request %d to router %d: %v", i, i%2, errs[i])
		}
		count[a.status]++
		switch a.status {
		case 200:
			wantServed(t, fmt.Sprintf("request %d", i), a)
		case 429:
			wantRateLimited(t, fmt.Sprintf("request %d", i), a, 10)
		}
	}
	if count[200] != 10 || count[429] != 10 {
		// A window of 10 rpm refills one request every 6 s: only a burst slower
		// than that could admit an 11th.
		t.Fatalf("statuses %v in %s, want exactly 10 x 200 and 10 x 429", count, took)
	}
	for i := range s.routers {
		wantRateLimited(t, fmt.Sprintf("router %d after the burst", i), s.send(t, i), 10)
	}
	if n, wrong := s.up.requests.Load(), s.up.wrong.Load(); n != 10 || wrong != 0 {
		t.Errorf("upstream received %d requests (%d not as the deployment), want 10", n, wrong)
	}
	for i, r := range s.routers { // the access log names the key, never shows it
		if line := r.log.awaitRequest(t, "/v1/chat/completions"); line.Get("key").String() != "team-a" {
			t.Errorf("router %d access log: %s", i, line.Raw)
		}
	}
}

// untilAdmitted sends requests to router i until one is admitted. A process
// notices that Redis is back only when a request probes it (at most one a
// second while it is down), so this polls the child process, paced, within a
// bounded deadline; every refusal meanwhile must be fail_closed's 503.
func (s *replicaSet) untilAdmitted(t *testing.T, i int) replicaAnswer {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	pace := time.NewTicker(50 * time.Millisecond)
	defer pace.Stop()
	for tries := 1; ; tries++ {
		a := s.send(t, i)
		if a.status == 200 {
			return a
		}
		wantStoreDown(t, fmt.Sprintf("router %d after Redis restarted, try %d", i, tries), a)
		if time.Now().After(deadline) {
			t.Fatalf("router %d still refuses %d tries after Redis restarted:\n%s", i, tries, s.routers[i].log.String())
		}
		<-pace.C
	}
}

// fail_closed through a Redis outage, from outside: Redis stopped, both router
// processes answer 503 in OpenAI's envelope with Retry-After (while /readyz
// keeps them in the load balancer's rotation) and log the outage once, the
// Redis URL masked; Redis restarted on the same port (empty), each process is
// admitted again by itself and the shared count goes on: 3 requests across
// both, then 429 from either.
func TestReplicaProcessesFailClosedThroughARedisOutage(t *testing.T) {
	s := startReplicas(t, 3, "fail_closed")
	for i := range 3 {
		wantServed(t, "before the outage", s.send(t, i%2))
	}
	for i := range s.routers {
		wantRateLimited(t, fmt.Sprintf("router %d before the outage", i), s.send(t, i), 3)
	}

	s.redis.Stop()
	for i, r := range s.routers {
		for range 2 { // 503 whether a request tries Redis or waits for the next probe
			wantStoreDown(t, fmt.Sprintf("router %d with Redis down", i), s.send(t, i))
		}
		line := r.log.await(t, "limit store unavailable")
		if store := line.Get("store").String(); !strings.HasPrefix(store, "redis://:") || !strings.HasSuffix(store, "@"+s.redis.Addr+"/0") ||
			line.Get("policy").String() != "fail_closed" { // the password masked (noSecretsLogged checks it is nowhere)
			t.Errorf("router %d outage log: %s", i, line.Raw)
		}
		if st := readyStatus(t, r.addr); st != 200 {
			t.Errorf("router %d /readyz with Redis down: %d, want 200 (the store is not the replica's health)", i, st)
		}
	}
	if n := s.up.requests.Load(); n != 3 {
		t.Fatalf("upstream received %d requests, want the 3 before the outage", n)
	}

	s.redis.Restart()
	for i, r := range s.routers {
		s.untilAdmitted(t, i)
		r.log.await(t, "limit store available again")
	}
	wantServed(t, "the third after Redis restarted", s.send(t, 0))
	for i, r := range s.routers {
		wantRateLimited(t, fmt.Sprintf("router %d after Redis restarted", i), s.send(t, i), 3)
		log := r.log.String()
		if strings.Count(log, `"limit store unavailable"`) != 1 || strings.Count(log, `"limit store available again"`) != 1 {
			t.Errorf("router %d: want the outage and the recovery logged once each:\n%s", i, log)
		}
	}
	if n, wrong := s.up.requests.Load(), s.up.wrong.Load(); n != 6 || wrong != 0 {
		t.Errorf("upstream received %d requests (%d not as the deployment), want 3 + 3", n, wrong)
	}
}

// readyStatus is the status of GET /readyz.
func readyStatus(t *testing.T, addr string) int {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// untilRefused sends requests to router i (fail_open), each served, until one
// is refused by the limit: the process admits unchecked until a request probes
// Redis and finds it back (at most one probe a second), so this polls the child
// process as untilAdmitted does. It returns how many were served meanwhile.
func (s *replicaSet) untilRefused(t *testing.T, i, limit int) int {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	pace := time.NewTicker(50 * time.Millisecond)
	defer pace.Stop()
	for served := 0; ; served++ {
		a := s.send(t, i)
		if a.status == 429 {
			wantRateLimited(t, fmt.Sprintf("router %d after Redis restarted", i), a, limit)
			return served
		}
		wantServed(t, fmt.Sprintf("router %d (fail_open) after Redis restarted, request %d", i, served+1), a)
		if time.Now().After(deadline) {
			t.Fatalf("router %d still admits after %d requests since Redis restarted:\n%s", i, served+1, s.routers[i].log.String())
		}
		<-pace.C
	}
}

// fail_open through a Redis outage: both processes serve while Redis is down
// (logging the outage once), and once each has found Redis back by itself the
// shared limit holds again: router 0 is served until its probe succeeds and the
// 2 requests of the window are spent, then refused; router 1's first request
// checked in Redis is refused, on the count router 0 left there.
func TestReplicaProcessesFailOpenThroughARedisOutage(t *testing.T) {
	s := startReplicas(t, 2, "fail_open")
	for i := range s.routers {
		wantServed(t, "before the outage", s.send(t, i))
	}
	for i := range s.routers {
		wantRateLimited(t, fmt.Sprintf("router %d before the outage", i), s.send(t, i), 2)
	}

	s.redis.Stop()
	for i, r := range s.routers {
		for range 2 {
			wantServed(t, fmt.Sprintf("router %d with Redis down", i), s.send(t, i))
		}
		if line := r.log.await(t, "limit store unavailable"); line.Get("policy").String() != "fail_open" {
			t.Errorf("router %d outage log: %s", i, line.Raw)
		}
	}
	if n := s.up.requests.Load(); n != 2+4 {
		t.Errorf("upstream received %d requests, want 2 before the outage and 4 during it", n)
	}

	s.redis.Restart()
	if served := s.untilRefused(t, 0, 2); served < 2 {
		t.Errorf("router 0 served %d requests after Redis restarted, want at least the window's 2", served)
	}
	s.untilRefused(t, 1, 2) // served only while it has not probed Redis yet
	for i, r := range s.routers {
		r.log.await(t, "limit store available again")
		wantRateLimited(t, fmt.Sprintf("router %d once both are back", i), s.send(t, i), 2)
		log := r.log.String()
		if strings.Count(log, `"limit store unavailable"`) != 1 || strings.Count(log, `"limit store available again"`) != 1 {
			t.Errorf("router %d: want the outage and the recovery logged once each:\n%s", i, log)
		}
	}
	if wrong := s.up.wrong.Load(); wrong != 0 {
		t.Errorf("upstream received %d requests not as the deployment", wrong)
	}
}
