package metrics

import (
	"errors"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	semconv "go.opentelemetry.io/otel/semconv/v1.41.0"
	"go.opentelemetry.io/otel/semconv/v1.41.0/genaiconv"
)

// TestNamesFollowTheConventions derives the Prometheus name of each GenAI instrument
// and attribute from the semantic-conventions package the way the OpenTelemetry to
// Prometheus mapping does (dots to underscores; unit "s" appended as _seconds; an
// annotation unit such as {token} dropped) and checks that it is what we export.
func TestNamesFollowTheConventions(t *testing.T) {
	promName := func(name, unit string) string {
		n := strings.ReplaceAll(name, ".", "_")
		if unit == "s" {
			return n + "_seconds"
		}
		if !strings.HasPrefix(unit, "{") {
			t.Fatalf("unit %q of %s has no mapping here", unit, name)
		}
		return n
	}
	instruments := []struct{ name, unit, ours string }{
		{genaiconv.ServerRequestDuration{}.Name(), genaiconv.ServerRequestDuration{}.Unit(), "gen_ai_server_request_duration_seconds"},
		{genaiconv.ServerTimeToFirstToken{}.Name(), genaiconv.ServerTimeToFirstToken{}.Unit(), "gen_ai_server_time_to_first_token_seconds"},
		{genaiconv.ClientTokenUsage{}.Name(), genaiconv.ClientTokenUsage{}.Unit(), "gen_ai_client_token_usage"},
		{genaiconv.ClientOperationDuration{}.Name(), genaiconv.ClientOperationDuration{}.Unit(), "gen_ai_client_operation_duration_seconds"},
	}
	m := New()
	set := build(t, m, testConfig())
	q := set.Route("gpt-4o").Start(APIChat, true)
	q.Attempt(Attempt{Deployment: set.Deployment("gpt-4o-a"), Duration: time.Second})
	q.Done(Outcome{Deployment: set.Deployment("gpt-4o-a"), Status: 200, FirstByte: time.Millisecond, Usage: Usage{Input: 1, Output: 1}})
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	exported := map[string]bool{}
	for _, f := range fams {
		exported[f.GetName()] = true
	}
	for _, in := range instruments {
		if want := promName(in.name, in.unit); want != in.ours {
			t.Errorf("%s: we name it %s, the mapping gives %s", in.name, in.ours, want)
		}
		if !exported[in.ours] {
			t.Errorf("%s is not exported", in.ours)
		}
	}
	labels := map[string]string{
		labelOperation: string(semconv.GenAIOperationNameKey), labelProvider: string(semconv.GenAIProviderNameKey),
		labelModel: string(semconv.GenAIRequestModelKey), labelTokenType: string(semconv.GenAITokenTypeKey),
		labelErrorType: string(semconv.ErrorTypeKey),
	}
	for ours, attr := range labels {
		if want := strings.ReplaceAll(attr, ".", "_"); ours != want {
			t.Errorf("label for %s is %s, want %s", attr, ours, want)
		}
	}
	ops := map[Operation]string{
		OpChat: semconv.GenAIOperationNameChat.Value.AsString(), OpTextCompletion: semconv.GenAIOperationNameTextCompletion.Value.AsString(),
		OpEmbeddings: semconv.GenAIOperationNameEmbeddings.Value.AsString(),
	}
	for op, want := range ops {
		if op.String() != want {
			t.Errorf("operation %d is %q, the conventions spell it %q", op, op, want)
		}
	}
	if got, want := CauseOther.String(), semconv.ErrorTypeOther.Value.AsString(); got != want {
		t.Errorf("fallback error type %q, want %q", got, want)
	}
}

