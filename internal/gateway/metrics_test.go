package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/openai/openai-go/v3"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/tidwall/gjson"

	"github.com/llmrouter/llmrouter/internal/gateway"
	"github.com/llmrouter/llmrouter/internal/metrics"
)

// metricsConfig has a model on every provider, a model that fails once (a
// retry), and a model whose stream the test holds open. The router has keys and
// /metrics has its own.
const metricsConfig = `
server:
  api_keys: [sk-client-key-ffffffffffff, ant-client-key-ffffffffffff]
  metrics_key: metrics-key-0123456789abcdef
defaults:
  retry: {attempts: 2, initial_backoff: 1ms, max_backoff: 2ms, jitter: 0}
models:
  - {name: gpt-4o, id: gpt-4o-main, provider: openai, endpoint: "{{UP}}/openai/v1", api_key: sk-model-key-0123456789abcdef}
  - {name: claude-x, provider: anthropic, endpoint: "{{UP}}/anthropic", api_key: ant-model-key-0123456789abcdef}
  - {name: llama3, provider: ollama, endpoint: "{{UP}}/ollama"}
  - {name: flaky, provider: openai, endpoint: "{{UP}}/flaky/v1", api_key: sk-model-key-0123456789abcdef}
  - {name: slow, provider: openai, endpoint: "{{UP}}/slow/v1", api_key: sk-model-key-0123456789abcdef}
`

const metricsKey = "metrics-key-0123456789abcdef"

// Answers with every kind of usage: OpenAI's (cached and reasoning tokens are
// parts of the totals) and Anthropic's (cache reads and writes are not part of
// input_tokens: its input is 20+4+6 = 30 in the conventions' terms).
const (
	openAIAnswer    = `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":11,"completion_tokens":7,"total_tokens":18,"prompt_tokens_details":{"cached_tokens":3},"completion_tokens_details":{"reasoning_tokens":2}}}`
	anthropicAnswer = `{"id":"msg_1","type":"message","role":"assistant","model":"claude-x-1","content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":20,"cache_read_input_tokens":4,"cache_creation_input_tokens":6,"output_tokens":5}}`
)

// providers is a fake of every provider behind one server, by path prefix.
type providers struct {
	flakyCalls atomic.Int32
	slowOpen   chan struct{} // closed when the slow stream's first chunk is out
	slowGo     chan struct{} // close to let the slow stream finish
	up         *upstream
}

func newProviders(t *testing.T) *providers {
	p := &providers{slowOpen: make(chan struct{}), slowGo: make(chan struct{})}
	openAIStream := fixture(t, "fixtures/openai-chat-stream-usage.sse")          // usage 20 in, 2 out
	anthropicStream := fixture(t, "fixtures/anthropic-messages-stream-text.sse") // usage 11 in, 6 out
	ollamaStream := fixture(t, "ollama-real/api_chat_stream.body")               // 29 in, 10 out
	ollamaAnswer := fixture(t, "ollama-real/api_chat_nostream.body")             // 50 in, 10 out
	p.up = newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		stream := gjson.GetBytes(body, "stream").Bool()
		switch prefix, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/"); {
		case prefix == "openai" && stream, prefix == "slow" && !stream:
			replaySSE(openAIStream)(w, r)
		case prefix == "openai":
			replay(200, "application/json", []byte(openAIAnswer))(w, r)
		case prefix == "anthropic" && stream:
			replaySSE(anthropicStream)(w, r)
		case prefix == "anthropic":
			replay(200, "application/json", []byte(anthropicAnswer))(w, r)
		case prefix == "ollama" && stream:
			replayNDJSON(ollamaStream)(w, r)
		case prefix == "ollama":
			replay(200, "application/json", ollamaAnswer)(w, r)
		case prefix == "flaky" && p.flakyCalls.Add(1) == 1:
			replay(503, "application/json", []byte(`{"error":{"message":"overloaded","type":"server_error"}}`))(w, r)
		case prefix == "flaky":
			replay(200, "application/json", []byte(openAIAnswer))(w, r)
		case prefix == "slow":
			p.slowStream(w, openAIStream)
		default:
			http.NotFound(w, r)
		}
	})
	return p
}

