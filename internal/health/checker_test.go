package health

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// firstCheck runs a checker over one target until its first report.
func firstCheck(t *testing.T, target Target) Result {
	t.Helper()
	got := make(chan Result, 1)
	target.Report = func(r Result) {
		select {
		case got <- r:
		default:
		}
	}
	c, err := NewChecker([]Target{target})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	r := <-got
	cancel()
	<-done
	return r
}

// deadURL is an address nothing listens on: bound, then closed.
func deadURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr + "/health"
}

func TestCheckerClassifies(t *testing.T) {
	var redirected atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ok", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"status":"ok"}`) })
	mux.HandleFunc("GET /down", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
	mux.HandleFunc("GET /moved", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/elsewhere", http.StatusFound) })
	mux.HandleFunc("GET /elsewhere", func(w http.ResponseWriter, r *http.Request) { redirected.Add(1) })
	mux.HandleFunc("GET /hang", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	tests := []struct {
		name string
		url  string
		want Cause
	}{
		{"2xx passes", srv.URL + "/ok", Success},
		{"5xx fails", srv.URL + "/down", CheckFailed},
		{"404 on the check path fails", srv.URL + "/nope", CheckFailed},
		{"a redirect is not followed", srv.URL + "/moved", CheckFailed},
		{"no answer within the timeout", srv.URL + "/hang", FirstByteTimeout},
		{"nothing listening", deadURL(t), NetworkError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := firstCheck(t, Target{Name: "d1", URL: tt.url, Transport: srv.Client().Transport, Timeout: 200 * time.Millisecond})
			if got.Cause != tt.want {
				t.Errorf("cause %v, want %v", got.Cause, tt.want)
			}
		})
	}
	if n := redirected.Load(); n != 0 {
		t.Errorf("the redirect target was requested %d times", n)
	}
}

func TestCheckerSendsHeaderAndBoundsTheRead(t *testing.T) {
	type served struct {
		auth    string
		written int64
		err     error
	}
	got := make(chan served, 1)
	const huge = 256 << 20
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := make([]byte, 1<<20)
		var n int64
		var err error
		for n < huge && err == nil {
			var k int
			k, err = w.Write(chunk)
			n += int64(k)
		}
		got <- served{r.Header.Get("Authorization"), n, err}
	}))
	defer srv.Close()
	h := http.Header{"Authorization": {"Bearer sk-check"}}
	r := firstCheck(t, Target{Name: "d1", URL: srv.URL, Header: h, Transport: srv.Client().Transport})
	if r.Cause != Success {
		t.Errorf("cause %v, want success", r.Cause)
	}
	s := <-got
	if s.auth != "Bearer sk-check" {
		t.Errorf("Authorization %q not sent", s.auth)
	}
	if s.err == nil || s.written >= huge {
		t.Errorf("the checker read the whole %d-byte answer (err %v)", s.written, s.err)
	}
}

// roundTrip is an in-memory transport, so the check loop runs in fake time.
type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestCheckerInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		status := []int{200, 500, 200}
		var calls atomic.Int32
		rt := roundTrip(func(r *http.Request) (*http.Response, error) {
			n := calls.Add(1)
			return &http.Response{StatusCode: status[(n-1)%3], Body: io.NopCloser(strings.NewReader("ok")), Request: r}, nil
		})
		type check struct {
			at    time.Duration
			cause Cause
		}
		got := make(chan check)
		c, err := NewChecker([]Target{{Name: "d1", URL: "http://vllm:8000/health", Transport: rt,
			Report: func(r Result) { got <- check{time.Since(start), r.Cause} }}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { c.Run(ctx); close(done) }()
		want := []check{{0, Success}, {15 * time.Second, CheckFailed}, {30 * time.Second, Success}}
		for i, w := range want {
			if g := <-got; g != w {
				t.Errorf("check %d: %+v, want %+v", i, g, w)
			}
		}
		cancel()
		<-done
	})
}

func TestNewCheckerRejects(t *testing.T) {
	report := func(Result) {}
	bad := []Target{
		{Name: "relative", URL: "/health", Report: report},
		{Name: "scheme", URL: "ftp://host/health", Report: report},
		{Name: "no report", URL: "http://host/health"},
		{Name: "negative", URL: "http://host/health", Report: report, Interval: -time.Second},
	}
	for _, target := range bad {
		if _, err := NewChecker([]Target{target}); !errors.Is(err, ErrTarget) {
			t.Errorf("%s: err %v, want ErrTarget", target.Name, err)
		}
	}
}