// TestScrapeShowsRecordedRequests records requests the way the gateway will (a
// stream with a retry, a fallback to another model, an unknown model), scrapes the
// real handler and checks every value.
func TestScrapeShowsRecordedRequests(t *testing.T) {
	m := New()
	srv := serve(t, m, "")
	set := build(t, m, testConfig())
	gpt, claude := set.Route("gpt-4o"), set.Route("claude-*")
	a, b, c := set.Deployment("gpt-4o-a"), set.Deployment("gpt-4o-b"), set.Deployment("claude#1")

	q := gpt.Start(APIChat, true)
	q.Attempt(Attempt{Deployment: a, Operation: OpChat, Error: CauseServerError, Duration: 100 * time.Millisecond})
	q.Retry(a, CauseServerError)
	q.Attempt(Attempt{Deployment: b, Operation: OpChat, Duration: 200 * time.Millisecond})
	during := scrape(t, srv.URL)
	inflight := map[string]string{labelModel: "gpt-4o", labelAPI: "openai-chat"}
	for _, name := range []string{"llmrouter_requests_in_flight", "llmrouter_streams_in_flight"} {
		if v := value(t, during, name, inflight); v != 1 {
			t.Errorf("%s during the stream = %v, want 1", name, v)
		}
	}
	q.Done(Outcome{Deployment: b, Status: 200, Duration: 1500 * time.Millisecond, FirstByte: 300 * time.Millisecond,
		Overhead: time.Millisecond, Usage: Usage{Input: 120, Output: 30, CacheRead: 100, Reasoning: 10}})

	q = gpt.Start(APIMessages, false)
	q.Attempt(Attempt{Deployment: a, Operation: OpChat, Error: CauseRateLimited, Duration: time.Millisecond})
	q.Attempt(Attempt{Deployment: b, Operation: OpChat, Error: CauseRateLimited, Duration: time.Millisecond})
	q.Fallback(claude, CauseRateLimited)
	q.Attempt(Attempt{Deployment: c, Operation: OpChat, Duration: time.Second})
	q.Done(Outcome{Deployment: c, Status: 200, Duration: 2 * time.Second, Usage: Usage{Input: 50, Output: 5, CacheWrite: 40}, Dropped: 2})

	q = set.Route("gpt-5-typo").Start(APIChat, false)
	q.Done(Outcome{Status: 404, Error: CauseNotFound, Duration: time.Millisecond})
	a.Ejected(CauseServerError)

	fams := scrape(t, srv.URL)
	checkRequests(t, fams)
	checkUpstream(t, fams)
	for _, name := range []string{"llmrouter_requests_in_flight", "llmrouter_streams_in_flight"} {
		if v := value(t, fams, name, inflight); v != 0 {
			t.Errorf("%s after the stream = %v, want 0", name, v)
		}
	}
}

