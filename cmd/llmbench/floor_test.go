package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// buildFastFloor builds the fasthttp floor proxy of the nested module
// ./fastfloor into a temporary directory and returns the binary's path.
func buildFastFloor(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "fastfloor")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = "fastfloor"
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./fastfloor: %v\n%s", err, out)
	}
	return bin
}

// floorUpstream is an upstream that records what reached it and, for a
// stream, holds its second event until the test has read the first through the
// proxy, so that a proxy that does not flush each event cannot pass.
type floorUpstream struct {
	srv  *httptest.Server
	got  chan http.Request // each request, its Body replaced by an empty one
	body chan []byte
	next chan struct{} // closed by the test: send the rest of the stream
}

func newFloorUpstream(t *testing.T) *floorUpstream {
	u := &floorUpstream{got: make(chan http.Request, 4), body: make(chan []byte, 4), next: make(chan struct{})}
	u.srv = httptest.NewServer(http.HandlerFunc(u.serve))
	t.Cleanup(u.srv.Close)
	return u
}

// received returns the request that reached the upstream last and its body.
// The client already has the answer, so the upstream has recorded it: there is
// nothing to wait for.
func (u *floorUpstream) received(t *testing.T) (http.Request, []byte) {
	t.Helper()
	select {
	case r := <-u.got:
		return r, <-u.body
	default:
		t.Fatal("no request reached the upstream")
		return http.Request{}, nil
	}
}

func (u *floorUpstream) serve(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req := *r
	req.Body = http.NoBody
	u.got <- req
	u.body <- b
	if r.URL.Query().Get("stream") != "1" {
		status, _ := strconv.Atoi(r.URL.Query().Get("status"))
		w.Header()["Content-Type"] = jsonType
		w.Header().Set("Content-Length", strconv.Itoa(len(chatJSON)))
		w.WriteHeader(max(status, http.StatusOK))
		_, _ = w.Write(chatJSON)
		return
	}
	s := startSSE(w)
	if !s.send(chatChunk) {
		return
	}
	select {
	case <-u.next:
	case <-r.Context().Done():
		return
	}
	if s.send(chatFinish) {
		s.send(chatDone)
	}
}

// checkFloorProxy: the proxy at proxyURL sends the body, path and query to the
// upstream as a JSON POST with its own credential, copies a non-streamed
// answer with its status and Content-Length (not chunked), and relays a stream
// event by event.
func checkFloorProxy(t *testing.T, proxyURL string, u *floorUpstream) {
	hc := newClient(10 * time.Second)
	defer hc.CloseIdleConnections()
	body := chatBody(openAI, "gpt-4o", 5<<10, false)
	resp, err := hc.Post(proxyURL+"/v1/chat/completions?status=201&x=y", "text/plain", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusCreated || resp.ContentLength != int64(len(chatJSON)) || len(resp.TransferEncoding) > 0 ||
		resp.Header.Get("Content-Type") != "application/json" || !bytes.Equal(got, chatJSON) {
		t.Errorf("answer: status %d, length %d, transfer encoding %v, type %q, body %q",
			resp.StatusCode, resp.ContentLength, resp.TransferEncoding, resp.Header.Get("Content-Type"), got)
	}
	up, upBody := u.received(t)
	if up.Method != http.MethodPost || up.URL.RequestURI() != "/v1/chat/completions?status=201&x=y" ||
		up.Header.Get("Content-Type") != "application/json" || up.Header.Get("Authorization") != floorAuth[0] {
		t.Errorf("upstream got %s %s, Content-Type %q, Authorization %q", up.Method, up.URL.RequestURI(),
			up.Header.Get("Content-Type"), up.Header.Get("Authorization"))
	}
	if !bytes.Equal(upBody, body) {
		t.Errorf("upstream got a body of %d bytes, want the client's %d", len(upBody), len(body))
	}
	checkFloorStream(t, hc, proxyURL, u)
}

// checkFloorStream reads the first event through the proxy while the
// upstream holds the rest, then lets it finish.
func checkFloorStream(t *testing.T, hc *http.Client, proxyURL string, u *floorUpstream) {
	resp, err := hc.Post(proxyURL+"/v1/chat/completions?stream=1", "application/json", bytes.NewReader(chatBody(openAI, "gpt-4o", 1024, true)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	u.received(t)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" || resp.ContentLength != -1 {
		t.Errorf("stream: status %d, type %q, length %d", resp.StatusCode, resp.Header.Get("Content-Type"), resp.ContentLength)
	}
	br := bufio.NewReader(resp.Body)
	first, err := readEvent(br)
	if err != nil || first != string(chatChunk) {
		t.Fatalf("first event, with the upstream holding the rest: %q, %v", first, err)
	}
	close(u.next)
	rest, err := io.ReadAll(br)
	if err != nil || string(rest) != string(chatFinish)+string(chatDone) {
		t.Errorf("rest of the stream: %q, %v", rest, err)
	}
}

// readEvent reads one SSE event, up to and including its blank line.
func readEvent(br *bufio.Reader) (string, error) {
	var ev strings.Builder
	for {
		line, err := br.ReadString('\n')
		ev.WriteString(line)
		if err != nil || line == "\n" {
			return ev.String(), err
		}
	}
}

// Both floor proxies, run as llmbench runs them (the net/http one as this
// binary re-executed with the hidden command, the fasthttp one built from the
// nested module), proxy an answer and a stream as the method says.
func TestFloorProxies(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		argv func() []string
	}{
		{"net/http", func() []string { return []string{self, floorCommand} }},
		{"fasthttp", func() []string { return []string{buildFastFloor(t)} }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			u := newFloorUpstream(t)
			listen, err := freeAddr()
			if err != nil {
				t.Fatal(err)
			}
			c, err := startChild(context.Background(), childSpec{name: "floor", label: "floor",
				argv: append(tt.argv(), listen, u.srv.URL), listen: listen, cpu: -1})
			if err != nil {
				t.Fatal(err)
			}
			defer c.stop()
			checkFloorProxy(t, c.url, u)
			c.stop()
			if c.cmd.ProcessState == nil || !c.cmd.ProcessState.Success() {
				t.Errorf("after SIGTERM: %v, want exit status 0\n%s", c.cmd.ProcessState, c.log)
			}
		})
	}
}

