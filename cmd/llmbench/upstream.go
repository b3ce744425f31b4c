package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tidwall/gjson"
)

// Stream shape, chosen by the client with query parameters that the router
// forwards unchanged: ?events=N content events (default 50), and ?hold=1 to keep
// the stream open after its first content event until release is called.
const (
	defaultEvents = 50
	maxEvents     = 100000
)

// maxHold bounds how long a held stream waits for release, so that a benchmark
// that dies half-way cannot leave streams open for ever.
const maxHold = 2 * time.Minute

// Fixed answers, built once so that the upstream's own cost stays small and the
// same for direct and routed requests.
var (
	chatJSON = []byte(`{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o",` +
		`"choices":[{"index":0,"message":{"role":"assistant","content":"Hello from the fake upstream."},"finish_reason":"stop"}],` +
		`"usage":{"prompt_tokens":10,"completion_tokens":7,"total_tokens":17}}`)
	chatChunk = []byte(`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o",` +
		`"choices":[{"index":0,"delta":{"content":"tok"},"finish_reason":null}]}` + "\n\n")
	chatFinish = []byte(`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o",` +
		`"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}` + "\n\n")
	chatDone = []byte("data: [DONE]\n\n")

	messageJSON = []byte(`{"id":"msg_1","type":"message","role":"assistant","model":"claude-bench",` +
		`"content":[{"type":"text","text":"Hello from the fake upstream."}],"stop_reason":"end_turn","stop_sequence":null,` +
		`"usage":{"input_tokens":10,"output_tokens":7}}`)
	messageStart = []byte("event: message_start\n" + `data: {"type":"message_start","message":{"id":"msg_1","type":"message",` +
		`"role":"assistant","model":"claude-bench","content":[],"stop_reason":null,"stop_sequence":null,` +
		`"usage":{"input_tokens":10,"output_tokens":1}}}` + "\n\n")
	blockStart = []byte("event: content_block_start\n" +
		`data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}` + "\n\n")
	messageDelta = []byte("event: content_block_delta\n" +
		`data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"tok"}}` + "\n\n")
	messageEnd = [][]byte{
		[]byte("event: content_block_stop\n" + `data: {"type":"content_block_stop","index":0}` + "\n\n"),
		[]byte("event: message_delta\n" +
			`data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":50}}` + "\n\n"),
		[]byte("event: message_stop\n" + `data: {"type":"message_stop"}` + "\n\n"),
	}

	jsonType = []string{"application/json"}
	sseType  = []string{"text/event-stream"}
)

// upstream is the fake provider, served from the llmbench process: OpenAI
// POST /v1/chat/completions and Anthropic POST /v1/messages, JSON or SSE.
type upstream struct {
	srv  *http.Server
	url  string // http://127.0.0.1:PORT
	held atomic.Int64

	mu      sync.Mutex
	release chan struct{} // closed by releaseHeld
}

// startUpstream listens on a free loopback port and serves until close.
func startUpstream() (*upstream, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	u := &upstream{url: "http://" + ln.Addr().String(), release: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chat/completions", u.chat)
	mux.HandleFunc("POST /v1/messages", u.messages)
	u.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = u.srv.Serve(ln) }()
	return u, nil
}

// close stops the server and cuts any stream still open.
func (u *upstream) close() { _ = u.srv.Close() }

// arm makes the next held streams wait for a new releaseHeld call.
func (u *upstream) arm() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.release = make(chan struct{})
}

// releaseHeld lets every held stream finish.
func (u *upstream) releaseHeld() {
	u.mu.Lock()
	defer u.mu.Unlock()
	select {
	case <-u.release:
	default:
		close(u.release)
	}
}

// hold counts a stream that will be held in held, from before its first event is
// sent (so a client that has that event sees it counted) until the returned func.
func (u *upstream) hold(hold bool) func() {
	if !hold {
		return func() {}
	}
	u.held.Add(1)
	return func() { u.held.Add(-1) }
}

// wait holds a stream until releaseHeld, the client leaving, or maxHold. It
// reports whether the stream should go on.
func (u *upstream) wait(ctx context.Context) bool {
	u.mu.Lock()
	ch := u.release
	u.mu.Unlock()
	t := time.NewTimer(maxHold)
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// readStream reads the request body and tells whether it asks for a stream.
func readStream(r *http.Request) (bool, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return false, err
	}
	return gjson.GetBytes(body, "stream").Bool(), nil
}

// streamShape reads ?events= and ?hold= from the request URL.
func streamShape(r *http.Request) (events int, hold bool) {
	q := r.URL.Query()
	events = defaultEvents
	if n, err := strconv.Atoi(q.Get("events")); err == nil && n >= 1 {
		events = min(n, maxEvents)
	}
	return events, q.Get("hold") == "1"
}

func writeJSON(w http.ResponseWriter, b []byte) {
	h := w.Header()
	h["Content-Type"] = jsonType
	h["Content-Length"] = []string{strconv.Itoa(len(b))}
	_, _ = w.Write(b)
}

// sseWriter writes whole events and flushes each one.
type sseWriter struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

func startSSE(w http.ResponseWriter) *sseWriter {
	w.Header()["Content-Type"] = sseType
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	return &sseWriter{w: w, rc: http.NewResponseController(w)}
}

func (s *sseWriter) send(b []byte) bool {
	if _, err := s.w.Write(b); err != nil {
		return false
	}
	return s.rc.Flush() == nil
}

// chat answers an OpenAI chat completion: a fixed JSON, or events content chunks,
// a finish chunk and [DONE].
func (u *upstream) chat(w http.ResponseWriter, r *http.Request) {
	stream, err := readStream(r)
	if err != nil {
		http.Error(w, "reading body failed", http.StatusBadRequest)
		return
	}
	if !stream {
		writeJSON(w, chatJSON)
		return
	}
	events, hold := streamShape(r)
	defer u.hold(hold)()
	s := startSSE(w)
	for i := range events {
		if !s.send(chatChunk) {
			return
		}
		if i == 0 && hold && !u.wait(r.Context()) {
			return
		}
	}
	if s.send(chatFinish) {
		s.send(chatDone)
	}
}

// messages answers an Anthropic message: a fixed JSON, or message_start,
// content_block_start, events text deltas, content_block_stop, message_delta and
// message_stop.
func (u *upstream) messages(w http.ResponseWriter, r *http.Request) {
	stream, err := readStream(r)
	if err != nil {
		http.Error(w, "reading body failed", http.StatusBadRequest)
		return
	}
	if !stream {
		writeJSON(w, messageJSON)
		return
	}
	events, hold := streamShape(r)
	defer u.hold(hold)()
	s := startSSE(w)
	if !s.send(messageStart) || !s.send(blockStart) {
		return
	}
	for i := range events {
		if !s.send(messageDelta) {
			return
		}
		if i == 0 && hold && !u.wait(r.Context()) {
			return
		}
	}
	for _, ev := range messageEnd {
		if !s.send(ev) {
			return
		}
	}
}