func checkRequests(t *testing.T, fams map[string]*dto.MetricFamily) {
	t.Helper()
	want := []struct {
		name   string
		labels map[string]string
		value  float64
	}{
		{"llmrouter_requests_total", map[string]string{labelModel: "gpt-4o", labelDeployment: "gpt-4o-b", labelProvider: "openai", labelAPI: "openai-chat", labelClass: "2xx", labelStream: "true"}, 1},
		{"llmrouter_requests_total", map[string]string{labelModel: "gpt-4o", labelDeployment: "claude#1", labelProvider: "anthropic", labelAPI: "anthropic-messages", labelClass: "2xx", labelStream: "false"}, 1},
		{"llmrouter_requests_total", map[string]string{labelModel: Other, labelDeployment: None, labelProvider: None, labelClass: "4xx"}, 1},
		{"gen_ai_server_request_duration_seconds", map[string]string{labelOperation: "chat", labelModel: "gpt-4o", labelDeployment: "gpt-4o-b", labelStream: "true", labelErrorType: ""}, 1},
		{"gen_ai_server_request_duration_seconds", map[string]string{labelModel: Other, labelErrorType: "not_found"}, 1},
		{"gen_ai_server_time_to_first_token_seconds", map[string]string{labelModel: "gpt-4o", labelDeployment: "gpt-4o-b"}, 1},
		{"llmrouter_tokens_total", map[string]string{labelModel: "gpt-4o", labelDeployment: "gpt-4o-b", labelTokenType: "input"}, 120},
		{"llmrouter_tokens_total", map[string]string{labelModel: "gpt-4o", labelDeployment: "gpt-4o-b", labelTokenType: "output"}, 30},
		{"llmrouter_tokens_total", map[string]string{labelModel: "gpt-4o", labelDeployment: "gpt-4o-b", labelTokenType: "cache_read"}, 100},
		{"llmrouter_tokens_total", map[string]string{labelModel: "gpt-4o", labelDeployment: "gpt-4o-b", labelTokenType: "reasoning"}, 10},
		{"llmrouter_tokens_total", map[string]string{labelModel: "gpt-4o", labelDeployment: "claude#1", labelTokenType: "cache_write"}, 40},
		{"gen_ai_client_token_usage", map[string]string{labelModel: "gpt-4o", labelDeployment: "claude#1", labelTokenType: "output"}, 1},
		{"llmrouter_dropped_fields_total", map[string]string{labelModel: "gpt-4o", labelDeployment: "claude#1", labelAPI: "anthropic-messages"}, 2},
		{"llmrouter_overhead_seconds", map[string]string{labelModel: "gpt-4o", labelAPI: "openai-chat", labelStream: "true"}, 1},
	}
	for _, w := range want {
		if got := value(t, fams, w.name, w.labels); got != w.value {
			t.Errorf("%s%v = %v, want %v", w.name, w.labels, got, w.value)
		}
	}
	sums := []struct {
		name   string
		labels map[string]string
		sum    float64
	}{
		{"gen_ai_server_request_duration_seconds", map[string]string{labelModel: "gpt-4o", labelDeployment: "gpt-4o-b"}, 1.5},
		{"gen_ai_server_time_to_first_token_seconds", map[string]string{labelModel: "gpt-4o", labelDeployment: "gpt-4o-b"}, 0.3},
		{"gen_ai_client_token_usage", map[string]string{labelModel: "gpt-4o", labelDeployment: "gpt-4o-b", labelTokenType: "input"}, 120},
	}
	for _, w := range sums {
		if got := histSum(t, fams, w.name, w.labels); math.Abs(got-w.sum) > 1e-9 {
			t.Errorf("%s%v sum = %v, want %v", w.name, w.labels, got, w.sum)
		}
	}
	if _, ok := series(fams, "llmrouter_tokens_total", map[string]string{labelDeployment: "gpt-4o-b", labelTokenType: "cache_write"}); ok {
		t.Error("a token type the upstream did not report has a series")
	}
	if _, ok := series(fams, "gen_ai_server_time_to_first_token_seconds", map[string]string{labelDeployment: "claude#1"}); ok {
		t.Error("a request without a first byte has a time-to-first-token series")
	}
}

