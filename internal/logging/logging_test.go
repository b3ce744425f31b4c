package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/llmrouter/llmrouter/internal/config"
)

const (
	canaryA = "sk-canary-AAAA1111BBBB2222"
	canaryB = "ant-canary-CCCC3333DDDD4444"
	short   = "shrt123" // below minSecret: masked only by key
)

var secrets = []string{canaryA, canaryB, short}

type valuer struct{ s string }

func (v valuer) LogValue() slog.Value { return slog.StringValue("v=" + v.s) }

type stringer string

func (s stringer) String() string { return "key " + string(s) }

type textMarshaler string

func (m textMarshaler) MarshalText() ([]byte, error) { return []byte(m), nil }

// assertNoLeak fails when out holds any 5-byte window of a secret: at most the last
// 4 characters of a key may show.
func assertNoLeak(t *testing.T, out string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		for i := 0; i+5 <= len(s); i++ {
			if strings.Contains(out, s[i:i+5]) {
				t.Errorf("output leaks %q (window %q of %q):\n%s", s[i:i+5], s[i:i+5], s, out)
				return
			}
		}
	}
}

func urlErr(key string) error {
	return &url.Error{
		Op:  "Post",
		URL: "https://generativelanguage.googleapis.com/v1beta/models/x:generate?alt=sse&key=" + key,
		Err: errors.New("dial tcp 10.0.0.1:443: connect: connection refused"),
	}
}

func TestHandlerNeverLeaks(t *testing.T) {
	const (
		unknownKey = "sk-client-ZZZZ5555YYYY6666" // not configured: caught by position
		password   = "hunter2hunter2"
	)
	tests := []struct {
		name  string
		log   func(l *slog.Logger)
		leaks []string // more values that must not show
	}{
		{"string attr", func(l *slog.Logger) { l.Info("m", "upstream_key", canaryA) }, nil},
		{"message", func(l *slog.Logger) { l.Info("sending key " + canaryA + " upstream") }, nil},
		{"error attr", func(l *slog.Logger) {
			l.Error("m", "err", fmt.Errorf("upstream 401: invalid x-api-key %s given", canaryB))
		}, nil},
		{"url.Error with key query", func(l *slog.Logger) { l.Error("m", "err", urlErr(canaryA)) }, nil},
		{"wrapped url.Error with unknown key", func(l *slog.Logger) {
			l.Error("m", "err", fmt.Errorf("attempt 2: %w", urlErr(unknownKey)))
		}, []string{unknownKey}},
		{"url string attr", func(l *slog.Logger) {
			l.Info("m", "url", "https://h/v1?api_key="+canaryB+"&token="+unknownKey)
		}, []string{unknownKey}},
		{"userinfo password", func(l *slog.Logger) {
			l.Info("m", "url", "https://user:"+password+"@proxy.local:8080/v1")
		}, []string{password}},
		{"bearer in error text", func(l *slog.Logger) {
			l.Error("m", "err", errors.New(`upstream echoed "Authorization: Bearer `+unknownKey+`"`))
		}, []string{unknownKey}},
		{"HeaderAttr", func(l *slog.Logger) {
			l.Info("m", HeaderAttr("headers", http.Header{
				"Authorization": {"Bearer " + unknownKey},
				"X-Api-Key":     {canaryB},
				"Api-Key":       {short},
				"Cookie":        {"session=" + unknownKey},
				"X-Echo":        {canaryA},
			}))
		}, []string{unknownKey}},
		{"http.Header as Any", func(l *slog.Logger) {
			l.Info("m", "headers", http.Header{"Authorization": {"Bearer " + canaryA}, "X-Echo": {canaryB}})
		}, nil},
		{"nested group", func(l *slog.Logger) {
			l.Info("m", slog.Group("req", slog.Group("upstream",
				slog.String("k", canaryA), slog.Any("err", errors.New(canaryB)))))
		}, nil},
		{"WithAttrs", func(l *slog.Logger) {
			l.With("k", canaryA, slog.Group("g", "k2", canaryB)).Info("m")
		}, nil},
		{"WithGroup", func(l *slog.Logger) { l.WithGroup("g").With("k", canaryA).Info("m", "k2", canaryB) }, nil},
		{"secret as key and group name", func(l *slog.Logger) { l.WithGroup(canaryA).Info("m", canaryB, 1) }, nil},
		{"LogValuer", func(l *slog.Logger) { l.Info("m", "v", valuer{canaryA}) }, nil},
		{"config.Secret", func(l *slog.Logger) { l.Info("m", "api_key", config.Secret(canaryA)) }, nil},
		{"bytes", func(l *slog.Logger) { l.Info("m", "body", []byte(`{"key":"`+canaryA+`"}`)) }, nil},
		{"json.RawMessage", func(l *slog.Logger) {
			l.Info("m", "body", json.RawMessage(`{"key":"`+canaryB+`"}`))
		}, nil},
		{"map", func(l *slog.Logger) { l.Info("m", "cfg", map[string]any{"k": canaryB, "n": 1}) }, nil},
		{"struct", func(l *slog.Logger) { l.Info("m", "s", struct{ Key string }{canaryA}) }, nil},
		{"slice", func(l *slog.Logger) { l.Info("m", "list", []any{canaryA, 2}) }, nil},
		{"Stringer", func(l *slog.Logger) { l.Info("m", "s", stringer(canaryA)) }, nil},
		{"TextMarshaler", func(l *slog.Logger) { l.Info("m", "s", textMarshaler(canaryB)) }, nil},
		{"[]string under authorization", func(l *slog.Logger) {
			l.Info("m", "authorization", []string{"Bearer " + canaryA})
		}, nil},
		{"short secret by key", func(l *slog.Logger) {
			l.Info("m", "x-api-key", short, slog.Group("h", "API_KEY", short))
		}, []string{short}},
		{"LogAttrs", func(l *slog.Logger) {
			l.LogAttrs(context.Background(), slog.LevelWarn, "m", slog.String("k", canaryA))
		}, nil},
	}
	for _, format := range []string{"json", "text"} {
		for _, tt := range tests {
			t.Run(format+"/"+tt.name, func(t *testing.T) {
				var buf bytes.Buffer
				tt.log(New(config.Logging{Format: format}, &buf, secrets))
				out := buf.String()
				if out == "" {
					t.Fatal("nothing logged")
				}
				assertNoLeak(t, out, append([]string{canaryA, canaryB}, tt.leaks...)...)
				if format == "json" && !json.Valid([]byte(out)) {
					t.Errorf("invalid JSON line: %s", out)
				}
			})
		}
	}
}

