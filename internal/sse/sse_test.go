package sse

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

type ev struct{ Name, Data, Raw string }

func readAll(t testing.TB, r *Reader) ([]ev, error) {
	t.Helper()
	var out []ev
	for {
		e, err := r.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return out, err
		}
		out = append(out, ev{e.Name, string(e.Data), string(e.Raw)})
	}
}

func TestReader(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []ev
	}{
		{"openai", "data: {\"a\":1}\n\ndata: [DONE]\n\n", []ev{{"", `{"a":1}`, "data: {\"a\":1}\n\n"}, {"", "[DONE]", "data: [DONE]\n\n"}}},
		{"anthropic", "event: ping\ndata: {\"type\": \"ping\"}\n\n", []ev{{"ping", `{"type": "ping"}`, "event: ping\ndata: {\"type\": \"ping\"}\n\n"}}},
		{"crlf", "event: x\r\ndata: 1\r\n\r\n", []ev{{"x", "1", "event: x\r\ndata: 1\r\n\r\n"}}},
		{"multi-line data", "data: a\ndata: b\n\n", []ev{{"", "a\nb", "data: a\ndata: b\n\n"}}},
		{"comment and id ignored", ": keepalive\nid: 7\ndata: x\n\n", []ev{{"", "x", ": keepalive\nid: 7\ndata: x\n\n"}}},
		{"no space after colon", "data:x\n\n", []ev{{"", "x", "data:x\n\n"}}},
		// Raw gains the missing blank line: relayed as is, it must not merge with what follows.
		{"missing final blank line", "data: x\n", []ev{{"", "x", "data: x\n\n"}}},
		{"missing final blank line, CRLF", "event: e\r\ndata: x\r\n", []ev{{"e", "x", "event: e\r\ndata: x\r\n\n"}}},
		{"stray blank lines", "\n\ndata: x\n\n\n", []ev{{"", "x", "data: x\n\n"}}},
		{"trailing spaces kept", "data: {\"type\":\"message_stop\"      }\n\n", []ev{{"", `{"type":"message_stop"      }`, "data: {\"type\":\"message_stop\"      }\n\n"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readAll(t, NewReader(strings.NewReader(tt.in), 0))
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestNDJSON(t *testing.T) {
	got, err := readAll(t, NewNDJSONReader(strings.NewReader("{\"a\":1}\n\n{\"b\":2}"), 0))
	if err != nil {
		t.Fatal(err)
	}
	want := []ev{{"", `{"a":1}`, "{\"a\":1}\n"}, {"", `{"b":2}`, `{"b":2}`}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestTooLarge(t *testing.T) {
	big := "data: " + strings.Repeat("x", 8<<20) + "\n\n"
	_, err := readAll(t, NewReader(strings.NewReader(big), 1<<20))
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	_, err = readAll(t, NewNDJSONReader(strings.NewReader(strings.Repeat("x", 2<<20)+"\n"), 1<<20))
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("ndjson err = %v, want ErrTooLarge", err)
	}
}

// Every fixture transcript, read one byte at a time, yields the same events and the
// concatenated Raw bytes reproduce the transcript exactly (byte-exact relay).
func TestFixturesRawRoundTrip(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/fixtures/*.sse")
	nd, _ := filepath.Glob("../../testdata/fixtures/*.ndjson")
	if len(files) == 0 || len(nd) == 0 {
		t.Fatal("no fixtures")
	}
	for _, f := range append(files, nd...) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		mk := NewReader
		if strings.HasSuffix(f, ".ndjson") {
			mk = NewNDJSONReader
		}
		whole, err := readAll(t, mk(bytes.NewReader(b), 0))
		if err != nil {
			t.Fatal(err)
		}
		bytewise, err := readAll(t, mk(iotest.OneByteReader(bytes.NewReader(b)), 0))
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(whole, bytewise); d != "" {
			t.Errorf("%s: split reads differ:\n%s", f, d)
		}
		var raw strings.Builder
		for _, e := range whole {
			raw.WriteString(e.Raw)
		}
		if !strings.HasSuffix(f, ".ndjson") && raw.String() != string(b) {
			t.Errorf("%s: raw bytes do not reproduce the transcript", f)
		}
	}
}

func TestAppendEvent(t *testing.T) {
	got := string(AppendEvent(AppendEvent(nil, "", []byte("[DONE]")), "message_stop", []byte(`{"type":"message_stop"}`)))
	want := "data: [DONE]\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"
	if got != want {
		t.Errorf("got %q", got)
	}
}

func FuzzReader(f *testing.F) {
	for _, s := range []string{"data: x\n\n", "event: a\ndata: b\r\n\r\n", ":c\n\ndata", "\r\n\n\n"} {
		f.Add([]byte(s), false)
	}
	files, _ := filepath.Glob("../../testdata/fixtures/*.sse")
	for _, p := range files[:3] {
		b, _ := os.ReadFile(p)
		f.Add(b, false)
	}
	f.Fuzz(func(t *testing.T, in []byte, ndjson bool) {
		mk := NewReader
		if ndjson {
			mk = NewNDJSONReader
		}
		whole, err1 := readAll(t, mk(bytes.NewReader(in), 1024))
		split, err2 := readAll(t, mk(iotest.OneByteReader(bytes.NewReader(in)), 1024))
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("errors differ: %v vs %v", err1, err2)
		}
		if err1 == nil && !cmp.Equal(whole, split) {
			t.Fatalf("split reads differ: %s", cmp.Diff(whole, split))
		}
		total := 0
		for _, e := range whole {
			total += len(e.Raw)
		}
		// Only the last event, cut before its blank line, may gain that line (≤ 2 bytes).
		if total > len(in)+2 {
			t.Fatalf("raw bytes exceed input by more than a closing blank line")
		}
	})
}

func TestReady(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		ndjson bool
		want   []bool // Ready after each Next
	}{
		{"two events in one read", "data: a\n\ndata: b\n\n", false, []bool{true, false}},
		{"partial next event", "data: a\n\ndata: b\n", false, []bool{false}},
		{"stray blank lines only", "data: a\n\n\n\n", false, []bool{false}},
		// Next skips comment and id/retry-only blocks, so they are not a ready event.
		{"keep-alive comment", "data: a\n\n: keep-alive\n\n", false, []bool{false}},
		{"retry and id only", "data: a\n\nretry: 1000\nid: 7\n\n", false, []bool{false}},
		{"comment then event", "data: a\n\n: ping\n\nevent: e\ndata: b\n\n", false, []bool{true, false}},
		{"ndjson", "{\"a\":1}\n{\"b\":2}\n", true, []bool{true, false}},
		{"ndjson partial", "{\"a\":1}\n{\"b\"", true, []bool{false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mk := NewReader
			if tt.ndjson {
				mk = NewNDJSONReader
			}
			r := mk(strings.NewReader(tt.in), 0)
			for i, want := range tt.want {
				if _, err := r.Next(); err != nil {
					t.Fatal(err)
				}
				if got := r.Ready(); got != want {
					t.Errorf("Ready after event %d = %v, want %v", i, got, want)
				}
			}
		})
	}
}