func checkUpstream(t *testing.T, fams map[string]*dto.MetricFamily) {
	t.Helper()
	want := []struct {
		name   string
		labels map[string]string
		value  float64
	}{
		{"llmrouter_upstream_attempts_total", map[string]string{labelModel: "gpt-4o", labelDeployment: "gpt-4o-a", labelErrorType: "server_error"}, 1},
		{"llmrouter_upstream_attempts_total", map[string]string{labelModel: "gpt-4o", labelDeployment: "gpt-4o-a", labelErrorType: "rate_limited"}, 1},
		{"llmrouter_upstream_attempts_total", map[string]string{labelModel: "gpt-4o", labelDeployment: "gpt-4o-b", labelErrorType: ""}, 1},
		{"llmrouter_upstream_attempts_total", map[string]string{labelModel: "claude-*", labelDeployment: "claude#1", labelProvider: "anthropic", labelErrorType: ""}, 1},
		{"gen_ai_client_operation_duration_seconds", map[string]string{labelModel: "claude-*", labelDeployment: "claude#1", labelOperation: "chat"}, 1},
		{"llmrouter_upstream_retries_total", map[string]string{labelModel: "gpt-4o", labelDeployment: "gpt-4o-a", labelCause: "server_error"}, 1},
		{"llmrouter_fallbacks_total", map[string]string{labelModel: "gpt-4o", labelFallbackTo: "claude-*", labelCause: "rate_limited"}, 1},
		{"llmrouter_deployment_ejections_total", map[string]string{labelModel: "gpt-4o", labelDeployment: "gpt-4o-a", labelCause: "server_error"}, 1},
	}
	for _, w := range want {
		if got := value(t, fams, w.name, w.labels); got != w.value {
			t.Errorf("%s%v = %v, want %v", w.name, w.labels, got, w.value)
		}
	}
	if got := histSum(t, fams, "gen_ai_client_operation_duration_seconds", map[string]string{labelDeployment: "gpt-4o-b", labelErrorType: ""}); math.Abs(got-0.2) > 1e-9 {
		t.Errorf("attempt duration sum = %v, want 0.2", got)
	}
}

func histSum(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	t.Helper()
	m, ok := series(fams, name, labels)
	if !ok || m.Histogram == nil {
		t.Fatalf("no histogram %s%v", name, labels)
	}
	return m.Histogram.GetSampleSum()
}

// TestLimitAndReloadSeries checks the limit decisions and the reload outcome series.
func TestLimitAndReloadSeries(t *testing.T) {
	m := New()
	srv := serve(t, m, "")
	set := build(t, m, testConfig())
	set.Key("team-search").Admitted()
	set.Key("team-search").Denied(ScopeRPM)
	set.Key("").StoreError(ScopeTPM, true)
	set.Key("sk-not-a-name").StoreError(ScopeBudget, false)
	start := time.Unix(1_700_000_000, 0)
	m.Loaded(start)
	m.Reloaded(nil, start.Add(time.Minute))
	m.Reloaded(errors.New("models[0].endpoint: not a URL"), start.Add(2*time.Minute))

	fams := scrape(t, srv.URL)
	want := []struct {
		name   string
		labels map[string]string
		value  float64
	}{
		{"llmrouter_limit_decisions_total", map[string]string{labelKey: "team-search", labelScope: "none", labelDecision: "admitted"}, 1},
		{"llmrouter_limit_decisions_total", map[string]string{labelKey: "team-search", labelScope: "rpm", labelDecision: "denied"}, 1},
		{"llmrouter_limit_decisions_total", map[string]string{labelKey: Unnamed, labelScope: "tpm", labelDecision: "fail_open"}, 1},
		{"llmrouter_limit_decisions_total", map[string]string{labelKey: Other, labelScope: "budget", labelDecision: "fail_closed"}, 1},
		{"llmrouter_config_reloads_total", map[string]string{labelResult: "success"}, 1},
		{"llmrouter_config_reloads_total", map[string]string{labelResult: "failure"}, 1},
		{"llmrouter_config_last_reload_successful", nil, 0},
		{"llmrouter_config_last_reload_success_timestamp_seconds", nil, float64(start.Add(time.Minute).Unix())},
	}
	for _, w := range want {
		if got := value(t, fams, w.name, w.labels); got != w.value {
			t.Errorf("%s%v = %v, want %v", w.name, w.labels, got, w.value)
		}
	}
}

// TestNilSetRecordsNothing: with metrics off the gateway holds a nil *Set, and every
// call on it and on what it returns is a no-op.
func TestNilSetRecordsNothing(t *testing.T) {
	var s *Set
	q := s.Route("gpt-4o").Start(APIChat, true)
	q.Attempt(Attempt{Deployment: s.Deployment("x")})
	q.Retry(s.Deployment("x"), CauseTimeout)
	q.Fallback(s.Route("y"), CauseTimeout)
	q.Done(Outcome{Status: 200})
	s.Deployment("x").Ejected(CauseTimeout)
	s.Key("k").Admitted()
	s.Route("gpt-4o").Deployment("x").Ejected(CauseTimeout)
}

