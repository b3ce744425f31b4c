package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/llmrouter/llmrouter/e2e/clienttest"
)

// toolLoop is the conversation a fake upstream plays with an agent: asked with Tool among
// the declared tools, it calls Tool with {Arg: Command} under CallID; given that call's
// result, it answers Final. A request without Tool (a client's side task) gets SideText.
type toolLoop struct {
	Tool    string
	Arg     string
	Command string
	CallID  string
	Final   string
}

// SideText answers requests that do not declare the loop's tool.
const SideText = "side answer from the fake upstream"

// arguments is the tool call's JSON arguments.
func (l toolLoop) arguments() string {
	b, _ := json.Marshal(map[string]string{l.Arg: l.Command})
	return string(b)
}

// turn decides a turn from what a fake read in the request, in its own dialect: the
// final text once the loop's call has its result, the call when the loop's tool is
// declared, else a side answer.
func (l toolLoop) turn(answered, declared bool) (text string, call bool) {
	switch {
	case answered:
		return l.Final, false
	case declared:
		return "", true
	default:
		return SideText, false
	}
}

// some reports whether an element of the JSON array arr satisfies match.
func some(arr gjson.Result, match func(gjson.Result) bool) bool {
	return slices.ContainsFunc(arr.Array(), match)
}

// textOf reads a message content that is a string or an array of text parts.
func textOf(content gjson.Result) string {
	if !content.IsArray() {
		return content.String()
	}
	var b strings.Builder
	for _, part := range content.Array() {
		b.WriteString(part.Get("text").String())
	}
	return b.String()
}

// fake is what every fake upstream shares: a real listener, a recorder of the requests it
// received, and the problems its handlers met, reported as test errors when the test ends.
type fake struct {
	*httptest.Server
	rec      clienttest.Recorder
	mu       sync.Mutex
	problems []string
}

// start serves h, recording every request, until the test ends; the problems the handlers
// met are then reported.
func (f *fake) start(t *testing.T, h http.Handler) {
	f.Server = httptest.NewServer(f.rec.Wrap(h))
	t.Cleanup(f.Close)
	f.reportProblems(t)
}

// problem answers 500 and remembers why, for the test to report.
func (f *fake) problem(w http.ResponseWriter, err error) {
	f.mu.Lock()
	f.problems = append(f.problems, err.Error())
	f.mu.Unlock()
	http.Error(w, "fake upstream: "+err.Error(), http.StatusInternalServerError)
}

// reportProblems makes the test fail for every problem the fake met.
func (f *fake) reportProblems(t *testing.T) {
	t.Cleanup(func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, p := range f.problems {
			t.Errorf("fake upstream: %s", p)
		}
	})
}

// readJSON reads a request's JSON body; when it cannot, it answers with a problem and
// returns false.
func (f *fake) readJSON(w http.ResponseWriter, r *http.Request) (gjson.Result, bool) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		f.problem(w, err)
		return gjson.Result{}, false
	}
	return gjson.ParseBytes(body), true
}

// received collects what read finds in each request the fake received, in arrival order.
func (f *fake) received(read func(req gjson.Result) []string) []string {
	var out []string
	for _, ex := range f.rec.Exchanges() {
		out = append(out, read(gjson.ParseBytes(ex.Body))...)
	}
	return out
}

// sseDialect is a fake upstream's knowledge of its wire format, for an API that takes a
// JSON request and answers with one JSON body, or with SSE events when it asks to stream.
type sseDialect interface {
	// answer decides the turn: the text to send, or the loop's tool call.
	answer(req gjson.Result) (text string, call bool)
	// whole is the non-stream body of that answer.
	whole(p *patcher, model, text string, call bool) string
	// events is the stream of that answer, every event the client is sent.
	events(p *patcher, req gjson.Result, model, text string, call bool) []sseEvent
}

// sse serves d at POST path: any other request gets notFound (the dialect's 404
// envelope); a request without `stream: true` gets d's whole body, one with it d's events.
// A template d fails to patch is a problem, answered 500.
func (f *fake) sse(path, notFound string, d sseDialect) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != path {
			writeJSON(w, http.StatusNotFound, "application/json", notFound)
			return
		}
		req, ok := f.readJSON(w, r)
		if !ok {
			return
		}
		model := req.Get("model").String()
		text, call := d.answer(req)
		var p patcher
		if !req.Get("stream").Bool() {
			resp := d.whole(&p, model, text, call)
			if p.err != nil {
				f.problem(w, p.err)
				return
			}
			writeJSON(w, http.StatusOK, "application/json", resp)
			return
		}
		evs := d.events(&p, req, model, text, call)
		if p.err != nil {
			f.problem(w, p.err)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		for _, ev := range evs {
			writeEvent(w, ev.Name, ev.Data)
		}
	}
}

// patchEach patches every recorded event with the values (sjson path, value, ...) that
// values gives for it, from its position and name.
func patchEach(p *patcher, tpl []sseEvent, values func(i int, name string) []any) []sseEvent {
	out := make([]sseEvent, 0, len(tpl))
	for i, ev := range tpl {
		out = append(out, sseEvent{ev.Name, p.set(ev.Data, values(i, ev.Name)...)})
	}
	return out
}

// writeEvent writes one SSE event (with an event: line when name is set) and flushes it.
func writeEvent(w http.ResponseWriter, name, data string) {
	if name != "" {
		fmt.Fprintf(w, "event: %s\n", name)
	}
	fmt.Fprintf(w, "data: %s\n\n", data)
	w.(http.Flusher).Flush()
}

// writeJSON answers with a JSON body and status.
func writeJSON(w http.ResponseWriter, status int, contentType, body string) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}
