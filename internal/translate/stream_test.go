package translate

// Shared helpers for the OpenAI/Anthropic translator tests (fixtures, golden files,
// stream driving), and the test that splits every stream fixture at every byte.

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/llmrouter/llmrouter/internal/sse"
	"github.com/llmrouter/llmrouter/internal/wire"
)

// The -update flag rewrites golden files. Other test files of the package may declare
// it too, so it is looked up rather than owned.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files under testdata/")
	}
}

func goldenUpdate() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

const fixtureDir = "../../testdata/fixtures"

// fixedCreated is the "created" time of a fixed translator.
const fixedCreated = 1700000000

// setEnv replaces a translator's clock and id source.
func (a *answer) setEnv(e env) { a.env = e }

// fixed gives tr a fixed clock (fixedCreated) and ids "<prefix>test<n>", n
// counting from 1 for each translator, so that its output is deterministic.
func fixed(tr Translator) Translator {
	n := 0
	tr.(interface{ setEnv(env) }).setEnv(env{
		now: func() time.Time { return time.Unix(fixedCreated, 0) },
		newID: func(prefix string) string {
			n++
			return fmt.Sprintf("%stest%d", prefix, n)
		},
	})
	return tr
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fixtureNames lists the fixtures matching a glob such as "openai-chat-request*.json".
func fixtureNames(t testing.TB, glob string) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(fixtureDir, glob))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fixtures match %s (%v)", glob, err)
	}
	names := make([]string, len(paths))
	for i, p := range paths {
		names[i] = filepath.Base(p)
	}
	return names
}

