package translate

// Tests of the three translators towards Ollama's native API as streams, and
// the helpers their other tests share.

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/llmrouter/llmrouter/internal/sse"
)

// ollPairs are the translators towards Ollama, by their golden set's name.
var ollPairs = []string{"openai_ollama", "anthropic_ollama", "completions_ollama"}

// ollNew returns a fixed translator for pair, upstream model "tiny".
func ollNew(pair string) Translator { return ollNewWith(pair, Options{Model: "tiny"}) }

// ollNewWith returns a fixed translator for pair.
func ollNewWith(pair string, opt Options) Translator {
	s, ok := goldenSets[pair]
	if !ok || !s.upstream.NDJSON() {
		panic("unknown pair " + pair)
	}
	return fixed(New(s.client, s.upstream, opt))
}

// ollStreamOf runs body (or r, when not nil) through a fresh translator of pair
// whose client asked for usage or not, and returns the client output with a last
// line for the error, as in the goldens.
func ollStreamOf(t testing.TB, pair string, usage bool, body []byte, r io.Reader) []byte {
	t.Helper()
	s := goldenSets[pair]
	tr, err := s.streamer(usage)
	if err != nil {
		t.Fatal(err)
	}
	if r == nil {
		r = bytes.NewReader(body)
	}
	out, err := drive(tr, true, r)
	return s.transcript(out, err)
}

func TestOllamaStreamGolden(t *testing.T) {
	for _, pair := range ollPairs {
		t.Run(pair, func(t *testing.T) { goldenStreams(t, goldenSets[pair]) })
	}
}

// TestOllamaStreamSplit feeds every NDJSON body split at every byte boundary:
// the client output must not depend on how the upstream's bytes were chunked.
func TestOllamaStreamSplit(t *testing.T) { splitEveryByte(t, ollPairs...) }

// TestOllamaStreamErrors checks the in-band error line, a missing done line, a done
// line without done_reason, and that nothing is written after done.
func TestOllamaStreamErrors(t *testing.T) {
	const (
		text     = `{"model":"tiny","created_at":"2026-11-27T04:32:00Z","message":{"role":"assistant","content":"Hi"},"response":"Hi","done":false}`
		doneNoRe = `{"model":"tiny","message":{"role":"assistant","content":""},"done":true,"prompt_eval_count":1,"eval_count":1}`
		done     = `{"model":"tiny","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop"}`
		errLine  = `{"error":"an error was encountered while running the model"}`
	)
	tests := []struct {
		name      string
		lines     []string
		wantErr   error // matched with errors.Is, or by type for *StreamError
		wantSE    string
		afterDone bool
	}{
		{name: "error line", lines: []string{text, errLine}, wantSE: "an error was encountered while running the model"},
		{name: "error first", lines: []string{errLine}, wantSE: "an error was encountered while running the model"},
		{name: "no done line", lines: []string{text}, wantErr: ErrTruncated},
		{name: "empty body", lines: nil, wantErr: ErrTruncated},
		{name: "done without done_reason", lines: []string{text, doneNoRe}, wantErr: ErrTruncated},
		{name: "lines after done ignored", lines: []string{text, done, text}, afterDone: true},
	}
	for _, pair := range ollPairs {
		for _, tt := range tests {
			t.Run(pair+"/"+tt.name, func(t *testing.T) {
				tr := ollNew(pair)
				if _, err := tr.Request([]byte(streamRequest(goldenSets[pair].client, false))); err != nil {
					t.Fatal(err)
				}
				var out []byte
				var err error
				for i, line := range tt.lines {
					before := len(out)
					out, err = tr.Stream(out, sse.Event{Data: []byte(line)})
					if err != nil {
						if len(out) != before {
							t.Errorf("line %d: error %v but %d bytes appended", i, err, len(out)-before)
						}
						break
					}
					if tt.afterDone && i == len(tt.lines)-1 && len(out) != before {
						t.Errorf("a line after done wrote %q", out[before:])
					}
				}
				if err == nil {
					_, err = tr.End(out)
				}
				ollCheckErr(t, err, tt.wantErr, tt.wantSE)
			})
		}
	}
}

func ollCheckErr(t *testing.T, err, want error, wantSE string) {
	t.Helper()
	var se *StreamError
	switch {
	case wantSE != "":
		if !errors.As(err, &se) || se.Message != wantSE {
			t.Errorf("error = %v, want *StreamError %q", err, wantSE)
		}
	case want != nil:
		if !errors.Is(err, want) {
			t.Errorf("error = %v, want %v", err, want)
		}
	case err != nil:
		t.Errorf("unexpected error %v", err)
	}
}

// ollEvents parses client SSE output into (event name, data) pairs.
func ollEvents(t testing.TB, out []byte) [][2]string {
	t.Helper()
	var evs [][2]string
	for _, ev := range sseEvents(t, out) {
		evs = append(evs, [2]string{ev.Name, string(ev.Data)})
	}
	return evs
}
