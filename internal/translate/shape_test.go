package translate

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/llmrouter/llmrouter/internal/sse"
	"github.com/llmrouter/llmrouter/internal/wire"
)

// upstreamPairs has one pair per upstream protocol, so that each decoder is
// tested once.
var upstreamPairs = map[wire.Protocol]string{
	wire.AnthropicMessages: "openai_anthropic",
	wire.OpenAIChat:        "anthropic_openai",
	wire.OllamaChat:        "openai_ollama",
	wire.OllamaGenerate:    "completions_ollama",
}

// A 200 body that is not an answer of the upstream's protocol is a *ShapeError,
// never an empty answer; an error object in a 200 body is a *StreamError with
// the upstream's type and message.
func TestResponseRejectsWhatIsNotAnAnswer(t *testing.T) {
	notAnswers := []string{`{"unexpected":true}`, `[1,2]`, `"text"`, `not json`, `{"choices":`}
	errorBodies := map[wire.Protocol]struct {
		body string
		want StreamError
	}{
		wire.AnthropicMessages: {`{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`,
			StreamError{Type: "overloaded_error", Message: "Overloaded"}},
		wire.OpenAIChat: {`{"error":{"message":"boom","type":"server_error","param":null,"code":null}}`,
			StreamError{Type: "server_error", Message: "boom"}},
		wire.OllamaChat:     {`{"error":"model 'x' not found"}`, StreamError{Message: "model 'x' not found"}},
		wire.OllamaGenerate: {`{"error":"model 'x' not found"}`, StreamError{Message: "model 'x' not found"}},
	}
	for up, pair := range upstreamPairs {
		s := goldenSets[pair]
		for _, body := range notAnswers {
			t.Run(pair+"/"+body, func(t *testing.T) {
				out, err := s.newFixed().Response([]byte(body))
				var se *ShapeError
				if !errors.As(err, &se) || se.Protocol != up {
					t.Fatalf("Response = %s, %v; want a *ShapeError of %v", out, err, up)
				}
			})
		}
		t.Run(pair+"/error object", func(t *testing.T) {
			e := errorBodies[up]
			out, err := s.newFixed().Response([]byte(e.body))
			var se *StreamError
			if !errors.As(err, &se) {
				t.Fatalf("Response = %s, %v; want a *StreamError", out, err)
			}
			if diff := cmp.Diff(e.want, *se); diff != "" {
				t.Errorf("StreamError (-want +got):\n%s", diff)
			}
		})
	}
	// Bodies of other shapes than the ones above that are still not answers.
	for pair, body := range map[string]string{
		"openai_anthropic": `{"type":"error"}`,
		"anthropic_ollama": `{"model":"m","message":{"role":"assistant","content":"hi"}}`,
	} {
		if _, err := goldenSets[pair].newFixed().Response([]byte(body)); !errors.As(err, new(*ShapeError)) {
			t.Errorf("%s: Response(%s) error = %v, want a *ShapeError", pair, body, err)
		}
	}
}

// A stream event that is not one of the upstream's protocol fails the stream and
// appends nothing.
func TestStreamRejectsWhatIsNotAnEvent(t *testing.T) {
	tests := []struct {
		pair string
		ev   sse.Event
	}{
		{"anthropic_openai", sse.Event{Data: []byte(`{"unexpected":true}`)}},
		{"anthropic_openai", sse.Event{Data: []byte(`[1]`)}},
		{"openai_anthropic", sse.Event{Data: []byte(`{"unexpected":true}`)}},
		{"openai_anthropic", sse.Event{Name: "message_start", Data: []byte(`{"type":"message_start"}`)}},
		{"completions_anthropic", sse.Event{Name: "content_block_delta", Data: []byte(`"text"`)}},
		{"openai_ollama", sse.Event{Data: []byte(`{"unexpected":true}`)}},
		{"completions_ollama", sse.Event{Data: []byte(`{"response":"hi"}`)}},
	}
	for _, tt := range tests {
		t.Run(tt.pair+"/"+string(tt.ev.Data), func(t *testing.T) {
			tr := newTranslator(t, tt.pair)
			out, err := tr.Stream([]byte("before"), tt.ev)
			if !errors.As(err, new(*ShapeError)) || string(out) != "before" {
				t.Errorf("Stream = %q, %v; want nothing appended and a *ShapeError", out, err)
			}
		})
	}
}