// TestHandlerOutput checks exact values: what is masked shows its last 4 characters,
// and what is not a credential is untouched.
func TestHandlerOutput(t *testing.T) {
	tests := []struct {
		name string
		attr slog.Attr
		want any
	}{
		{"secret string", slog.String("k", "key="+canaryA), "key=****2222"},
		{"authorization by key", slog.String("Authorization", "Bearer "+canaryA), "****2222"},
		{"short secret by key", slog.String("x-api-key", short), "****"},
		{"short secret elsewhere kept", slog.String("note", short), short},
		{"credential query", slog.String("url", "https://h/v1?key="+canaryA+"&alt=sse"), "https://h/v1?key=****2222&alt=sse"},
		{"unknown credential query", slog.String("url", "https://h/?TOKEN=abcdefghijklmnop"), "https://h/?TOKEN=****mnop"},
		{"plain url", slog.String("url", "https://api.openai.com/v1/chat/completions?beta=true"), "https://api.openai.com/v1/chat/completions?beta=true"},
		{"error", slog.Any("err", fmt.Errorf("bad key %s", canaryB)), "bad key ****4444"},
		{"secret", slog.Any("key", config.Secret(canaryB)), "****4444"},
		{"strings under cookie", slog.Any("set_cookie", []string{"a=" + canaryA}), "****2222"},
		{"int untouched", slog.Int("status", 200), float64(200)},
		{"raw JSON stays JSON", slog.Any("body", json.RawMessage(`{"a":"`+canaryA+`","b":[1]}`)),
			map[string]any{"a": "****2222", "b": []any{float64(1)}}},
		{"struct stays JSON", slog.Any("s", struct{ Key string }{canaryA}), map[string]any{"Key": "****2222"}},
		{"header group", HeaderAttr("h", http.Header{
			"Authorization": {"Bearer " + canaryA},
			"Content-Type":  {"application/json"},
			"X-Echo":        {"x " + canaryB},
			"Accept":        {"a", "b"},
		}), map[string]any{
			"Authorization": "****2222", "Content-Type": "application/json",
			"X-Echo": "x ****4444", "Accept": "a, b",
		}},
		{"http.Header Any", slog.Any("h", http.Header{"X-Api-Key": {canaryB}}), map[string]any{"X-Api-Key": "****4444"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			New(config.Logging{}, &buf, secrets).LogAttrs(context.Background(), slog.LevelInfo, "m", tt.attr)
			var line map[string]any
			if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
				t.Fatalf("%v: %s", err, buf.Bytes())
			}
			if diff := cmp.Diff(tt.want, line[tt.attr.Key]); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tt.attr.Key, diff)
			}
		})
	}
}

