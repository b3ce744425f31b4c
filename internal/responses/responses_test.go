package responses

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	sdk "github.com/openai/openai-go/v3/responses"

	"github.com/llmrouter/llmrouter/internal/sse"
)

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func events(t *testing.T, name string) []sse.Event {
	t.Helper()
	rd := sse.NewReader(bytes.NewReader(readTestdata(t, name)), 0)
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

// Every recorded stream: the preamble (created, in_progress, the opening of
// messages and reasoning items and of their parts) is not content, the first
// delta or tool call is, and the stream's last event is its only terminal one.
func TestEventClassificationOnRecordedStreams(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "responses", "*-stream-*.sse"))
	more, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "ollama-real", "v1_responses_*stream.body"))
	more = slices.DeleteFunc(more, func(f string) bool { return strings.HasSuffix(f, "nostream.body") })
	files = append(files, more...)
	if len(files) < 12 {
		t.Fatalf("found %d stream fixtures", len(files))
	}
	preamble := map[string]bool{EventCreated: true, EventInProgress: true, EventContentPartAdded: true, EventSummaryPartAdded: true}
	for _, f := range files {
		name := filepath.Join(filepath.Base(filepath.Dir(f)), filepath.Base(f))
		t.Run(name, func(t *testing.T) {
			evs := events(t, name)
			terminals := 0
			last := ""
			for _, ev := range evs {
				if string(ev.Data) == "[DONE]" { // OpenRouter
					continue
				}
				typ := EventType(ev.Name, ev.Data)
				last = typ
				if IsTerminal(typ) {
					terminals++
				}
				item := field(ev.Data, "item.type")
				want := !preamble[typ] && !(typ == EventOutputItemAdded && (item == ItemMessage || item == ItemReasoning))
				if got := IsContent(ev.Name, ev.Data); got != want {
					t.Errorf("IsContent(%s %s) = %v, want %v", typ, item, got, want)
				}
			}
			if terminals != 1 || !IsTerminal(last) {
				t.Errorf("%d terminal events, last %s", terminals, last)
			}
		})
	}
}

func field(data []byte, path string) string {
	var v map[string]any
	if json.Unmarshal(data, &v) != nil {
		return ""
	}
	for _, k := range strings.Split(path, ".") {
		switch x := v[k].(type) {
		case map[string]any:
			v = x
		case string:
			return x
		default:
			return ""
		}
	}
	return ""
}

func TestEventError(t *testing.T) {
	evs := events(t, "responses/openai-responses-stream-error-failed.sse")
	const quota = "You exceeded your current quota"
	var got []string
	for _, ev := range evs {
		if code, msg, ok := ParseEventError(ev.Name, ev.Data); ok {
			if !strings.HasPrefix(msg, quota) {
				t.Errorf("%s: message %q", ev.Name, msg)
			}
			got = append(got, ev.Name+" "+code)
		}
	}
	want := []string{"error insufficient_quota", "response.failed insufficient_quota"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	spec := []byte(`{"type":"error","code":"server_error","message":"Sorry","param":null,"sequence_number":2}`)
	if code, msg, ok := ParseEventError("", spec); !ok || code != "server_error" || msg != "Sorry" {
		t.Errorf("spec-shaped error: %q %q %v", code, msg, ok)
	}
	if _, _, ok := ParseEventError("", []byte(`{"type":"response.created","response":{"error":null}}`)); ok {
		t.Error("response.created read as an error")
	}
}

func TestReadUsage(t *testing.T) {
	type tokens struct{ Input, Output, CacheRead, CacheWrite, Reasoning int64 }
	of := func(u Usage) tokens {
		var t tokens
		t.Input, t.Output, t.CacheRead, t.CacheWrite, t.Reasoning = u.Tokens()
		return t
	}
	bodies := []struct {
		file string
		want tokens
	}{
		{"responses/openai-responses-response-text.json", tokens{Input: 20, Output: 3}},
		{"responses/openai-responses-response-reasoning-summary.json", tokens{Input: 63, Output: 212, Reasoning: 128}},
		{"ollama-real/v1_responses_nostream.body", tokens{Input: 29, Output: 10}},
	}
	for _, b := range bodies {
		u, ok := ReadUsage(readTestdata(t, b.file))
		if diff := cmp.Diff(b.want, of(u)); !ok || diff != "" {
			t.Errorf("%s: ok %v (-want +got):\n%s", b.file, ok, diff)
		}
	}
	streams := []struct {
		file string
		want tokens
	}{
		{"responses/openai-responses-stream-text.sse", tokens{Input: 20, Output: 3}},
		{"responses/openai-responses-stream-incomplete-reasoning.sse", tokens{Input: 38, Output: 64, Reasoning: 64}},
	}
	for _, s := range streams {
		n := 0
		var got tokens
		for _, ev := range events(t, s.file) {
			if u, ok := ReadUsage(ev.Data); ok {
				got, n = of(u), n+1
			}
		}
		if diff := cmp.Diff(s.want, got); n != 1 || diff != "" {
			t.Errorf("%s: %d usage events (-want +got):\n%s", s.file, n, diff)
		}
	}
}

// What Progress writes after a relayed stream broke parses as the SDK's error
// and response.failed events, numbered after the last event relayed.
func TestProgressFailure(t *testing.T) {
	p := NewProgress()
	for _, ev := range events(t, "responses/openai-responses-stream-text.sse")[:5] {
		p.Observe(ev.Name, ev.Data)
	}
	if p.Terminal() {
		t.Fatal("terminal before the end")
	}
	errData, failedData := p.Failure("", "upstream connection failed mid-stream")
	var e, f sdk.ResponseStreamEventUnion
	if err := json.Unmarshal(errData, &e); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(failedData, &f); err != nil {
		t.Fatal(err)
	}
	got := []any{e.Type, e.SequenceNumber, e.Message, f.Type, f.SequenceNumber, string(f.Response.Status), f.Response.ID, f.Response.Error.Message}
	want := []any{"error", int64(5), "upstream connection failed mid-stream", "response.failed", int64(6), "failed",
		"resp_099d6c816b4d9f35016a3c11f9593481a2a77e9b90b888ae50", "upstream connection failed mid-stream"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if !p.Terminal() {
		t.Error("not terminal after Failure")
	}
}
