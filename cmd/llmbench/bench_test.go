package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestPercentile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		d := make([]time.Duration, len(v))
		for i, x := range v {
			d[i] = time.Duration(x) * time.Millisecond
		}
		return d
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 0.5, 0},
		{"single", ms(7), 0.99, 7 * time.Millisecond},
		{"odd median", ms(1, 2, 3), 0.5, 2 * time.Millisecond},
		{"even median is the mean of the middle two", ms(1, 2, 3, 4), 0.5, 2500 * time.Microsecond},
		{"p0 is the minimum", ms(1, 2, 3, 4), 0, time.Millisecond},
		{"p100 is the maximum", ms(1, 2, 3, 4), 1, 4 * time.Millisecond},
		{"p99 of 1..101 interpolates", ms(seq(1, 101)...), 0.99, 100 * time.Millisecond},
		{"p99 of 1..100", ms(seq(1, 100)...), 0.99, 99010 * time.Microsecond},
		{"p90 between two ranks", ms(10, 20), 0.9, 19 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := percentile(tt.sorted, tt.p); got != tt.want {
				t.Errorf("percentile(%v) = %v, want %v", tt.p, got, tt.want)
			}
		})
	}
}

func seq(from, to int) []int {
	var s []int
	for i := from; i <= to; i++ {
		s = append(s, i)
	}
	return s
}

func TestSummarizeDoesNotReorderItsInput(t *testing.T) {
	in := []time.Duration{3, 1, 2}
	got := summarize(in)
	if diff := cmp.Diff(summary{N: 3, P50: 2, P99: 3}, got); diff != "" {
		t.Errorf("summarize (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]time.Duration{3, 1, 2}, in); diff != "" {
		t.Errorf("input changed (-want +got):\n%s", diff)
	}
}

func TestRatioAndPerRequest(t *testing.T) {
	if got := ratio(3, 4); got != 0.75 {
		t.Errorf("ratio(3, 4) = %v, want 0.75", got)
	}
	if got := ratio(1, 0); !math.IsNaN(got) {
		t.Errorf("ratio(1, 0) = %v, want NaN", got)
	}
	if val(ratio(1, 0)) != nil {
		t.Error("val(NaN) is not nil: a ratio without baseline would be printed")
	}
	if got := perRequest(2*time.Second, 40000); got != 50*time.Microsecond {
		t.Errorf("perRequest = %v, want 50µs", got)
	}
	if got := perRequest(time.Second, 0); got != 0 {
		t.Errorf("perRequest with no requests = %v, want 0", got)
	}
	if verdict(true) != "PASS" || verdict(false) != "MISS" {
		t.Error("verdict")
	}
}

func TestParseStatCPU(t *testing.T) {
	tests := []struct {
		name         string
		line         string
		utime, stime uint64
		wantErr      bool
	}{
		{
			name:  "plain",
			line:  "12345 (llmrouter) S 1 12345 12345 0 -1 4194560 2171 0 0 0 731 242 0 0 20 0 9 0 4418920 1270611968 4271 18446744073709551615 1 1 0 0 0 0 0 0 2143420159 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
			utime: 731, stime: 242,
		},
		{
			name:  "command name with spaces and parentheses",
			line:  "77 (my (odd) proc) R 1 77 77 0 -1 0 0 0 0 0 5 6 0 0 20 0 1 0 1 1 1",
			utime: 5, stime: 6,
		},
		{name: "no command", line: "77 R 1 2 3", wantErr: true},
		{name: "truncated", line: "77 (x) S 1 2 3 4 5", wantErr: true},
		{name: "not a number", line: "77 (x) S 1 2 3 4 5 6 7 8 9 10 x 6 0", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, s, err := parseStatCPU(tt.line)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if u != tt.utime || s != tt.stime {
				t.Errorf("utime, stime = %d, %d; want %d, %d", u, s, tt.utime, tt.stime)
			}
		})
	}
	if got := ticks(731 + 242); got != 9730*time.Millisecond {
		t.Errorf("ticks = %v, want 9.73s", got)
	}
}

const sampleStatus = `Name:	llmrouter
Umask:	0022
State:	S (sleeping)
Pid:	12345
VmPeak:	 1240832 kB
VmSize:	 1240832 kB
VmHWM:	   48712 kB
VmRSS:	   17084 kB
RssAnon:	    9400 kB
Threads:	9
`