// slowStream sends the first event, then waits for slowGo to send the rest.
func (p *providers) slowStream(w http.ResponseWriter, transcript []byte) {
	w.Header().Set("Content-Type", "text/event-stream")
	events := bytes.SplitAfter(transcript, []byte("\n\n"))
	for i, ev := range events {
		_, _ = w.Write(ev)
		w.(http.Flusher).Flush()
		if i == 1 { // the role chunk and the first content chunk are out: committed
			close(p.slowOpen)
			<-p.slowGo
		}
	}
}

// replayNDJSON writes an Ollama transcript line by line, flushing each.
func replayNDJSON(body []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-ndjson")
		for line := range bytes.Lines(body) {
			_, _ = w.Write(line)
			w.(http.Flusher).Flush()
		}
	}
}

// scrapeMetrics GETs /metrics from the router with the metrics key and parses it.
func scrapeMetrics(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+metricsKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET /metrics: %s: %s", resp.Status, b)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return fams
}

// labels is a series' label set; a label absent from the series reads as "".
type labels map[string]string

// find returns the series of a family whose labels include want.
func find(fams map[string]*dto.MetricFamily, name string, want labels) []*dto.Metric {
	var out []*dto.Metric
	for _, m := range fams[name].GetMetric() {
		got := labels{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		ok := true
		for k, v := range want {
			ok = ok && got[k] == v
		}
		if ok {
			out = append(out, m)
		}
	}
	return out
}

// metricValue sums a counter's or gauge's value, or a histogram's sample count,
// over the series whose labels include want; have reports whether any matched.
func metricValue(fams map[string]*dto.MetricFamily, name string, want labels) (v float64, have bool) {
	for _, m := range find(fams, name, want) {
		have = true
		switch {
		case m.Counter != nil:
			v += m.Counter.GetValue()
		case m.Gauge != nil:
			v += m.Gauge.GetValue()
		case m.Histogram != nil:
			v += float64(m.Histogram.GetSampleCount())
		}
	}
	return v, have
}

func histogramSum(fams map[string]*dto.MetricFamily, name string, want labels) float64 {
	var sum float64
	for _, m := range find(fams, name, want) {
		sum += m.GetHistogram().GetSampleSum()
	}
	return sum
}

// check asserts the values of the series matching each label set.
func check(t *testing.T, fams map[string]*dto.MetricFamily, name string, want map[float64][]labels) {
	t.Helper()
	for v, sets := range want {
		for _, l := range sets {
			got, have := metricValue(fams, name, l)
			if !have || got != v {
				for _, m := range fams[name].GetMetric() {
					t.Log(m.String())
				}
				t.Errorf("%s%v = %v (found: %v), want %v", name, l, got, have, v)
			}
		}
	}
}

func newMetricsRouter(t *testing.T) (*router, *providers) {
	p := newProviders(t)
	return newRouter(t, metricsConfig, p.up.URL, gateway.WithMetrics(metrics.New())), p
}

// sendEveryKind sends ten requests with the official SDKs (and two raw ones):
// every provider, stream and not, passthrough and translated, a retried one, an
// unknown model, one without a key and a legacy completion.
func sendEveryKind(t *testing.T, rt *router) {
	t.Helper()
	ctx := context.Background()
	oa, an := openAIClient(rt.URL), anthropicClient(rt.URL)
	chat := func(model string) openai.ChatCompletionNewParams {
		return openai.ChatCompletionNewParams{Model: model, Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hi")},
			StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}}
	}
	messages := func(model string) anthropic.MessageNewParams {
		return anthropic.MessageNewParams{Model: anthropic.Model(model), MaxTokens: 64,
			Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Hi"))}}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err := oa.Chat.Completions.New(ctx, chat("gpt-4o")) // passthrough
	must(err)
	drain(t, oa.Chat.Completions.NewStreaming(ctx, chat("gpt-4o"))) // passthrough stream
	_, err = oa.Chat.Completions.New(ctx, chat("claude-x"))         // translated to Anthropic
	must(err)
	drain(t, an.Messages.NewStreaming(ctx, messages("claude-x"))) // passthrough stream
	_, err = an.Messages.New(ctx, messages("llama3"))             // translated to Ollama
	must(err)
	drain(t, oa.Chat.Completions.NewStreaming(ctx, chat("llama3"))) // translated stream
	_, err = oa.Chat.Completions.New(ctx, chat("flaky"))            // 503, retried
	must(err)
	if _, err = oa.Chat.Completions.New(ctx, chat("gpt-5-typo")); err == nil {
		t.Fatal("an unknown model was answered")
	}
	if resp, _ := post(t, rt.URL+"/v1/chat/completions", `{"model":"gpt-4o","messages":[]}`, nil); resp.StatusCode != 401 {
		t.Fatalf("a request without a key got %d", resp.StatusCode)
	}
	legacy := map[string]string{"Authorization": "Bearer sk-client-key-ffffffffffff"}
	if resp, b := post(t, rt.URL+"/v1/completions", `{"model":"claude-x","prompt":"Hi","max_tokens":8}`, legacy); resp.StatusCode != 200 {
		t.Fatalf("legacy completion to Anthropic: %d %s", resp.StatusCode, b)
	}
}

// The request metrics after real requests through the real server: every
// provider, stream and not, passthrough and translated, a retry, an unknown
// model and a request without a key; the values are the upstreams' own.
func TestMetricsAfterRealRequests(t *testing.T) {
	rt, _ := newMetricsRouter(t)
	sendEveryKind(t, rt)
	waitRequests(t, rt, 10)
	fams := scrapeMetrics(t, rt.URL)

	check(t, fams, "llmrouter_requests_total", map[float64][]labels{
		1: {
			{"gen_ai_request_model": "gpt-4o", "deployment_id": "gpt-4o-main", "gen_ai_provider_name": "openai", "client_api": "openai-chat", "status_class": "2xx", "stream": "false"},
			{"gen_ai_request_model": "gpt-4o", "deployment_id": "gpt-4o-main", "client_api": "openai-chat", "status_class": "2xx", "stream": "true"},
			{"gen_ai_request_model": "claude-x", "deployment_id": "claude-x#1", "gen_ai_provider_name": "anthropic", "client_api": "openai-chat", "stream": "false"},
			{"gen_ai_request_model": "claude-x", "deployment_id": "claude-x#1", "client_api": "anthropic-messages", "stream": "true"},
			{"gen_ai_request_model": "llama3", "deployment_id": "llama3#1", "gen_ai_provider_name": "ollama", "client_api": "anthropic-messages", "stream": "false"},
			{"gen_ai_request_model": "llama3", "client_api": "openai-chat", "stream": "true", "status_class": "2xx"},
			{"gen_ai_request_model": "flaky", "deployment_id": "flaky#1", "status_class": "2xx"},
		},
		2: {{"gen_ai_request_model": "other", "deployment_id": "none", "status_class": "4xx"}}, // the typo and the missing key
	})
	check(t, fams, "gen_ai_server_request_duration_seconds", map[float64][]labels{
		1: {
			{"gen_ai_request_model": "other", "error_type": "not_found"},
			{"gen_ai_request_model": "other", "error_type": "unauthorized"},
			{"gen_ai_request_model": "flaky", "error_type": "", "gen_ai_operation_name": "chat"},
			{"gen_ai_request_model": "claude-x", "client_api": "openai-completions", "gen_ai_operation_name": "text_completion"},
		},
	})
	// Token counts are the upstreams' (see the answers and fixtures above).
	check(t, fams, "llmrouter_tokens_total", map[float64][]labels{
		11 + 20:      {{"gen_ai_request_model": "gpt-4o", "gen_ai_token_type": "input"}},
		7 + 2:        {{"gen_ai_request_model": "gpt-4o", "gen_ai_token_type": "output"}},
		3:            {{"gen_ai_request_model": "gpt-4o", "gen_ai_token_type": "cache_read"}},
		2:            {{"gen_ai_request_model": "gpt-4o", "gen_ai_token_type": "reasoning"}, {"gen_ai_request_model": "flaky", "gen_ai_token_type": "reasoning"}},
		30 + 11 + 30: {{"gen_ai_request_model": "claude-x", "gen_ai_token_type": "input"}},
		5 + 6 + 5:    {{"gen_ai_request_model": "claude-x", "gen_ai_token_type": "output"}},
		4 + 4:        {{"gen_ai_request_model": "claude-x", "gen_ai_token_type": "cache_read"}},
		6 + 6:        {{"gen_ai_request_model": "claude-x", "gen_ai_token_type": "cache_write"}},
		50 + 29:      {{"gen_ai_request_model": "llama3", "gen_ai_token_type": "input"}},
		10 + 10:      {{"gen_ai_request_model": "llama3", "gen_ai_token_type": "output"}},
	})
	if got := histogramSum(fams, "gen_ai_client_token_usage", labels{"gen_ai_request_model": "llama3", "gen_ai_token_type": "input"}); got != 79 {
		t.Errorf("gen_ai_client_token_usage input sum for llama3 = %v, want 79", got)
	}
	// The retry: one failed attempt, one that answered, one retry with its cause.
	check(t, fams, "llmrouter_upstream_attempts_total", map[float64][]labels{
		1: {{"deployment_id": "flaky#1", "error_type": "server_error"}, {"deployment_id": "flaky#1", "error_type": ""}},
		2: {{"deployment_id": "gpt-4o-main", "error_type": ""}, {"deployment_id": "llama3#1", "gen_ai_operation_name": "chat", "error_type": ""}},
		3: {{"deployment_id": "claude-x#1", "gen_ai_operation_name": "chat"}}, // a legacy completion is chat upstream
	})
	check(t, fams, "llmrouter_upstream_retries_total", map[float64][]labels{1: {{"deployment_id": "flaky#1", "cause": "server_error"}}})
	check(t, fams, "gen_ai_client_operation_duration_seconds", map[float64][]labels{2: {{"deployment_id": "flaky#1"}}})
	// Every answered request had a first byte and an overhead; the refused ones neither.
	check(t, fams, "gen_ai_server_time_to_first_token_seconds", map[float64][]labels{
		1: {{"gen_ai_request_model": "gpt-4o", "stream": "true"}, {"gen_ai_request_model": "llama3", "stream": "true"}},
	})
	if n, _ := metricValue(fams, "gen_ai_server_time_to_first_token_seconds", labels{}); n != 8 {
		t.Errorf("time to first token observed %v times, want 8 (every answered request)", n)
	}
	if n, _ := metricValue(fams, "llmrouter_overhead_seconds", labels{}); n != 8 {
		t.Errorf("overhead observed %v times, want 8", n)
	}
	check(t, fams, "llmrouter_requests_in_flight", map[float64][]labels{0: {{"gen_ai_request_model": "gpt-4o"}, {"gen_ai_request_model": "llama3"}}})
	check(t, fams, "llmrouter_streams_in_flight", map[float64][]labels{0: {{"gen_ai_request_model": "gpt-4o"}, {"gen_ai_request_model": "claude-x"}}})
}

// drain reads an SDK stream to its end.
func drain(t *testing.T, s interface {
	Next() bool
	Err() error
}) {
	t.Helper()
	for s.Next() {
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
}

// A stream in flight is one request and one stream in flight on its model; once
// it ends, both gauges are back to 0.
func TestInFlightGaugesReturnToZero(t *testing.T) {
	rt, p := newMetricsRouter(t)
	done := make(chan error, 1)
	go func() {
		s := openAIClient(rt.URL).Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{
			Model: "slow", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hi")}})
		for s.Next() {
		}
		done <- s.Err()
	}()
	<-p.slowOpen
	gauges := []string{"llmrouter_requests_in_flight", "llmrouter_streams_in_flight"}
	slow := labels{"gen_ai_request_model": "slow", "client_api": "openai-chat"}
	during := scrapeMetrics(t, rt.URL)
	for _, g := range gauges {
		check(t, during, g, map[float64][]labels{1: {slow}})
	}
	close(p.slowGo)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// The handler returns after the client has its last byte: wait for the
	// request's access-log line, written when its metrics are recorded.
	waitForLog(t, rt, `"model":"slow"`)
	after := scrapeMetrics(t, rt.URL)
	for _, g := range gauges {
		check(t, after, g, map[float64][]labels{0: {slow}})
	}
}

// waitRequests waits until the router has logged n requests: a request's
// metrics are recorded with its access-log line, after its client has the
// answer.
func waitRequests(t *testing.T, rt *router, n int) {
	t.Helper()
	rt.log.wait(t, func(log string) bool { return strings.Count(log, `"msg":"request"`) >= n })
}

// waitForLog waits until the router's log has a request line containing s.
func waitForLog(t *testing.T, rt *router, s string) {
	t.Helper()
	rt.log.wait(t, func(log string) bool {
		return slices.ContainsFunc(strings.Split(log, "\n"), func(l string) bool {
			return strings.Contains(l, `"msg":"request"`) && strings.Contains(l, s)
		})
	})
}

// GET /metrics is never behind the router's keys; it has its own, which a scrape
// without it, or with a client key, does not pass.
func TestMetricsEndpointHasItsOwnKey(t *testing.T) {
	rt, _ := newMetricsRouter(t)
	for _, auth := range []string{"", "Bearer sk-client-key-ffffffffffff", "Bearer wrong"} {
		req, _ := http.NewRequest(http.MethodGet, rt.URL+"/metrics", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || bytes.Contains(b, []byte(metricsKey)) {
			t.Errorf("GET /metrics with %q: %d %s", auth, resp.StatusCode, b)
		}
	}
	if fams := scrapeMetrics(t, rt.URL); fams["llmrouter_config_reloads_total"] == nil {
		t.Error("the scrape has no llmrouter_config_reloads_total")
	}
	if strings.Contains(rt.log.String(), "/metrics") {
		t.Error("a scrape wrote an access-log line")
	}
}

// randomModel is a model name nobody configured: a typo, a scanner, an attack.
func randomModel(rnd *rand.Rand) string {
	const chars = "abcdefghijklmnopqrstuvwxyz0123456789-._/:*@ "
	b := make([]byte, 1+rnd.IntN(60))
	for i := range b {
		b[i] = chars[rnd.IntN(len(chars))]
	}
	return string(b)
}

// seriesOf counts the series of llmrouter's own families in a scrape.
func seriesOf(fams map[string]*dto.MetricFamily) int {
	n := 0
	for name, f := range fams {
		if strings.HasPrefix(name, "llmrouter_") || strings.HasPrefix(name, "gen_ai_") {
			n += len(f.GetMetric())
		}
	}
	return n
}

// Labels come only from the config: once one unknown model has made the "other"
// series, 10,000 random model names sent through the real server, on two client
// APIs, add not one series.
func TestRandomModelNamesAddNoSeries(t *testing.T) {
	rt, _ := newMetricsRouter(t)
	send := func(client *http.Client, path, model string) {
		b, _ := json.Marshal(map[string]any{"model": model, "max_tokens": 8, "messages": []any{map[string]string{"role": "user", "content": "Hi"}}})
		req, _ := http.NewRequest(http.MethodPost, rt.URL+path, bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer sk-client-key-ffffffffffff")
		resp, err := client.Do(req)
		if err != nil {
			t.Error(err)
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("model %q: %d, want 404", model, resp.StatusCode)
		}
	}
	paths := []string{"/v1/chat/completions", "/v1/messages"}
	for _, p := range paths {
		send(http.DefaultClient, p, "first-unknown")
	}
	waitRequests(t, rt, len(paths))
	before := seriesOf(scrapeMetrics(t, rt.URL))

	const n, workers = 10_000, 8
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			defer client.CloseIdleConnections()
			rnd := rand.New(rand.NewPCG(uint64(w), 12))
			for i := range n / workers {
				send(client, paths[i%len(paths)], randomModel(rnd))
			}
		})
	}
	wg.Wait()
	waitRequests(t, rt, len(paths)+n)
	fams := scrapeMetrics(t, rt.URL)
	if after := seriesOf(fams); after != before {
		t.Errorf("%d random model names added %d series (%d before, %d after)", n, after-before, before, after)
	}
	if got, _ := metricValue(fams, "llmrouter_requests_total", labels{"gen_ai_request_model": "other"}); got != float64(n+len(paths)) {
		t.Errorf("the other model counted %v requests, want %d", got, n+len(paths))
	}
}