func TestBuildRejectsDuplicateIDs(t *testing.T) {
	_, err := New().Build(Config{Deployments: []Deployment{
		{Model: "a", ID: "same", Provider: "openai"}, {Model: "b", ID: "same", Provider: "openai"},
	}})
	if !errors.Is(err, ErrDuplicateID) {
		t.Fatalf("Build = %v, want ErrDuplicateID", err)
	}
}

// TestRouteDeploymentStaysInItsModel: a route hands out only its own deployments;
// another model's id counts as the route's "other" deployment.
func TestRouteDeploymentStaysInItsModel(t *testing.T) {
	set := build(t, New(), testConfig())
	gpt := set.Route("gpt-4o")
	if h := gpt.Deployment("gpt-4o-b"); h != set.Deployment("gpt-4o-b") {
		t.Error("route lookup of its own deployment differs from the set's")
	}
	if h := gpt.Deployment("claude#1"); h.id != Other || h.route != gpt {
		t.Errorf("another model's deployment resolved to %s of %s", h.id, h.route.name)
	}
	if n := set.Route("claude-sonnet-4-5").Name(); n != Other {
		t.Errorf("a client string matching a glob resolved to %q; the gateway passes the entry name", n)
	}
}

func TestHandlerAuthentication(t *testing.T) {
	const key = "sk-metrics-0123456789abcdef"
	tests := []struct {
		name   string
		key    string // the handler's key
		method string
		auth   string // the request's Authorization header
		want   int
	}{
		{name: "open endpoint", method: http.MethodGet, want: http.StatusOK},
		{name: "open endpoint, HEAD", method: http.MethodHead, want: http.StatusOK},
		{name: "open endpoint ignores a header", method: http.MethodGet, auth: "Bearer anything", want: http.StatusOK},
		{name: "right key", key: key, method: http.MethodGet, auth: "Bearer " + key, want: http.StatusOK},
		{name: "no header", key: key, method: http.MethodGet, want: http.StatusUnauthorized},
		{name: "wrong key", key: key, method: http.MethodGet, auth: "Bearer sk-metrics-0123456789abcdeX", want: http.StatusUnauthorized},
		{name: "key prefix", key: key, method: http.MethodGet, auth: "Bearer " + key[:10], want: http.StatusUnauthorized},
		{name: "key without scheme", key: key, method: http.MethodGet, auth: key, want: http.StatusUnauthorized},
		{name: "POST", method: http.MethodPost, want: http.StatusMethodNotAllowed},
		{name: "POST with the key", key: key, method: http.MethodPost, auth: "Bearer " + key, want: http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := serve(t, New(), tt.key)
			req, err := http.NewRequest(tt.method, srv.URL+"/metrics", nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d (%s)", resp.StatusCode, tt.want, body)
			}
			checkResponse(t, resp, string(body), tt.method, key)
		})
	}
}

func checkResponse(t *testing.T, resp *http.Response, body, method, key string) {
	t.Helper()
	if strings.Contains(body, key) || strings.Contains(resp.Header.Get("WWW-Authenticate"), key) {
		t.Error("the response echoes the key")
	}
	switch resp.StatusCode {
	case http.StatusOK:
		if method == http.MethodGet && !strings.Contains(body, "# TYPE llmrouter_config_last_reload_successful gauge") {
			t.Errorf("not a Prometheus exposition:\n%.300s", body)
		}
	case http.StatusUnauthorized:
		if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("401 without a Bearer challenge: %q", resp.Header.Get("WWW-Authenticate"))
		}
	case http.StatusMethodNotAllowed:
		if resp.Header.Get("Allow") != "GET, HEAD" {
			t.Errorf("405 with Allow %q", resp.Header.Get("Allow"))
		}
	}
}