func TestNewFormatAndLevel(t *testing.T) {
	tests := []struct {
		name   string
		cfg    config.Logging
		prefix string
		lines  int
	}{
		{"json default", config.Logging{}, `{"time":`, 2},
		{"text", config.Logging{Format: "text"}, "time=", 2},
		{"warn filters info", config.Logging{Level: slog.LevelWarn}, `{"time":`, 1},
		{"debug keeps all", config.Logging{Level: slog.LevelDebug, Format: "text"}, "time=", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			l := New(tt.cfg, &buf, nil)
			l.Debug("d")
			l.Info("i")
			l.Warn("w")
			out := buf.String()
			if got := strings.Count(out, "\n"); got != tt.lines {
				t.Errorf("lines = %d, want %d:\n%s", got, tt.lines, out)
			}
			if !strings.HasPrefix(out, tt.prefix) {
				t.Errorf("output does not start with %q:\n%s", tt.prefix, out)
			}
		})
	}
}

// TestHandleKeepsRecord checks that rewriting a record keeps its time and level.
func TestHandleKeepsRecord(t *testing.T) {
	var buf bytes.Buffer
	l := New(config.Logging{}, &buf, secrets)
	ts := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	rec := slog.NewRecord(ts, slog.LevelWarn, "m "+canaryA, 0)
	rec.AddAttrs(slog.String("k", canaryB))
	if err := l.Handler().Handle(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	want := `{"time":"2025-01-02T03:04:05Z","level":"WARN","msg":"m ****2222","k":"****4444"}` + "\n"
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// nop is a handler that encodes nothing, to time redaction alone.
type nop struct{}

func (nop) Enabled(context.Context, slog.Level) bool  { return true }
func (nop) Handle(context.Context, slog.Record) error { return nil }
func (n nop) WithAttrs([]slog.Attr) slog.Handler      { return n }
func (n nop) WithGroup(string) slog.Handler           { return n }

// BenchmarkHandler logs one access-log line of 10 attributes. "clean" has nothing to
// redact (the record is passed on as is); "redacting" carries a key in an error.
func BenchmarkHandler(b *testing.B) {
	clean := []slog.Attr{
		slog.String("request_id", "01J9Z3K4M5N6P7Q8R9S0T1U2V3"),
		slog.String("method", "POST"),
		slog.String("path", "/v1/chat/completions"),
		slog.String("model", "gpt-4o"),
		slog.String("provider", "openai"),
		slog.String("upstream", "https://api.openai.com/v1/chat/completions"),
		slog.Int("status", 200),
		slog.Int("attempts", 1),
		slog.Int64("bytes", 18234),
		slog.Duration("duration", 1234*time.Millisecond),
	}
	dirty := append([]slog.Attr(nil), clean...)
	dirty[9] = slog.Any("err", fmt.Errorf("upstream 401: invalid key %s", canaryA))
	keys := []string{canaryA, canaryB, "sk-proj-0123456789abcdefghijklmnop", "sk-ant-api03-abcdefghijklmnopqrstuvwxyz"}
	tests := []struct {
		name  string
		l     *slog.Logger
		attrs []slog.Attr
	}{
		{"json/clean", New(config.Logging{}, io.Discard, keys), clean},
		{"json/redacting", New(config.Logging{}, io.Discard, keys), dirty},
		{"text/clean", New(config.Logging{Format: "text"}, io.Discard, keys), clean},
		{"json/baseline-no-redaction", slog.New(slog.NewJSONHandler(io.Discard, nil)), clean},
		{"redaction-only/clean", slog.New(&handler{next: nop{}, r: newRedactor(keys, true)}), clean},
		{"redaction-only/redacting", slog.New(&handler{next: nop{}, r: newRedactor(keys, true)}), dirty},
	}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				tt.l.LogAttrs(ctx, slog.LevelInfo, "request", tt.attrs...)
			}
		})
	}
}

