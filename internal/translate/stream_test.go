package translate

// Tests of every stream converter at once: the client output must not depend on
// how the upstream's bytes were cut, nor on the event bytes after Stream returns.

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tidwall/gjson"

	"github.com/llmrouter/llmrouter/internal/sse"
)

// newStreamer is goldenSet.streamer with include_usage, failing the test on error.
func newStreamer(t testing.TB, s goldenSet) Translator {
	t.Helper()
	tr, err := s.streamer(true)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// newTranslator is newStreamer for the named set.
func newTranslator(t testing.TB, pair string) Translator {
	t.Helper()
	return newStreamer(t, goldenSets[pair])
}

// runStream feeds an upstream SSE body through tr (see drive).
func runStream(tr Translator, body io.Reader) ([]byte, error) { return drive(tr, false, body) }

// upstreamEvents splits an upstream body (SSE, or NDJSON) into its events.
func upstreamEvents(t testing.TB, body []byte, ndjson bool) []sse.Event {
	t.Helper()
	rd := sse.NewReader(bytes.NewReader(body), 0)
	if ndjson {
		rd = sse.NewNDJSONReader(bytes.NewReader(body), 0)
	}
	var evs []sse.Event
	for {
		ev, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return evs
		}
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, sse.Event{Name: ev.Name, Data: bytes.Clone(ev.Data)})
	}
}

// sseEvents splits client SSE output into its events.
func sseEvents(t testing.TB, out []byte) []sse.Event { return upstreamEvents(t, out, false) }

// decodeJSON decodes b, failing the test when it is not JSON.
func decodeJSON(t testing.TB, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decoding %q: %v", b, err)
	}
	return v
}

// TestStreamSplitEveryByte feeds every SSE stream fixture through its translators
// with the body cut in two at every byte boundary, and expects exactly the output
// (and error) of the uncut body.
func TestStreamSplitEveryByte(t *testing.T) {
	splitEveryByte(t, "openai_anthropic", "completions_anthropic", "anthropic_openai")
}

// splitEveryByte is TestStreamSplitEveryByte for the streams of the named sets,
// converted with include_usage.
func splitEveryByte(t *testing.T, sets ...string) { splitEveryByteUnder(t, maxSplitBody, sets...) }

// splitEveryByteUnder is splitEveryByte with bodies over max cut as splitBody
// cuts them.
func splitEveryByteUnder(t *testing.T, max int, sets ...string) {
	for _, name := range sets {
		s := goldenSets[name]
		for _, f := range testdataFiles(t, s.streams...) {
			t.Run(s.pair+"/"+stem(f), func(t *testing.T) {
				body := splitBodyUnder(readTestdata(t, f), max)
				run := func(r io.Reader) string {
					tr, err := s.streamer(true)
					if err != nil {
						return err.Error()
					}
					out, err := drive(tr, s.upstream.NDJSON(), r)
					return string(s.transcript(out, err))
				}
				want := run(bytes.NewReader(body))
				splitAll(t, len(body), func(i int) string {
					if got := run(io.MultiReader(bytes.NewReader(body[:i]), bytes.NewReader(body[i:]))); got != want {
						return got
					}
					return ""
				})
			})
		}
	}
}

// maxSplitBody bounds the bodies split at every byte: the test is quadratic.
const maxSplitBody = 16 << 10

// splitBody returns body, or for a body over maxSplitBody (only the 75 KB
// openai-chat-stream-tools.sse, 197 events of which ~170 are alike content chunks)
// its first 4 and last 14 events: the role and first content chunks, then the last
// content chunk, the whole tool call, the finish and both usage chunks, [DONE].
// Every byte of that is split (splitting all 75 KB costs minutes under -race, for
// ~170 more content chunks of one shape); the whole body is checked unsplit by the
// goldens and by TestStreamKeepsNoEventData.
func splitBody(body []byte) []byte { return splitBodyUnder(body, maxSplitBody) }

// splitBodyUnder is splitBody for bodies over max.
func splitBodyUnder(body []byte, max int) []byte {
	if len(body) <= max {
		return body
	}
	evs := bytes.SplitAfter(body, []byte("\n\n"))
	if len(evs) <= 18 {
		return body
	}
	return bytes.Join(append(evs[:4:4], evs[len(evs)-14:]...), nil)
}

