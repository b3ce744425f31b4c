// Command fastfloor is llmbench's fasthttp floor proxy: the least a Go LLM
// proxy hop can do (see ../floor.go), on valyala/fasthttp for both the server
// and the upstream client, which have no per-request goroutine hand-offs. It is
// a module of its own so that fasthttp is not a dependency of llmrouter; build it
// and pass it to llmbench:
//
//	go build -C cmd/llmbench/fastfloor -o /tmp/fastfloor .
//	go run ./cmd/llmbench -fasthttp-floor /tmp/fastfloor
//
// Usage: fastfloor LISTEN UPSTREAM_URL. It answers GET /healthz itself and
// relays every other request to UPSTREAM_URL as a POST with the same path and
// query: the body read whole, the answer's status, Content-Type and body copied
// back, with its Content-Length when known, and flushed read by read otherwise
// (a stream). It stops on SIGINT or SIGTERM.
package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
)

// Limits, as llmbench's net/http floor proxy has them.
const (
	maxBody     = 32 << 20 // request body: the router's default limit
	maxConns    = 1 << 16  // upstream connections: more than llmbench ever opens
	streamChunk = 4 << 10  // read size of a streamed answer
	idleTimeout = 90 * time.Second
)

// auth is the upstream credential, sent instead of the client's.
const auth = "Bearer sk-floor-0123456789"

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	if len(args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: fastfloor LISTEN UPSTREAM_URL")
		return 2
	}
	up := strings.TrimSuffix(args[1], "/")
	if !strings.HasPrefix(up, "http://") {
		fmt.Fprintf(os.Stderr, "fastfloor: upstream %q is not an http:// URL\n", args[1])
		return 2
	}
	ln, err := net.Listen("tcp", args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, "fastfloor:", err)
		return 1
	}
	p := &proxy{upstream: up, client: &fasthttp.Client{
		MaxConnsPerHost: maxConns, MaxIdleConnDuration: idleTimeout, StreamResponseBody: true,
	}}
	srv := &fasthttp.Server{Handler: p.serve, MaxRequestBodySize: maxBody, IdleTimeout: idleTimeout,
		ReadTimeout: idleTimeout, NoDefaultServerHeader: true}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
		return 0
	case err := <-errc:
		fmt.Fprintln(os.Stderr, "fastfloor:", err)
		return 1
	}
}

// proxy relays requests to upstream (scheme://host[:port], no trailing slash).
type proxy struct {
	upstream string
	client   *fasthttp.Client
}

// bufs are the copy buffers of answers with a known length.
var bufs = sync.Pool{New: func() any { b := make([]byte, streamChunk); return &b }}

func (p *proxy) serve(ctx *fasthttp.RequestCtx) {
	if ctx.IsGet() && string(ctx.Path()) == "/healthz" {
		ctx.SetBodyString("ok")
		return
	}
	req := fasthttp.AcquireRequest()
	req.SetRequestURI(p.upstream + string(ctx.RequestURI()))
	req.Header.SetMethod(fasthttp.MethodPost)
	req.Header.SetContentType("application/json")
	req.Header.Set("Authorization", auth)
	req.SetBodyRaw(ctx.PostBody())
	resp := fasthttp.AcquireResponse()
	err := p.client.Do(req, resp)
	fasthttp.ReleaseRequest(req)
	if err != nil {
		fasthttp.ReleaseResponse(resp)
		ctx.Error("upstream request failed", fasthttp.StatusBadGateway)
		return
	}
	ctx.SetStatusCode(resp.StatusCode())
	ctx.Response.Header.SetContentTypeBytes(resp.Header.ContentType())
	if resp.Header.ContentLength() >= 0 {
		buf := bufs.Get().(*[]byte)
		_, err = io.CopyBuffer(ctx, resp.BodyStream(), *buf)
		bufs.Put(buf)
		_ = resp.CloseBodyStream()
		fasthttp.ReleaseResponse(resp)
		if err != nil {
			ctx.Error("reading the upstream answer failed", fasthttp.StatusBadGateway)
		}
		return
	}
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) { relayStream(w, resp) })
}

// relayStream writes and flushes each read of a streamed answer as it arrives,
// until it ends or the client goes away, then releases resp.
func relayStream(w *bufio.Writer, resp *fasthttp.Response) {
	defer fasthttp.ReleaseResponse(resp)
	defer func() { _ = resp.CloseBodyStream() }()
	buf := make([]byte, streamChunk)
	body := resp.BodyStream()
	for {
		n, err := body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil || w.Flush() != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