func TestParseStatusKB(t *testing.T) {
	tests := []struct {
		name, text, field string
		want              uint64
		wantErr           bool
	}{
		{name: "VmHWM", text: sampleStatus, field: "VmHWM", want: 48712 * 1024},
		{name: "VmRSS", text: sampleStatus, field: "VmRSS", want: 17084 * 1024},
		{name: "prefix of another field does not match", text: "VmHWMX:\t1 kB\nVmHWM:\t2 kB\n", field: "VmHWM", want: 2048},
		{name: "missing", text: "Name:\tx\n", field: "VmHWM", wantErr: true},
		{name: "unit other than kB", text: "VmHWM:\t12 MB\n", field: "VmHWM", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStatusKB(strings.NewReader(tt.text), tt.field)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
}

func TestChatBodyHasTheRequestedSize(t *testing.T) {
	for _, d := range []dialect{openAI, anthropicAPI} {
		for _, size := range []int{1 << 10, 5 << 10, 200 << 10} {
			b := chatBody(d, "gpt-4o", size, true)
			if len(b) != size {
				t.Errorf("dialect %d size %d: got %d bytes", d, size, len(b))
			}
			var v struct {
				Model    string `json:"model"`
				Stream   bool   `json:"stream"`
				Messages []struct {
					Role string `json:"role"`
				} `json:"messages"`
			}
			if err := json.Unmarshal(b, &v); err != nil {
				t.Fatalf("dialect %d size %d: %v", d, size, err)
			}
			if v.Model != "gpt-4o" || !v.Stream || v.Messages[len(v.Messages)-1].Role != "user" {
				t.Errorf("dialect %d size %d: model %q stream %v last role %q", d, size, v.Model, v.Stream, v.Messages[len(v.Messages)-1].Role)
			}
		}
	}
	if b := chatBody(openAI, "gpt-4o", 10, false); !json.Valid(b) {
		t.Errorf("a size below the minimum must still give a valid body: %s", b)
	}
}

func TestParseOnly(t *testing.T) {
	got, err := parseOnly("1, rss,Translate")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]bool{"latency": true, "rss": true, "translate": true}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	all, _ := parseOnly("")
	if len(all) != len(scenarios) {
		t.Errorf("empty -only selects %d scenarios, want all %d", len(all), len(scenarios))
	}
	if _, err := parseOnly("latncy"); err == nil {
		t.Error("a misspelt scenario must be an error")
	}
}

func TestInterleaveRotatesAndSkipsWarmUp(t *testing.T) {
	var order []string
	mk := func(name string, d time.Duration, err error) call {
		return func(context.Context) (time.Duration, error) { order = append(order, name); return d, err }
	}
	res, err := interleave(context.Background(), 2, 1, mk("a", 1, nil), mk("b", 2, errors.New("boom")), mk("c", 3, nil))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a", "b", "c", "b", "c", "a", "c", "a", "b"}, order); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
	a, b, c := res[0], res[1], res[2]
	if len(a.d) != 2 || a.failed != 0 || len(b.d) != 0 || b.failed != 2 || b.firstErr != "boom" || len(c.d) != 2 {
		t.Errorf("a = %+v, b = %+v, c = %+v", a, b, c)
	}
}

func TestInterleaveStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	_, err := interleave(ctx, 1000, 0, func(context.Context) (time.Duration, error) {
		if calls++; calls == 3 {
			cancel()
		}
		return 1, nil
	})
	if !errors.Is(err, context.Canceled) || calls != 3 {
		t.Errorf("err = %v after %d calls, want context.Canceled after 3", err, calls)
	}
}

func TestTailKeepsTheEnd(t *testing.T) {
	tl := &tail{max: 8}
	tl.Write([]byte("0123456789"))
	tl.Write([]byte("ab"))
	if got := tl.String(); got != "456789ab" {
		t.Errorf("tail = %q", got)
	}
}

// The fake upstream and the stream client, over a real loopback listener: the
// shapes the benchmark relies on (event counts, terminal events, hold/release).
func TestUpstreamStreams(t *testing.T) {
	u, err := startUpstream()
	if err != nil {
		t.Fatal(err)
	}
	defer u.close()
	c := newClient(5 * time.Second)
	defer c.CloseIdleConnections()
	ctx := context.Background()
	for _, d := range []dialect{openAI, anthropicAPI} {
		if _, err := post(ctx, c, d, u.url+d.path(), chatBody(d, "m", 1024, false)); err != nil {
			t.Errorf("dialect %d non-stream: %v", d, err)
		}
		s, _, err := openStream(ctx, c, d, u.url+d.path()+"?events=3", chatBody(d, "m", 1024, true))
		if err != nil {
			t.Fatalf("dialect %d: %v", d, err)
		}
		if err := s.drain(); err != nil {
			t.Errorf("dialect %d drain: %v", d, err)
		}
	}

	u.arm()
	s, _, err := openStream(ctx, c, openAI, u.url+"/v1/chat/completions?hold=1", chatBody(openAI, "m", 1024, true))
	if err != nil {
		t.Fatal(err)
	}
	if n := u.held.Load(); n != 1 {
		t.Fatalf("%d streams held after the first event, want 1", n)
	}
	u.releaseHeld()
	u.releaseHeld() // idempotent
	if err := s.drain(); err != nil {
		t.Errorf("held stream after release: %v", err)
	}
}

func TestDrainDetectsTruncationAndErrors(t *testing.T) {
	tests := []struct {
		name, body string
		wantErr    bool
	}{
		{"openai complete", "data: {\"a\":1}\n\ndata: [DONE]\n\n", false},
		{"anthropic complete", "event: message_start\ndata: {}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n", false},
		{"truncated", "data: {\"a\":1}\n\ndata: {\"a\":2}\n\n", true},
		{"openai in-band error", "data: {\"a\":1}\n\ndata: {\"error\":{\"message\":\"x\"}}\n\ndata: [DONE]\n\n", true},
		{"anthropic in-band error", "data: {\"a\":1}\n\nevent: error\ndata: {}\n\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/event-stream")
				_, _ = io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			s, _, err := openStream(context.Background(), srv.Client(), openAI, srv.URL, []byte(`{}`))
			if err != nil {
				t.Fatal(err)
			}
			if err := s.drain(); (err != nil) != tt.wantErr {
				t.Errorf("drain = %v, wantErr %v", err, tt.wantErr)
			}
		})
	}
}
