package main

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httputil"
	"net/url"
)

// referenceCommand is the hidden first argument that makes llmbench run as the
// reference proxy instead of as the benchmark.
const referenceCommand = "reference-proxy"

// serveReference is the reference proxy: the standard library's
// httputil.ReverseProxy and nothing else (no routing, no body parsing, no
// policy), in its own process like the router. Measured in the same run, it
// tells how much of what the router adds is the cost of any extra HTTP hop on
// this machine, and how much is the router's own work. Like the router, it reads
// the request body before sending it on (see buffered).
func serveReference(args []string, stderr io.Writer) int {
	if len(args) != 2 {
		fmt.Fprintf(stderr, "usage: llmbench %s LISTEN UPSTREAM_URL\n", referenceCommand)
		return 2
	}
	target, err := url.Parse(args[1])
	if err != nil {
		fmt.Fprintln(stderr, "reference proxy:", err)
		return 2
	}
	rp := &httputil.ReverseProxy{
		Rewrite:       func(pr *httputil.ProxyRequest) { pr.SetURL(target) },
		FlushInterval: -1, // flush every write, as a streaming LLM proxy must
		ErrorLog:      log.New(stderr, "reference proxy: ", 0),
		Transport:     proxyTransport(),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	mux.Handle("/", buffered(rp))
	return serveUntilSignal("reference proxy", args[0], mux, stderr)
}

// buffered reads the whole request body before next sees the request. Besides
// matching the router, which must read a body to route it, this avoids
// golang/go#40747: when ReverseProxy streams the inbound body, the server closes
// it once response headers are written, the transport's final read of it then
// fails, and the upstream connection is torn down mid-stream (seen here as
// "unexpected EOF" on a few percent of back-to-back streams).
func buffered(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxProxyBody))
		if err != nil {
			http.Error(w, "reading request body failed", http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
		r.ContentLength = int64(len(b))
		next.ServeHTTP(w, r)
	})
}
