package logging

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/llmrouter/llmrouter/internal/anthropic"
	"github.com/llmrouter/llmrouter/internal/openai"
	"github.com/llmrouter/llmrouter/internal/sse"
)

// transcribe feeds a recorded stream through sse.Reader into a transcript.
func transcribe(t *testing.T, p Dialect, file string, max int64) []byte {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "testdata", "fixtures", file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := NewTranscript(p, max)
	r := sse.NewReader(f, 0)
	for {
		ev, err := r.Next()
		if errors.Is(err, io.EOF) {
			return tr.JSON()
		}
		if err != nil {
			t.Fatal(err)
		}
		tr.Add(ev)
	}
}

// diffJSON compares two JSON texts by value.
func diffJSON(t *testing.T, want string, got []byte) string {
	t.Helper()
	var w, g any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want: %v", err)
	}
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("got %s: %v", got, err)
	}
	return cmp.Diff(w, g)
}

func TestTranscriptFixtures(t *testing.T) {
	const openAIUsage = `"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}`
	tests := []struct {
		name  string
		proto Dialect
		file  string
		want  string
	}{
		{"openai parallel tools", openai.Chat, "openai-chat-stream-parallel-tools.sse", `{"text":"","tool_calls":[
			{"id":"call_ehIWdjL1abZk1h8FWGLQ0Hie","name":"add","arguments":"{\"a\": 2, \"b\": 3}"},
			{"id":"call_fBSgA47J5VeONggizTIvl7AH","name":"multiply","arguments":"{\"a\": 2, \"b\": 3}"}],
			"finish_reason":"tool_calls","usage":{"prompt_tokens":106,"completion_tokens":50,"total_tokens":156,
			"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},` + openAIUsage + `}}`},
		{"openai text and usage", openai.Chat, "openai-chat-stream-usage.sse", `{"text":"Olá!","finish_reason":"stop",
			"usage":{"prompt_tokens":20,"completion_tokens":2,"total_tokens":22,
			"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},` + openAIUsage + `}}`},
		{"openai reasoning hit length", openai.Chat, "openai-chat-stream-reasoning-length.sse", `{"text":"","finish_reason":"length",
			"usage":{"prompt_tokens":12,"completion_tokens":100,"total_tokens":112,
			"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},
			"completion_tokens_details":{"reasoning_tokens":100,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}}`},
		{"completions", openai.Completions, "openai-completions-stream-usage.sse",
			`{"text":" + fib(n-3) + fib(n-4)\n\ndef fibn(n):\n    if n <= 1:\n       ","finish_reason":"length",
			"usage":{"prompt_tokens":31,"completion_tokens":25,"total_tokens":56}}`},
		{"anthropic tools", anthropic.Messages, "anthropic-messages-stream-tools.sse",
			`{"text":"I'll check the current weather in Paris for you.",
			"tool_calls":[{"id":"toolu_01NRLabsLyVHZPKxbKvkfSMn","name":"get_weather","arguments":"{\"location\": \"Paris\"}"}],
			"finish_reason":"tool_use","usage":{"input_tokens":377,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,
			"output_tokens":65,"service_tier":"standard"}}`},
		{"anthropic parallel tools", anthropic.Messages, "anthropic-messages-stream-parallel-tools.sse",
			`{"text":"I'll add and multiply the numbers 2 and 3 for you.","tool_calls":[
			{"id":"toolu_01UYxUYC2zRPY8wiutnF48eP","name":"add","arguments":"{\"a\": 2, \"b\": 3}"},
			{"id":"toolu_01VaRx1jpWCvPhi7L4kywAcd","name":"multiply","arguments":"{\"a\": 2, \"b\": 3}"}],
			"finish_reason":"tool_use","usage":{"input_tokens":502,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,
			"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":0},"output_tokens":137,
			"service_tier":"standard","inference_geo":"not_available"}}`},
		{"anthropic thinking", anthropic.Messages, "anthropic-messages-stream-thinking.sse",
			`{"text":"","reasoning":"The user is asking for weather information for Florence, Italy. I have access to a weather function that takes a location parameter. The user has provided the location as \"Florence, Italy\" which is specific enough for the weather function. I have all the required parameters to make the function call.",
			"tool_calls":[{"id":"toolu_01Js4AMfx5qpTLhwTusnvT68","name":"weather","arguments":"{\"location\": \"Florence, Italy\"}"}],
			"finish_reason":"tool_use","usage":{"input_tokens":424,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,
			"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":0},"output_tokens":119,
			"service_tier":"standard","inference_geo":"not_available"}}`},
		{"anthropic in-band error", anthropic.Messages, "anthropic-messages-stream-error.sse",
			`{"text":"","error":{"type":"overloaded_error","message":"Overloaded"}}`},
		{"anthropic refusal", anthropic.Messages, "anthropic-messages-stream-refusal.sse",
			`{"text":"","finish_reason":"refusal","usage":{"input_tokens":20,"output_tokens":0}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := diffJSON(t, tt.want, transcribe(t, tt.proto, tt.file, 64<<10)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestTranscriptCompact checks that JSON is one compact line and does not HTML-escape.
func TestTranscriptCompact(t *testing.T) {
	got := string(transcribe(t, openai.Completions, "openai-completions-stream-usage.sse", 64<<10))
	want := `{"text":" + fib(n-3) + fib(n-4)\n\ndef fibn(n):\n    if n <= 1:\n       ","finish_reason":"length",` +
		`"usage":{"prompt_tokens":31,"completion_tokens":25,"total_tokens":56}}`
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestTranscriptEvents(t *testing.T) {
	type ev = sse.Event
	tests := []struct {
		name   string
		proto  Dialect
		max    int64
		events []ev
		want   string
	}{
		{"done, blank, malformed and ping ignored", openai.Chat, 100, []ev{
			{Data: []byte(`{"choices":[{"index":0,"delta":{"content":"a<&>"}}]}`)},
			{Data: []byte(`{not json`)}, {Data: []byte("  ")}, {Data: []byte("[DONE]")},
		}, `{"text":"a<&>"}`},
		{"openai in-band error", openai.Chat, 100, []ev{
			{Data: []byte(`{"choices":[{"index":0,"delta":{"content":"hi"}}]}`)},
			{Data: []byte(`{"error":{"message":"boom","type":"server_error"}}`)},
		}, `{"text":"hi","error":{"message":"boom","type":"server_error"}}`},
		{"only choice 0, refusal and reasoning", openai.Chat, 100, []ev{
			{Data: []byte(`{"choices":[{"index":1,"delta":{"content":"other"}},{"index":0,"delta":{"reasoning_content":"think","refusal":"no"}}]}`)},
			{Data: []byte(`{"choices":[{"index":0,"delta":{"reasoning":"ing"},"finish_reason":"content_filter"}]}`)},
		}, `{"text":"no","reasoning":"thinking","finish_reason":"content_filter"}`},
		{"tool call without index", openai.Chat, 100, []ev{
			{Data: []byte(`{"choices":[{"index":0,"delta":{"tool_calls":[{"id":"c1","function":{"name":"f","arguments":"{\"x\""}}]}}]}`)},
			{Data: []byte(`{"choices":[{"index":0,"delta":{"tool_calls":[{"function":{"arguments":":1}"}}]}}]}`)},
		}, `{"text":"","tool_calls":[{"id":"c1","name":"f","arguments":"{\"x\":1}"}]}`},
		{"anthropic events named by data.type", anthropic.Messages, 100, []ev{
			{Data: []byte(`{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`)},
			{Data: []byte(`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"hey"}}`)},
			{Data: []byte(`{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":3}}`)},
		}, `{"text":"hey","finish_reason":"end_turn","usage":{"output_tokens":3}}`},
		{"budget cut on a UTF-8 boundary", anthropic.Messages, 5, []ev{
			{Name: "content_block_delta", Data: []byte(`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"ééé"}}`)},
		}, `{"text":"éé","truncated_bytes":2}`},
		{"call without room is counted", anthropic.Messages, 20, []ev{
			{Name: "content_block_start", Data: []byte(`{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_1","name":"f","input":{}}}`)},
			{Name: "content_block_delta", Data: []byte(`{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{}"}}`)},
		}, `{"text":"","truncated_bytes":10}`},
		{"no protocol, events ignored", nil, 100, []ev{
			{Data: []byte(`{"message":{"content":"x"}}`)},
		}, `{"text":""}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := NewTranscript(tt.proto, tt.max)
			for _, e := range tt.events {
				tr.Add(e)
			}
			if diff := cmp.Diff(tt.want, string(tr.JSON())); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestTranscriptBounded feeds 10 MB of deltas of every kind into a 1 KiB transcript.
func TestTranscriptBounded(t *testing.T) {
	const total = 10 << 20
	chunk := strings.Repeat("x", 1000)
	tests := []struct {
		name  string
		proto Dialect
		start string // sent once first
		event string // %[1]s is the chunk, %[2]d the event's number
	}{
		{"openai text", openai.Chat, "", `{"choices":[{"index":0,"delta":{"content":"%[1]s"}}]}`},
		{"openai tool arguments", openai.Chat,
			`{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c","function":{"name":"f","arguments":""}}]}}]}`,
			`{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"%[1]s"}}]}}]}`},
		{"openai many calls", openai.Chat, "",
			`{"choices":[{"index":0,"delta":{"tool_calls":[{"index":%[2]d,"id":"%[1]s","function":{"name":"f"}}]}}]}`},
		{"anthropic thinking", anthropic.Messages, "",
			`{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"%[1]s"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := NewTranscript(tt.proto, 1<<10)
			if tt.start != "" {
				tr.Add(sse.Event{Data: []byte(tt.start)})
			}
			for i := range total / len(chunk) {
				tr.Add(sse.Event{Data: fmt.Appendf(nil, tt.event, chunk, i)})
			}
			got := tr.JSON()
			if len(got) > 2<<10 {
				t.Errorf("len(JSON()) = %d, want <= 2 KiB", len(got))
			}
			if kept := int64(len(tr.text) + len(tr.reasoning)); kept > 1<<10 {
				t.Errorf("kept %d bytes of text, want <= 1 KiB", kept)
			}
			if len(tr.calls) > 1<<10/callCost {
				t.Errorf("kept %d tool calls", len(tr.calls))
			}
			var out struct {
				Truncated int64 `json:"truncated_bytes"`
			}
			if err := json.Unmarshal(got, &out); err != nil || out.Truncated < total-2<<10 {
				t.Errorf("truncated_bytes = %d (%v), want about %d", out.Truncated, err, total)
			}
		})
	}
}

// A transcript whose budget runs out inside a token drops the token's kept part,
// also when the token began in an earlier delta.
func TestTranscriptCutDropsTokenTail(t *testing.T) {
	const key = "sk-unknown-0123456789abcdef"
	for cut := 1; cut < len(key); cut++ {
		for split := 1; split < len(key); split++ {
			tr := NewTranscript(openai.Chat, int64(len("key: ")+cut))
			for _, s := range []string{"key: ", key[:split], key[split:], " end"} {
				tr.Add(sse.Event{Data: fmt.Appendf(nil, `{"choices":[{"index":0,"delta":{"content":%q}}]}`, s)})
			}
			var got struct {
				Text      string `json:"text"`
				Truncated int    `json:"truncated_bytes"`
			}
			if err := json.Unmarshal(tr.JSON(), &got); err != nil {
				t.Fatal(err)
			}
			if got.Text != "key: " || got.Truncated != len(key)+len(" end") {
				t.Errorf("budget %d, split %d: %+v", cut, split, got)
			}
		}
	}
}
