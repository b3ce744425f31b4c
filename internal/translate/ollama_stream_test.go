package translate

// Shared helpers for the tests of the translators towards Ollama (golden files,
// deterministic translators, stream driving), and the byte-boundary stream test.

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/llmrouter/llmrouter/internal/sse"
	"github.com/llmrouter/llmrouter/internal/wire"
)

// The -update flag rewrites golden files. It may be declared by another test file of
// the package too, so it is looked up rather than owned.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files under testdata/")
	}
}

func ollUpdate() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// ollPairs are the translators under test, by their testdata directory name.
var ollPairs = []string{"openai_ollama", "anthropic_ollama", "completions_ollama"}

// ollNew returns a deterministic translator for pair, upstream model "tiny".
func ollNew(pair string) Translator { return ollNewWith(pair, Options{Model: "tiny"}) }

// ollNewWith returns a deterministic translator for pair.
func ollNewWith(pair string, opt Options) Translator {
	switch pair {
	case "openai_ollama":
		return fixed(New(wire.OpenAIChat, wire.OllamaChat, opt))
	case "anthropic_ollama":
		return fixed(New(wire.AnthropicMessages, wire.OllamaChat, opt))
	case "completions_ollama":
		return fixed(New(wire.OpenAICompletions, wire.OllamaGenerate, opt))
	}
	panic("unknown pair " + pair)
}

// ollStreamRequest is a streaming client request for pair, with or without
// stream_options.include_usage (ignored by Anthropic).
func ollStreamRequest(pair string, usage bool) string {
	opts := ""
	if usage {
		opts = `,"stream_options":{"include_usage":true}`
	}
	switch pair {
	case "openai_ollama":
		return `{"model":"m","stream":true` + opts + `,"messages":[{"role":"user","content":"Hi there"}]}`
	case "anthropic_ollama":
		return `{"model":"m","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"Hi there"}]}`
	}
	return `{"model":"m","stream":true` + opts + `,"prompt":"Hi there"}`
}

// ollRead reads a file of the repository's testdata (fixtures/, ollama-real/).
func ollRead(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ollGolden compares got with the golden file testdata/<path>, or rewrites it
// under -update.
func ollGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	path = filepath.Join("testdata", path)
	if ollUpdate() {
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
		t.Fatalf("reading golden file (run go test -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

// ollIndent pretty-prints JSON for golden files.
func ollIndent(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, b, "", "  "); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, b)
	}
	buf.WriteByte('\n')
	return buf.Bytes()
}

// ollDrive feeds an NDJSON body read from r to tr (whose Request was already
// called) and returns the client bytes and the first error of Stream or End.
func ollDrive(tr Translator, r io.Reader) ([]byte, error) {
	rd := sse.NewNDJSONReader(r, 0)
	var out []byte
	for {
		ev, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return tr.End(out)
		}
		if err != nil {
			return out, fmt.Errorf("reading: %w", err)
		}
		if out, err = tr.Stream(out, ev); err != nil {
			return out, err
		}
	}
}

// ollRunStream is ollDrive with the error written as a final "--- kind: …" line.
func ollRunStream(tr Translator, r io.Reader) []byte {
	out, err := ollDrive(tr, r)
	return ollAppendErr(out, err)
}

func ollAppendErr(out []byte, err error) []byte {
	if err == nil {
		return out
	}
	kind := "error"
	var se *StreamError
	switch {
	case errors.As(err, &se):
		kind = "StreamError"
	case errors.Is(err, ErrTruncated):
		kind = "ErrTruncated"
	}
	return fmt.Appendf(out, "--- %s: %v\n", kind, err)
}

// ollStreamOf runs body through a fresh translator of pair.
func ollStreamOf(t testing.TB, pair string, usage bool, body []byte, r io.Reader) []byte {
	t.Helper()
	tr := ollNew(pair)
	if _, err := tr.Request([]byte(ollStreamRequest(pair, usage))); err != nil {
		t.Fatal(err)
	}
	if r == nil {
		r = bytes.NewReader(body)
	}
	return ollRunStream(tr, r)
}

// ollChatStreams and ollGenerateStreams are the NDJSON bodies under test: real
// Ollama v0.17.4 captures and the documentation's examples.
var (
	ollChatStreams = []string{
		"ollama-real/api_chat_stream.body",
		"ollama-real/api_chat_length_stream.body",
		"ollama-real/api_chat_think_stream.body",
		"ollama-real/api_chat_tools_stream.body",
		"ollama-real/api_chat_toolresult_stream.body",
		"fixtures/ollama-chat-stream.ndjson",
		"fixtures/ollama-chat-stream-tools.ndjson",
	}
	ollGenerateStreams = []string{
		"ollama-real/api_generate_stream.body",
		"ollama-real/api_generate_raw_length.body",
		"fixtures/ollama-generate-stream.ndjson",
		"fixtures/ollama-generate-stream-error.ndjson",
	}
)

// ollStreamsFor lists the bodies a pair receives.
func ollStreamsFor(pair string) []string {
	if pair == "completions_ollama" {
		return ollGenerateStreams
	}
	return ollChatStreams
}

// ollGoldenName turns "ollama-real/api_chat_stream.body" into "api_chat_stream".
func ollGoldenName(file string) string {
	base := filepath.Base(file)
	return strings.TrimSuffix(base, filepath.Ext(base))
}

func TestOllamaStreamGolden(t *testing.T) {
	for _, pair := range ollPairs {
		for _, file := range ollStreamsFor(pair) {
			for _, usage := range []bool{false, true} {
				if usage && pair == "anthropic_ollama" {
					continue // Anthropic streams always carry usage
				}
				name := ollGoldenName(file)
				if usage {
					name += ".usage"
				}
				t.Run(pair+"/"+name, func(t *testing.T) {
					got := ollStreamOf(t, pair, usage, ollRead(t, file), nil)
					ollGolden(t, filepath.Join(pair, "stream", name+".sse"), got)
				})
			}
		}
	}
}

// TestOllamaStreamSplit feeds every NDJSON body split at every byte boundary:
// the client output must not depend on how the upstream's bytes were chunked.
func TestOllamaStreamSplit(t *testing.T) {
	for _, pair := range ollPairs {
		for _, file := range ollStreamsFor(pair) {
			t.Run(pair+"/"+ollGoldenName(file), func(t *testing.T) {
				t.Parallel()
				body := ollRead(t, file)
				want := ollStreamOf(t, pair, true, body, nil)
				for i := 1; i < len(body); i++ {
					r := io.MultiReader(bytes.NewReader(body[:i]), bytes.NewReader(body[i:]))
					got := ollStreamOf(t, pair, true, body, r)
					if !bytes.Equal(want, got) {
						t.Fatalf("split at %d: output differs (-want +got):\n%s", i, cmp.Diff(string(want), string(got)))
					}
				}
			})
		}
	}
}

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
				if _, err := tr.Request([]byte(ollStreamRequest(pair, false))); err != nil {
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
	rd := sse.NewReader(bytes.NewReader(out), 0)
	var evs [][2]string
	for {
		ev, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return evs
		}
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, [2]string{ev.Name, string(ev.Data)})
	}
}
