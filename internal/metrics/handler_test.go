package metrics

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

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
