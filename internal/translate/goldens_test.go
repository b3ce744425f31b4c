package translate

// The golden harness. Every pair has one goldenSet: the fixtures (files of the
// repository's testdata/) its requests, answers and streams are checked against,
// and the golden files testdata/<pair>/{request,response,stream}/<fixture>.{json,sse}
// that hold what it made of them, compared byte for byte (go test -update
// rewrites them). Translators get a fixed clock and counted ids (fixed), so the
// goldens are deterministic.

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
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/llmrouter/llmrouter/internal/sse"
	"github.com/llmrouter/llmrouter/internal/wire"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

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

// readTestdata reads a file of the repository's testdata (fixtures/, ollama-real/).
func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// readFixture reads a file of testdata/fixtures.
func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	return readTestdata(t, filepath.Join("fixtures", name))
}

// testdataFiles lists the files of the repository's testdata matching the globs,
// e.g. "fixtures/openai-chat-request*.json", each as a path under testdata/.
func testdataFiles(t testing.TB, globs ...string) []string {
	t.Helper()
	var names []string
	for _, g := range globs {
		paths, err := filepath.Glob(filepath.Join("..", "..", "testdata", g))
		if err != nil || len(paths) == 0 {
			t.Fatalf("no testdata files match %s (%v)", g, err)
		}
		for _, p := range paths {
			names = append(names, filepath.Join(filepath.Base(filepath.Dir(p)), filepath.Base(p)))
		}
	}
	return names
}

// stem is a file's name without its directory and extension.
func stem(name string) string {
	base := filepath.Base(name)
	return strings.TrimSuffix(base, filepath.Ext(base))
}

// streamRun is one way a set's streams are converted: with or without the
// client's stream_options.include_usage; suffix tells the goldens apart.
type streamRun struct {
	usage  bool
	suffix string
}

// goldenSet is what one pair is checked against.
type goldenSet struct {
	pair                         string // testdata directory
	client, upstream             wire.Protocol
	model                        string   // Options.Model
	requests, responses, streams []string // globs under the repository's testdata/
	runs                         []streamRun
	// style is how the goldens of the pair were first written; their bytes are
	// kept as they are.
	style goldenStyle
}

// goldenStyle is one of the two formats the first goldens were written in.
type goldenStyle int

const (
	// hashStyle: a request golden always lists "dropped" (a RequestError fails
	// the test); a failed stream ends with "# stream error: …" or "# error: …".
	hashStyle goldenStyle = iota
	// dashStyle: a request golden omits an empty "dropped" and records a
	// RequestError; a failed stream ends with "--- <kind>: <error>".
	dashStyle
)

// goldenSets are the golden sets of every pair.
var goldenSets = map[string]goldenSet{
	"openai_anthropic": {pair: "openai_anthropic", client: wire.OpenAIChat, upstream: wire.AnthropicMessages, model: "up-model",
		requests: []string{"fixtures/openai-chat-request*.json"}, responses: []string{"fixtures/anthropic-messages-response*.json"},
		streams: []string{"fixtures/anthropic-messages-stream-*.sse"}, runs: []streamRun{{usage: true}}},
	"completions_anthropic": {pair: "completions_anthropic", client: wire.OpenAICompletions, upstream: wire.AnthropicMessages, model: "up-model",
		requests: []string{"fixtures/openai-completions-request*.json"}, responses: []string{"fixtures/anthropic-messages-response.json"},
		streams: []string{"fixtures/anthropic-messages-stream-*.sse"}, runs: []streamRun{{usage: true}}},
	"anthropic_openai": {pair: "anthropic_openai", client: wire.AnthropicMessages, upstream: wire.OpenAIChat, model: "up-model",
		requests:  []string{"fixtures/anthropic-messages-request*.json"},
		responses: []string{"fixtures/openai-chat-response*.json", "ollama-real/v1_chat_reasoning_nostream.body"},
		streams:   []string{"fixtures/openai-chat-stream-*.sse", "ollama-real/v1_chat_reasoning_stream_default.body"}, runs: []streamRun{{}}},
	"openai_ollama": {pair: "openai_ollama", client: wire.OpenAIChat, upstream: wire.OllamaChat, model: "tiny",
		requests: []string{"fixtures/openai-chat-request*.json"}, responses: ollChatResponses, streams: ollChatStreams,
		runs: []streamRun{{}, {usage: true, suffix: ".usage"}}, style: dashStyle},
	"anthropic_ollama": {pair: "anthropic_ollama", client: wire.AnthropicMessages, upstream: wire.OllamaChat, model: "tiny",
		requests: []string{"fixtures/anthropic-messages-request*.json"}, responses: ollChatResponses, streams: ollChatStreams,
		runs: []streamRun{{}}, style: dashStyle},
	"completions_ollama": {pair: "completions_ollama", client: wire.OpenAICompletions, upstream: wire.OllamaGenerate, model: "tiny",
		requests: []string{"fixtures/openai-completions-request.json"}, responses: ollGenerateResponses, streams: ollGenerateStreams,
		runs: []streamRun{{}, {usage: true, suffix: ".usage"}}, style: dashStyle},
}

