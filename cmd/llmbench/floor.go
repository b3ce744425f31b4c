package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The floor proxies are the least a Go LLM proxy hop can do: read the request
// body whole (a router must, to route it), send one POST upstream over a pool of
// kept-alive connections, and copy the answer's status, Content-Type,
// Content-Length and body back, flushing each read of a stream. No routing, no
// parsing, no header copies, no checks, no logging. Measured in the same run as
// the router, "router ÷ floor" is the cost of the router's own work, and "floor ÷
// nginx" the cost of the HTTP stack itself. The net/http floor is llmbench
// re-executed with a hidden first argument; the fasthttp floor is a separate
// binary built from the nested module in ./fastfloor (so that fasthttp is not a
// dependency of llmrouter), passed with -fasthttp-floor.

// floorCommand is the hidden first argument that makes llmbench run as the
// net/http floor proxy instead of as the benchmark.
const floorCommand = "floor-proxy"

// maxProxyBody bounds the request body a context proxy reads: the router's own
// default limit, which nginx's client_max_body_size matches.
const maxProxyBody = 32 << 20

// floorAuth is the upstream credential the floor proxies send, as an LLM proxy
// sends its own key instead of the client's. The fake upstream does not check it.
var floorAuth = []string{"Bearer sk-floor-0123456789"}

// streamChunk is the read size of a streamed answer: larger than any event of
// the fake upstream, small enough to count little in the memory per open stream.
const streamChunk = 4 << 10

// serveFloor is the net/http floor proxy: LISTEN UPSTREAM_URL.
func serveFloor(args []string, stderr io.Writer) int {
	if len(args) != 2 {
		fmt.Fprintf(stderr, "usage: llmbench %s LISTEN UPSTREAM_URL\n", floorCommand)
		return 2
	}
	up := strings.TrimSuffix(args[1], "/")
	if !strings.HasPrefix(up, "http://") && !strings.HasPrefix(up, "https://") {
		fmt.Fprintf(stderr, "floor proxy: upstream %q is not an http(s) URL\n", args[1])
		return 2
	}
	return serveUntilSignal("floor proxy", args[0], floorHandler(up, proxyTransport()), stderr)
}

// proxyTransport is the upstream transport of the Go context proxies: no
// environment proxy, and as many idle connections per host as nginx keeps.
func proxyTransport() *http.Transport {
	return &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConnsPerHost: nginxKeepalive,
		IdleConnTimeout:     90 * time.Second,
	}
}

// floorHandler answers GET /healthz itself and relays every other request to
// upstream (scheme://host[:port], no trailing slash) as a POST with the same
// path and query.
func floorHandler(upstream string, rt http.RoundTripper) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Path == "/healthz" {
			_, _ = io.WriteString(w, "ok")
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxProxyBody))
		if err != nil {
			http.Error(w, "reading request body failed", http.StatusBadRequest)
			return
		}
		req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, upstream+r.URL.RequestURI(), bytes.NewReader(body))
		if err != nil {
			http.Error(w, "bad request URI", http.StatusBadRequest)
			return
		}
		req.Header = http.Header{"Content-Type": jsonType, "Authorization": floorAuth}
		resp, err := rt.RoundTrip(req)
		if err != nil {
			http.Error(w, "upstream request failed", http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		relayAnswer(w, resp)
	})
}

// relayAnswer copies the status, Content-Type and body of resp to w: in one
// io.Copy with its Content-Length when the length is known, otherwise (a
// stream) writing and flushing each read as it arrives.
func relayAnswer(w http.ResponseWriter, resp *http.Response) {
	h := w.Header()
	if ct := resp.Header["Content-Type"]; ct != nil {
		h["Content-Type"] = ct
	}
	if resp.ContentLength >= 0 {
		h["Content-Length"] = []string{strconv.FormatInt(resp.ContentLength, 10)}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
		return
	}
	w.WriteHeader(resp.StatusCode)
	rc := http.NewResponseController(w)
	buf := make([]byte, streamChunk)
	for {
		n, err := resp.Body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil || rc.Flush() != nil {
				return // the client went away: returning closes the upstream body
			}
		}
		if err != nil {
			return
		}
	}
}

// serveUntilSignal serves h on listen until SIGINT or SIGTERM, and returns the
// process's exit status; name prefixes its errors.
func serveUntilSignal(name, listen string, h http.Handler, stderr io.Writer) int {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() { <-ctx.Done(); _ = srv.Close() }()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	return 0
}
