package policy

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/llmrouter/llmrouter/internal/config"
)

func TestHeaders(t *testing.T) {
	client := func() http.Header {
		return http.Header{
			"User-Agent":                  {"OpenAI/Python 1.0"},
			"X-Stainless-Lang":            {"python"},
			"X-Stainless-Runtime-Version": {"3.12"},
			"Anthropic-Beta":              {"tools-2024"},
			"Accept":                      {"application/json"},
			"X-Team":                      {"client"},
		}
	}
	tests := []struct {
		name  string
		rules config.Headers
		in    http.Header
		want  http.Header
	}{
		{
			name:  "no rules change nothing",
			rules: config.Headers{},
			in:    client(),
			want:  client(),
		},
		{
			name:  "keep_only drops every header not listed",
			rules: config.Headers{KeepOnly: []string{"accept", "USER-AGENT"}},
			in:    client(),
			want:  http.Header{"User-Agent": {"OpenAI/Python 1.0"}, "Accept": {"application/json"}},
		},
		{
			name:  "keep_only glob",
			rules: config.Headers{KeepOnly: []string{"anthropic-*", "x-*-lang"}},
			in:    client(),
			want:  http.Header{"Anthropic-Beta": {"tools-2024"}, "X-Stainless-Lang": {"python"}},
		},
		{
			name:  "keep_only star keeps everything",
			rules: config.Headers{KeepOnly: []string{"*"}},
			in:    client(),
			want:  client(),
		},
		{
			name:  "drop exact name case-insensitively",
			rules: config.Headers{Drop: []string{"user-agent", "ACCEPT"}},
			in:    client(),
			want: http.Header{
				"X-Stainless-Lang":            {"python"},
				"X-Stainless-Runtime-Version": {"3.12"},
				"Anthropic-Beta":              {"tools-2024"},
				"X-Team":                      {"client"},
			},
		},
		{
			name:  "drop glob",
			rules: config.Headers{Drop: []string{"X-Stainless-*"}},
			in:    client(),
			want: http.Header{
				"User-Agent":     {"OpenAI/Python 1.0"},
				"Anthropic-Beta": {"tools-2024"},
				"Accept":         {"application/json"},
				"X-Team":         {"client"},
			},
		},
		{
			name:  "drop glob with a star in the middle and at the start",
			rules: config.Headers{Drop: []string{"x-*-version", "*-beta"}},
			in:    client(),
			want: http.Header{
				"User-Agent":       {"OpenAI/Python 1.0"},
				"X-Stainless-Lang": {"python"},
				"Accept":           {"application/json"},
				"X-Team":           {"client"},
			},
		},
		{
			name:  "drop applies after keep_only",
			rules: config.Headers{KeepOnly: []string{"x-stainless-*"}, Drop: []string{"x-stainless-lang"}},
			in:    client(),
			want:  http.Header{"X-Stainless-Runtime-Version": {"3.12"}},
		},
		{
			name:  "add sets an absent header",
			rules: config.Headers{Add: map[string]string{"x-trace": "on"}},
			in:    http.Header{"Accept": {"*/*"}},
			want:  http.Header{"Accept": {"*/*"}, "X-Trace": {"on"}},
		},
		{
			name:  "add does not override a present header",
			rules: config.Headers{Add: map[string]string{"x-team": "router"}},
			in:    http.Header{"X-Team": {"client"}},
			want:  http.Header{"X-Team": {"client"}},
		},
		{
			name:  "add sees a non-canonical key",
			rules: config.Headers{Add: map[string]string{"X-Team": "router"}},
			in:    http.Header{"x-team": {"client"}},
			want:  http.Header{"x-team": {"client"}},
		},
		{
			name:  "force replaces every value",
			rules: config.Headers{Force: map[string]string{"x-team": "research"}},
			in:    http.Header{"X-Team": {"a", "b"}, "x-TEAM": {"c"}},
			want:  http.Header{"X-Team": {"research"}},
		},
		{
			name:  "force sets an absent header",
			rules: config.Headers{Force: map[string]string{"X-Team": "research"}},
			in:    http.Header{},
			want:  http.Header{"X-Team": {"research"}},
		},
		{
			name: "add runs after keep_only and drop",
			rules: config.Headers{
				KeepOnly: []string{"accept"},
				Drop:     []string{"accept"},
				Add:      map[string]string{"x-team": "router", "accept": "text/plain"},
			},
			in:   client(),
			want: http.Header{"X-Team": {"router"}, "Accept": {"text/plain"}},
		},
		{
			name: "force wins over add and survives keep_only",
			rules: config.Headers{
				KeepOnly: []string{"accept"},
				Add:      map[string]string{"x-team": "added"},
				Force:    map[string]string{"x-team": "forced"},
			},
			in:   client(),
			want: http.Header{"Accept": {"application/json"}, "X-Team": {"forced"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Compile(tt.rules, nil)
			if err != nil {
				t.Fatal(err)
			}
			h := tt.in
			p.Headers(h)
			if diff := cmp.Diff(tt.want, h); diff != "" {
				t.Errorf("headers (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHeadersCompileErrors(t *testing.T) {
	tests := []struct {
		name  string
		rules config.Headers
		want  string
	}{
		{"drop name with a space", config.Headers{Drop: []string{"x team"}}, "drop: invalid header name"},
		{"empty keep_only name", config.Headers{KeepOnly: []string{""}}, "keep_only: invalid header name"},
		{"add name with a colon", config.Headers{Add: map[string]string{"x:y": "1"}}, "add: invalid header name"},
		{"force value with a line break", config.Headers{Force: map[string]string{"x": "a\r\nb: c"}}, "force: header x: value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compile(tt.rules, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Compile error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		name, pattern, s string
		want             bool
	}{
		{"prefix", "x-stainless-*", "x-stainless-os", true},
		{"prefix needs the whole prefix", "x-stainless-*", "x-stainles", false},
		{"star matches empty", "x-*", "x-", true},
		{"suffix", "*-beta", "anthropic-beta", true},
		{"middle", "a*b*c", "aXbYc", true},
		{"middle parts may not overlap the suffix", "ab*bc", "abc", false},
		{"middle order matters", "a*c*b", "abc", false},
		{"lone star", "*", "anything", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := globMatch(strings.Split(tt.pattern, "*"), tt.s); got != tt.want {
				t.Errorf("globMatch(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
			}
		})
	}
}