// The Ollama bodies under test: real Ollama v0.17.4 captures and the
// documentation's examples.
var (
	ollChatResponses = []string{
		"ollama-real/api_chat_nostream.body",
		"ollama-real/api_chat_tools_nostream.body",
		"ollama-real/api_chat_think_nostream.body",
		"ollama-real/api_chat_think_default.body",
		"ollama-real/api_chat_format_json.body",
		"fixtures/ollama-chat-response.json",
	}
	ollGenerateResponses = []string{
		"ollama-real/api_generate_nostream.body",
		"ollama-real/api_generate_raw.body",
		"ollama-real/api_generate_think.body",
		"ollama-real/api_generate_load.body",
		"fixtures/ollama-generate-response.json",
	}
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

// newFixed returns the pair's translator, fixed.
func (s goldenSet) newFixed() Translator {
	return fixed(New(s.client, s.upstream, Options{Model: s.model}))
}

// streamRequest is a streaming request of a client protocol, with or without
// stream_options.include_usage (which Anthropic clients do not have).
func streamRequest(client wire.Protocol, usage bool) string {
	opts := ""
	if usage {
		opts = `,"stream_options":{"include_usage":true}`
	}
	switch client {
	case wire.AnthropicMessages:
		return `{"model":"m","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"Hi there"}]}`
	case wire.OpenAICompletions:
		return `{"model":"m","stream":true` + opts + `,"prompt":"Hi there"}`
	case wire.OpenAIResponses:
		return `{"model":"m","stream":true,"input":"Hi there"}`
	}
	return `{"model":"m","stream":true` + opts + `,"messages":[{"role":"user","content":"Hi there"}]}`
}

// streamer is a fixed translator of the set after its Request for a streaming
// client, so that stream state such as include_usage is set as in production. It
// returns an error rather than failing, for use from goroutines.
func (s goldenSet) streamer(usage bool) (Translator, error) {
	tr := s.newFixed()
	if _, err := tr.Request([]byte(streamRequest(s.client, usage))); err != nil {
		return nil, fmt.Errorf("request for %s: %w", s.pair, err)
	}
	return tr, nil
}

// drive feeds an upstream stream body (SSE, or NDJSON for Ollama) through tr and
// returns the client bytes and the first error of the reader, Stream or End.
func drive(tr Translator, ndjson bool, body io.Reader) ([]byte, error) {
	rd := sse.NewReader(body, 0)
	if ndjson {
		rd = sse.NewNDJSONReader(body, 0)
	}
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

// transcript is the client output followed, when the stream failed, by a line
// that says how.
func (s goldenSet) transcript(out []byte, err error) []byte {
	if err == nil {
		return out
	}
	var se *StreamError
	if s.style == hashStyle {
		if errors.As(err, &se) {
			return fmt.Appendf(out, "# stream error: type=%q message=%q\n", se.Type, se.Message)
		}
		return fmt.Appendf(out, "# error: %v\n", err)
	}
	kind := "error"
	switch {
	case errors.As(err, &se):
		kind = "StreamError"
	case errors.Is(err, ErrTruncated):
		kind = "ErrTruncated"
	}
	return fmt.Appendf(out, "--- %s: %v\n", kind, err)
}

// requestGolden is what a request golden holds: the upstream body and Dropped(),
// or (dashStyle) the RequestError.
func (s goldenSet) requestGolden(t *testing.T, tr Translator, body []byte, err error) []byte {
	t.Helper()
	var re *RequestError
	if err != nil && (s.style == hashStyle || !errors.As(err, &re)) {
		t.Fatal(err)
	}
	var g struct {
		Error *struct {
			Param   string `json:"param"`
			Message string `json:"message"`
		} `json:"error,omitempty"`
		Dropped *[]string       `json:"dropped,omitempty"`
		Request json.RawMessage `json:"request,omitempty"`
	}
	dropped := tr.Dropped()
	switch {
	case re != nil:
		g.Error = &struct {
			Param   string `json:"param"`
			Message string `json:"message"`
		}{re.Param, re.Message}
	case len(dropped) > 0:
		g.Dropped, g.Request = &dropped, body
	case s.style == hashStyle:
		g.Dropped, g.Request = &[]string{}, body
	default:
		g.Request = body
	}
	b, err := marshal("golden", g)
	if err != nil {
		t.Fatal(err)
	}
	return indentJSON(t, b)
}

// indentJSON pretty-prints JSON for golden files.
func indentJSON(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, b, "", "  "); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, b)
	}
	buf.WriteByte('\n')
	return buf.Bytes()
}