// checkGolden compares got with testdata/<pair>/<name>.golden, or rewrites the file
// under -update. JSON goldens are compared as decoded values, others byte for byte.
func checkGolden(t *testing.T, pair, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", pair, name+".golden")
	isJSON := json.Valid(got)
	if isJSON {
		var buf bytes.Buffer
		if err := json.Indent(&buf, got, "", "  "); err != nil {
			t.Fatal(err)
		}
		got = append(buf.Bytes(), '\n')
	}
	if goldenUpdate() {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if isJSON {
		if diff := cmp.Diff(decodeJSON(t, want), decodeJSON(t, got)); diff != "" {
			t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
		}
		return
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

func decodeJSON(t testing.TB, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decoding %q: %v", b, err)
	}
	return v
}

// newTranslator returns the translator for pair with upstream model "up-model", after
// a Request for a streaming client that asks for usage (so that stream state such
// as include_usage is set as in production).
func newTranslator(t testing.TB, pair string) Translator {
	t.Helper()
	tr, err := streamTranslator(pair)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// streamTranslator is newTranslator for goroutines, which must not call t.Fatal.
func streamTranslator(pair string) (Translator, error) {
	var tr Translator
	var req string
	switch pair {
	case "openai_anthropic":
		tr = fixed(New(wire.OpenAIChat, wire.AnthropicMessages, Options{Model: "up-model"}))
		req = `{"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`
	case "anthropic_openai":
		tr = fixed(New(wire.AnthropicMessages, wire.OpenAIChat, Options{Model: "up-model"}))
		req = `{"model":"m","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"hi"}]}`
	case "completions_anthropic":
		tr = fixed(New(wire.OpenAICompletions, wire.AnthropicMessages, Options{Model: "up-model"}))
		req = `{"model":"m","prompt":"hi","stream":true,"stream_options":{"include_usage":true}}`
	}
	if tr == nil {
		return nil, fmt.Errorf("pair %q is not registered", pair)
	}
	if _, err := tr.Request([]byte(req)); err != nil {
		return nil, fmt.Errorf("request for %s: %w", pair, err)
	}
	return tr, nil
}

// runStream feeds an upstream SSE body through tr and returns the client bytes and
// the first error of the reader, Stream or End.
func runStream(tr Translator, body io.Reader) ([]byte, error) {
	rd := sse.NewReader(body, 0)
	var out []byte
	for {
		ev, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return tr.End(out)
		}
		if err != nil {
			return out, err
		}
		if out, err = tr.Stream(out, ev); err != nil {
			return out, err
		}
	}
}

// streamTranscript is the client output followed, when the stream failed, by a
// line "# error: <message>", as stored in stream goldens.
func streamTranscript(out []byte, err error) []byte {
	var se *StreamError
	switch {
	case err == nil:
		return out
	case errors.As(err, &se):
		return fmt.Appendf(out, "# stream error: type=%q message=%q\n", se.Type, se.Message)
	}
	return fmt.Appendf(out, "# error: %v\n", err)
}

// sseEvents splits client SSE output into its events.
func sseEvents(t testing.TB, out []byte) []sse.Event {
	t.Helper()
	rd := sse.NewReader(bytes.NewReader(out), 0)
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

// streamPairs maps each translator to the upstream stream fixtures it reads.
var streamPairs = []struct{ pair, glob string }{
	{"openai_anthropic", "anthropic-messages-stream-*.sse"},
	{"completions_anthropic", "anthropic-messages-stream-*.sse"},
	{"anthropic_openai", "openai-chat-stream-*.sse"},
}

// TestStreamSplitEveryByte feeds every stream fixture through its translators with
// the body cut in two at every byte boundary, and expects exactly the output (and
// error) of the uncut body.
func TestStreamSplitEveryByte(t *testing.T) {
	for _, p := range streamPairs {
		for _, name := range fixtureNames(t, p.glob) {
			t.Run(p.pair+"/"+name, func(t *testing.T) {
				body := splitBody(readFixture(t, name))
				want, wantErr := runStream(newTranslator(t, p.pair), bytes.NewReader(body))
				wantT := string(streamTranscript(want, wantErr))
				splitAll(t, len(body), func(i int) string {
					tr, err := streamTranslator(p.pair)
					if err != nil {
						return err.Error()
					}
					r := io.MultiReader(bytes.NewReader(body[:i]), bytes.NewReader(body[i:]))
					got, err := runStream(tr, r)
					if got := string(streamTranscript(got, err)); got != wantT {
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
func splitBody(body []byte) []byte {
	if len(body) <= maxSplitBody {
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
	for _, p := range streamPairs {
		for _, name := range fixtureNames(t, p.glob) {
			t.Run(p.pair+"/"+name, func(t *testing.T) {
				body := readFixture(t, name)
				want, wantErr := runStream(newTranslator(t, p.pair), bytes.NewReader(body))
				tr := newTranslator(t, p.pair)
				var out []byte
				var err error
				scratch := make([]byte, 0, 1<<10)
				for _, ev := range sseEvents(t, body) {
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
				if diff := cmp.Diff(string(streamTranscript(want, wantErr)), string(streamTranscript(out, err))); diff != "" {
					t.Errorf("output changed when event bytes were reused (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// stem is a fixture name without its extension.
func stem(name string) string { return strings.TrimSuffix(name, filepath.Ext(name)) }

// requestGolden is what a request golden holds: the upstream body and Dropped().
func requestGolden(t testing.TB, body []byte, dropped []string) []byte {
	t.Helper()
	if dropped == nil {
		dropped = []string{}
	}
	b, err := marshal("golden", struct {
		Dropped []string        `json:"dropped"`
		Request json.RawMessage `json:"request"`
	}{dropped, body})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// goldenSet names, for one pair, the fixtures of each kind it is checked against.
type goldenSet struct {
	pair                string
	client, upstream    wire.Protocol
	requests, responses string // fixture globs
	streams             string
}

// runGoldens checks every request, response and stream fixture of set against
// testdata/<pair>/<fixture>.golden.
func runGoldens(t *testing.T, set goldenSet) {
	for _, name := range fixtureNames(t, set.requests) {
		t.Run("request/"+name, func(t *testing.T) {
			tr := fixed(New(set.client, set.upstream, Options{Model: "up-model"}))
			out, err := tr.Request(readFixture(t, name))
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, set.pair, stem(name), requestGolden(t, out, tr.Dropped()))
		})
	}
	for _, name := range fixtureNames(t, set.responses) {
		t.Run("response/"+name, func(t *testing.T) {
			out, err := fixed(New(set.client, set.upstream, Options{})).Response(readFixture(t, name))
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, set.pair, stem(name), out)
		})
	}
	for _, name := range fixtureNames(t, set.streams) {
		t.Run("stream/"+name, func(t *testing.T) {
			out, err := runStream(newTranslator(t, set.pair), bytes.NewReader(readFixture(t, name)))
			checkGolden(t, set.pair, stem(name), streamTranscript(out, err))
		})
	}
}
