package gateway_test

import (
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A TLS upstream with a self-signed certificate: verification on fails with a 502,
// verify: false works (and warns at start), ca_file with the certificate works.
func TestTLSVerification(t *testing.T) {
	up := httptest.NewTLSServer(replay(200, "application/json", fixture(t, "fixtures/openai-chat-response.json")))
	defer up.Close()
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: up.Certificate().Raw})
	if err := os.WriteFile(caFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	body := `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`
	tests := []struct {
		name   string
		tls    string
		status int
		warn   bool
	}{
		{"verify on, unknown CA", "{verify: true}", 502, false},
		{"verify off", "{verify: false}", 200, true},
		{"ca_file", "{ca_file: " + caFile + "}", 200, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := "defaults: {retry: {attempts: 1}}\nmodels:\n  - name: gpt-4o\n    provider: openai\n    endpoint: {{UP}}/v1\n    tls: " + tt.tls + "\n"
			rt := newRouter(t, cfg, up.URL)
			resp, b := post(t, rt.URL+"/v1/chat/completions", body, nil)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, b)
			}
			if warned := strings.Contains(rt.log.String(), "TLS certificate verification is off"); warned != tt.warn {
				t.Errorf("warning logged = %v, want %v", warned, tt.warn)
			}
		})
	}
}

// One JSON access-log line per request with the fields the contract names.
func TestAccessLogLine(t *testing.T) {
	up := newUpstream(t, replaySSE(fixture(t, "fixtures/openai-chat-stream-usage.sse")))
	rt := newRouter(t, passthroughConfig, up.URL)
	resp, _ := post(t, rt.URL+"/v1/chat/completions", `{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]}`, map[string]string{"X-Request-Id": "trace-42"})
	if resp.Header.Get("X-Request-Id") != "trace-42" {
		t.Errorf("client request id not kept: %q", resp.Header.Get("X-Request-Id"))
	}
	var line map[string]any
	for _, l := range strings.Split(strings.TrimSpace(rt.log.String()), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == "request" {
			line = m
		}
	}
	if line == nil {
		t.Fatalf("no access-log line in %q", rt.log.String())
	}
	want := map[string]any{"request_id": "trace-42", "method": "POST", "path": "/v1/chat/completions", "model": "gpt-4o",
		"provider": "openai", "upstream_status": float64(200), "stream": true, "attempts": float64(1), "status": float64(200)}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("%s = %v, want %v", k, line[k], v)
		}
	}
	for _, k := range []string{"duration_ms", "ttfb_ms", "bytes_out"} {
		if n, ok := line[k].(float64); !ok || n <= 0 {
			t.Errorf("%s = %v, want a positive number", k, line[k])
		}
	}
	if strings.Contains(rt.log.String(), "sk-model-key-0123456789abcdef") {
		t.Error("model key in the log")
	}
	_ = http.StatusOK
}

// The upstream transport speaks HTTP/2 when a TLS upstream offers it.
func TestHTTP2Upstream(t *testing.T) {
	protos := make(chan string, 1)
	up := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		protos <- r.Proto
		replay(200, "application/json", fixture(t, "fixtures/openai-chat-response.json"))(w, r)
	}))
	up.EnableHTTP2 = true
	up.StartTLS()
	defer up.Close()
	rt := newRouter(t, "models:\n  - name: gpt-4o\n    provider: openai\n    endpoint: {{UP}}/v1\n    tls: {verify: false}\n", up.URL)
	resp, b := post(t, rt.URL+"/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	if p := <-protos; p != "HTTP/2.0" {
		t.Errorf("upstream saw %s, want HTTP/2.0", p)
	}
}