// golden compares got with testdata/<pair>/<kind>/<name>, byte for byte, or
// rewrites it under -update.
func golden(t *testing.T, pair, kind, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", pair, kind, name)
	if *update {
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
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

// goldenRequests checks the request goldens of s.
func goldenRequests(t *testing.T, s goldenSet) {
	for _, f := range testdataFiles(t, s.requests...) {
		t.Run("request/"+stem(f), func(t *testing.T) {
			tr := s.newFixed()
			out, err := tr.Request(readTestdata(t, f))
			if err == nil && s.upstream.NDJSON() {
				ollCheckDocumentedFields(t, out)
			}
			golden(t, s.pair, "request", stem(f)+".json", s.requestGolden(t, tr, out, err))
		})
	}
}

// goldenResponses checks the response goldens of s.
func goldenResponses(t *testing.T, s goldenSet) {
	for _, f := range testdataFiles(t, s.responses...) {
		t.Run("response/"+stem(f), func(t *testing.T) {
			out, err := s.newFixed().Response(readTestdata(t, f))
			if err != nil {
				t.Fatal(err)
			}
			golden(t, s.pair, "response", stem(f)+".json", indentJSON(t, out))
		})
	}
}

// goldenStreams checks the stream goldens of s, one per stream and run.
func goldenStreams(t *testing.T, s goldenSet) {
	for _, f := range testdataFiles(t, s.streams...) {
		for _, run := range s.runs {
			name := stem(f) + run.suffix
			t.Run("stream/"+name, func(t *testing.T) {
				tr, err := s.streamer(run.usage)
				if err != nil {
					t.Fatal(err)
				}
				out, err := drive(tr, s.upstream.NDJSON(), bytes.NewReader(readTestdata(t, f)))
				golden(t, s.pair, "stream", name+".sse", s.transcript(out, err))
			})
		}
	}
}

// runGoldens checks every golden of the set.
func runGoldens(t *testing.T, s goldenSet) {
	goldenRequests(t, s)
	goldenResponses(t, s)
	goldenStreams(t, s)
}
