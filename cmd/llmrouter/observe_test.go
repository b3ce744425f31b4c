package main

import (
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// otlpReceiver is an in-process OTLP/HTTP collector: it decodes each protobuf
// export and hands over its spans.
func otlpReceiver(t *testing.T) (*httptest.Server, chan *tracepb.Span) {
	t.Helper()
	got := make(chan *tracepb.Span, 64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		req := &coltracepb.ExportTraceServiceRequest{}
		if err != nil || r.URL.Path != "/v1/traces" || proto.Unmarshal(body, req) != nil {
			http.Error(w, "not an OTLP export", http.StatusBadRequest)
			return
		}
		for _, rs := range req.GetResourceSpans() {
			for _, ss := range rs.GetScopeSpans() {
				for _, s := range ss.GetSpans() {
					got <- s
				}
			}
		}
		out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

// get fetches url with an optional bearer key.
func get(t *testing.T, url, key string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// The binary with server.metrics_listen and a traces endpoint: /metrics is served
// on its own listener behind its own key (and not on the main one), counts the
// request once it is logged, and keeps answering; on SIGTERM, after the drain,
// the spans of the request reach the collector, continuing the client's trace,
// and the upstream got the attempt's traceparent.
func TestServeMetricsListenerAndTraces(t *testing.T) {
	const trace, parent = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	upstreamTP := make(chan string, 1)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		upstreamTP <- r.Header.Get("Traceparent")
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"c1","object":"chat.completion","created":1,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}`)
	}))
	defer up.Close()
	collector, spans := otlpReceiver(t)
	addr, maddr := freeAddr(t), freeAddr(t)
	cfg := fmt.Sprintf(`server: {listen: %s, metrics_listen: %s, metrics_key: metrics-key-0123456789}
telemetry: {traces: {endpoint: %s}}
models:
  - {name: gpt-4o, provider: openai, endpoint: %s/v1, api_key: sk-model-0123456789abcdef}
`, addr, maddr, collector.URL, up.URL)
	cmd, stderr := serveConfig(t, []string{"OTEL_EXPORTER_OTLP_ENDPOINT=", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=", "OTEL_SDK_DISABLED=", "OTEL_TRACES_EXPORTER="},
		addr, cfg)

	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/v1/chat/completions",
		strings.NewReader(`{"model":"gpt-4o","messages":[{"role":"user","content":"Hi"}]}`))
	req.Header.Set("Traceparent", "00-"+trace+"-"+parent+"-01")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("request: %d", resp.StatusCode)
	}
	if tp := <-upstreamTP; !strings.HasPrefix(tp, "00-"+trace+"-") || strings.Contains(tp, parent) {
		t.Errorf("the upstream got traceparent %q, want the client's trace under the router's attempt span", tp)
	}
	if code, _ := get(t, "http://"+addr+"/metrics", "metrics-key-0123456789"); code != http.StatusNotFound {
		t.Errorf("/metrics on the main listener: %d, want 404 (it has its own)", code)
	}
	if code, _ := get(t, "http://"+maddr+"/metrics", ""); code != http.StatusUnauthorized {
		t.Errorf("/metrics without its key: %d, want 401", code)
	}
	want := `llmrouter_requests_total{client_api="openai-chat",deployment_id="gpt-4o#1",gen_ai_provider_name="openai",gen_ai_request_model="gpt-4o",status_class="2xx",stream="false"} 1`
	deadline := time.Now().Add(20 * time.Second)
	for {
		code, body := get(t, "http://"+maddr+"/metrics", "metrics-key-0123456789")
		if code == 200 && strings.Contains(body, want+"\n") && strings.Contains(body, "llmrouter_config_last_reload_successful 1\n") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the metrics listener never counted the request (%d):\n%s", code, body)
		}
		time.Sleep(20 * time.Millisecond) // polling a child process, not synchronising goroutines
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v\n%s", err, stderr.String())
	}
	checkExported(t, spans, trace, parent)
	if !strings.Contains(stderr.String(), `"trace_id":"`+trace+`"`) {
		t.Errorf("the access log has no trace_id: %s", stderr.String())
	}
}

// checkExported checks the spans the collector got: a server span continuing the
// client's trace, and the attempt's span under it.
func checkExported(t *testing.T, spans chan *tracepb.Span, trace, parent string) {
	t.Helper()
	byKind := map[string]*tracepb.Span{}
	for len(spans) > 0 {
		s := <-spans
		byKind[s.GetKind().String()] = s
	}
	server, attempt := byKind["SPAN_KIND_SERVER"], byKind["SPAN_KIND_CLIENT"]
	if server == nil || attempt == nil {
		t.Fatalf("the collector got %v, want a server and a client span", byKind)
	}
	if hex.EncodeToString(server.GetTraceId()) != trace || hex.EncodeToString(server.GetParentSpanId()) != parent ||
		string(attempt.GetParentSpanId()) != string(server.GetSpanId()) || server.GetName() != "chat gpt-4o" {
		t.Errorf("span tree: server %q trace %x parent %x; attempt parent %x, server id %x",
			server.GetName(), server.GetTraceId(), server.GetParentSpanId(), attempt.GetParentSpanId(), server.GetSpanId())
	}
}

// Reloads are counted on /metrics (the main listener here): a failure leaves
// the last success's time and the config's series alone and sets the gauge to
// 0; the next success counts, sets it back to 1, moves the time, and retires the
// series of the model it removed.
func TestReloadsAreCounted(t *testing.T) {
	a := newFakeUp(t, "A")
	p := startInProcess(t, listenOnly+routes("gpt-4o", a.URL, "gpt-old", a.URL), nil)
	if status, body, err := chatCall(http.DefaultClient, p.addr, "gpt-old", "hi", false); err != nil || status != 200 {
		t.Fatalf("gpt-old: %d %v %s", status, err, body)
	}
	p.log.awaitRequest(t, "/v1/chat/completions") // counted once logged
	first := scrapeReloads(t, p.addr)
	if first.ok != 1 || first.success != 0 || first.failure != 0 || first.at == 0 || !first.oldSeries {
		t.Fatalf("at start: %+v", first)
	}
	p.write(t, listenOnly+"models:\n  - {name: gpt-4o, provider: opena, endpoint: 'x'}\n")
	if o := p.reload(t); o.Err == nil {
		t.Fatal("the invalid file was accepted")
	}
	failed := scrapeReloads(t, p.addr)
	if failed.ok != 0 || failed.failure != 1 || failed.success != 0 || failed.at != first.at || !failed.oldSeries {
		t.Errorf("after a failed reload: %+v (at start %+v)", failed, first)
	}
	p.write(t, listenOnly+routes("gpt-4o", a.URL))
	if o := p.reload(t); o.Err != nil {
		t.Fatal(o.Err)
	}
	done := scrapeReloads(t, p.addr)
	if done.ok != 1 || done.failure != 1 || done.success != 1 || done.at < first.at || done.oldSeries {
		t.Errorf("after a good reload: %+v (at start %+v)", done, first)
	}
}

// reloadMetrics is what /metrics says of reloads, and whether gpt-old has series.
type reloadMetrics struct {
	ok, success, failure, at float64
	oldSeries                bool
}

func scrapeReloads(t *testing.T, addr string) reloadMetrics {
	t.Helper()
	code, body := get(t, "http://"+addr+"/metrics", "")
	if code != 200 {
		t.Fatalf("/metrics: %d %s", code, body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var r reloadMetrics
	r.ok = fams["llmrouter_config_last_reload_successful"].GetMetric()[0].GetGauge().GetValue()
	r.at = fams["llmrouter_config_last_reload_success_timestamp_seconds"].GetMetric()[0].GetGauge().GetValue()
	for _, m := range fams["llmrouter_config_reloads_total"].GetMetric() {
		switch m.GetLabel()[0].GetValue() {
		case "success":
			r.success = m.GetCounter().GetValue()
		case "failure":
			r.failure = m.GetCounter().GetValue()
		}
	}
	r.oldSeries = strings.Contains(body, `gen_ai_request_model="gpt-old"`)
	return r
}