// The net/http floor's handler in-process: a request body over the bound gets
// 400 and never reaches the upstream; an upstream that cannot be reached, 502.
func TestFloorHandlerBounds(t *testing.T) {
	u := newFloorUpstream(t)
	h := floorHandler(u.srv.URL, proxyTransport())
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/v1/chat/completions", io.LimitReader(zeros{}, maxProxyBody+1)))
	if w.Code != http.StatusBadRequest || len(u.got) != 0 {
		t.Errorf("oversized body: status %d, %d requests upstream", w.Code, len(u.got))
	}
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	w = httptest.NewRecorder()
	floorHandler(dead.URL, proxyTransport()).ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/v1/chat/completions", strings.NewReader("{}")))
	if w.Code != http.StatusBadGateway {
		t.Errorf("unreachable upstream: status %d, want 502", w.Code)
	}
	var errs bytes.Buffer
	if code := serveFloor([]string{"127.0.0.1:0"}, &errs); code != 2 || !strings.Contains(errs.String(), "usage") {
		t.Errorf("one argument: exit %d, %q", code, errs.String())
	}
	if code := serveFloor([]string{"127.0.0.1:0", "127.0.0.1:1"}, &errs); code != 2 {
		t.Errorf("an upstream without a scheme: exit %d", code)
	}
}

// zeros is an endless reader of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// The CPU per request rows at max load: the router's judged against nginx and
// compared with the net/http floor, every other side's with its ratio to nginx,
// and no ratio at all without nginx.
func TestCPURows(t *testing.T) {
	p := &child{}
	sides := []side{{name: "direct"}, {name: "router", label: "router", proc: p},
		{name: "reference", label: "reference proxy", proc: p}, {name: "floor", label: "net/http floor", proc: p},
		{name: "nginx", label: "nginx", proc: p}}
	perReq := func(us int) load {
		return load{ok: 1000, cpu: time.Duration(us) * time.Millisecond, elapsed: time.Second}
	}
	ls := []load{{ok: 1000}, perReq(60), perReq(66), perReq(30), perReq(15)}
	rows := cpuRows(ls, sides)
	type fig struct {
		Figure                  string
		Baseline, Router, Ratio *float64
		Verdict                 string
	}
	f := func(x float64) *float64 { return &x }
	var got []fig
	for _, r := range rows {
		got = append(got, fig{r.Figure, r.Baseline, r.Router, r.Ratio, r.Verdict})
	}
	want := []fig{
		{"router CPU per request, max load", f(15), f(60), f(4), "MISS"},
		{"↳ reference proxy, same figure", f(15), f(66), f(4.4), ""},
		{"↳ net/http floor, same figure", f(15), f(30), f(2), ""},
		{"↳ nginx, same figure", nil, f(15), nil, ""},
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateApprox(0, 1e-9)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if !strings.Contains(rows[0].Note, "router ÷ net/http floor: 2.00×") || !strings.HasPrefix(rows[2].Note, "baseline: nginx; ratio: net/http floor ÷ nginx;") {
		t.Errorf("notes: router %q, floor %q", rows[0].Note, rows[2].Note)
	}
	for _, r := range cpuRows(ls[:4], sides[:4])[1:] {
		if r.Baseline != nil || r.Ratio != nil {
			t.Errorf("without nginx, %q has a baseline or a ratio: %+v", r.Figure, r)
		}
	}
}