// splitAll runs check(i) for every i in [0, n] on a few goroutines and reports the
// first split whose output differs (check returns the differing output, or "").
func splitAll(t *testing.T, n int, check func(i int) string) {
	workers := runtime.GOMAXPROCS(0)
	var (
		mu      sync.Mutex
		badAt   = -1
		badText string
		wg      sync.WaitGroup
	)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i <= n; i += workers {
				if got := check(i); got != "" {
					mu.Lock()
					if badAt < 0 || i < badAt {
						badAt, badText = i, got
					}
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	if badAt >= 0 {
		t.Errorf("split at byte %d changed the output:\n%s", badAt, firstLines(badText, 20))
	}
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}

// TestStreamKeepsNoEventData checks that no translator keeps a reference to an
// event's bytes after Stream returns (sse.Reader reuses them): each event is passed
// in a scratch buffer that is scribbled over after the call.
func TestStreamKeepsNoEventData(t *testing.T) {
	for _, s := range goldenSets {
		for _, f := range testdataFiles(t, s.streams...) {
			t.Run(s.pair+"/"+stem(f), func(t *testing.T) {
				body := readTestdata(t, f)
				want, wantErr := drive(newStreamer(t, s), s.upstream.NDJSON(), bytes.NewReader(body))
				tr := newStreamer(t, s)
				var out []byte
				var err error
				scratch := make([]byte, 0, 1<<10)
				for _, ev := range upstreamEvents(t, body, s.upstream.NDJSON()) {
					scratch = append(scratch[:0], ev.Data...)
					if out, err = tr.Stream(out, sse.Event{Name: ev.Name, Data: scratch}); err != nil {
						break
					}
					for i := range scratch {
						scratch[i] = 0xff
					}
				}
				if err == nil {
					out, err = tr.End(out)
				}
				if diff := cmp.Diff(string(s.transcript(want, wantErr)), string(s.transcript(out, err))); diff != "" {
					t.Errorf("output changed when event bytes were reused (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// withoutInput is an Anthropic stream with the tool_use blocks' non-empty
// input_json_delta events removed: each call is then streamed as Anthropic streams
// a call with input {}, one empty partial_json.
func withoutInput(t *testing.T, fixture string) []byte {
	t.Helper()
	var out []byte
	for _, ev := range upstreamEvents(t, readFixture(t, fixture), false) {
		if gjson.GetBytes(ev.Data, "delta.type").String() == "input_json_delta" &&
			gjson.GetBytes(ev.Data, "delta.partial_json").String() != "" {
			continue
		}
		out = sse.AppendEvent(out, ev.Name, ev.Data)
	}
	return out
}

// A tool call streamed without arguments reaches an OpenAI client with the
// arguments "{}", as the whole answer has them (issue 9 item 6): the openai SDK's
// runTools parses the accumulated arguments, and JSON.parse("") throws.
func TestStreamedToolCallWithoutInputGetsEmptyObjectArguments(t *testing.T) {
	for _, fixture := range []string{"anthropic-messages-stream-tools.sse", "anthropic-messages-stream-parallel-tools.sse"} {
		t.Run(fixture, func(t *testing.T) {
			body := withoutInput(t, fixture)
			out, err := runStream(newTranslator(t, "openai_anthropic"), bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			first := upstreamEvents(t, body, false)[0]
			id := "chatcmpl-" + strings.TrimPrefix(gjson.GetBytes(first.Data, "message.id").String(), "msg_")
			got := summarizeChat(t, out, id, gjson.GetBytes(first.Data, "message.model").String(), "chat.completion.chunk")
			if len(got.Tools) == 0 || got.Finish != "tool_calls" {
				t.Fatalf("got %+v, want tool calls", got)
			}
			for _, tc := range got.Tools {
				if tc.Args != "{}" {
					t.Errorf("tool call %d (%s) has arguments %q, want {}", tc.Index, tc.Name, tc.Args)
				}
			}
		})
	}
}