func TestScrubAttrs(t *testing.T) {
	const key = "sk-request-0123456789"
	in := []slog.Attr{
		slog.String("request_body", `{"api_key":"`+key+`"}`),
		slog.Int("n", 3),
		slog.Group("upstream", slog.String("echo", "got "+key)),
	}
	out := ScrubAttrs(in, key)
	want := `[request_body={"api_key":"****6789"} n=3 upstream=[echo=got ****6789]]`
	if got := slogString(out); got != want {
		t.Errorf("ScrubAttrs = %s, want %s", got, want)
	}
	if in[0].Value.String() == out[0].Value.String() {
		t.Error("nothing scrubbed")
	}
	if slogString(in) == want {
		t.Error("ScrubAttrs modified its input")
	}
	if got := ScrubAttrs(in); &got[0] != &in[0] {
		t.Error("no secrets: want the input back")
	}
}

func slogString(as []slog.Attr) string {
	s := "["
	for i, a := range as {
		if i > 0 {
			s += " "
		}
		s += a.String()
	}
	return s + "]"
}

// The credentials of a request are masked in the raw JSON of a stream's
// transcript, which stays JSON, and in errors and byte slices.
func TestScrubAttrsAnyValues(t *testing.T) {
	const key = "sk-request-0123456789"
	in := []slog.Attr{
		slog.Any("response_body", json.RawMessage(`{"text":"echo `+strings.ReplaceAll(key, "-", `\u002d`)+`"}`)),
		slog.Any("err", fmt.Errorf("upstream said %s", key)),
		slog.Any("raw", []byte("x "+key)),
		slog.Any("clean", json.RawMessage(`{"text":"hi"}`)),
	}
	want := []string{`{"text":"echo ****6789"}`, "upstream said ****6789", "x ****6789", `{"text":"hi"}`}
	out := ScrubAttrs(in, key)
	for i, a := range out {
		got := a.Value.String()
		if raw, ok := a.Value.Any().(json.RawMessage); ok {
			got = string(raw)
		} else if i == 0 || i == 3 {
			t.Errorf("%s is no longer raw JSON", a.Key)
		}
		if got != want[i] {
			t.Errorf("%s = %s, want %s", a.Key, got, want[i])
		}
	}
}

func TestHeaderAttr(t *testing.T) {
	h := http.Header{
		"Authorization":                {"Bearer " + canaryA},
		"Proxy-Authorization":          {"Basic dXNlcjpwYXNzd29yZA=="},
		"X-Api-Key":                    {short},
		"Set-Cookie":                   {"a=1", "b=" + canaryB},
		"Content-Type":                 {"application/json"},
		"X-Ratelimit-Remaining-Tokens": {"1000"},
	}
	var got []string
	for _, a := range HeaderAttr("headers", h).Value.Group() {
		got = append(got, a.String())
	}
	want := []string{
		"Authorization=****2222",
		"Content-Type=application/json",
		"Proxy-Authorization=****ZA==",
		"Set-Cookie=****4444",
		"X-Api-Key=****",
		"X-Ratelimit-Remaining-Tokens=1000",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if a := HeaderAttr("h", nil); a.Value.Kind() != slog.KindGroup || len(a.Value.Group()) != 0 {
		t.Errorf("HeaderAttr(nil) = %v, want an empty group", a)
	}
	if s := HeaderAttr("h", h).String(); strings.Contains(s, canaryA[:len(canaryA)-4]) {
		t.Errorf("leak: %s", s)
	}
}
