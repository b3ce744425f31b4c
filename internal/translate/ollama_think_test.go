package translate

// The think seam as the gateway is to use it (issue 9 item 1): Claude Code's
// request, translated for native Ollama, is fitted by an ollama.ThinkMemory
// before it is sent, and a think refusal is answered by sending the relaxed body
// the memory returns. The upstream is a fake that validates think as Ollama
// 0.17.4 does and answers with captured bodies.

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/llmrouter/llmrouter/internal/ollama"
	"github.com/llmrouter/llmrouter/internal/wire"
)

// thinkFake is a native Ollama that serves "tiny" (no thinking capability) and
// "tiny-think" (thinks, takes no level), refusing think as Ollama 0.17.4 does
// (ollama-real/api_chat_think_unsupported; the level message of
// ollama-real/v1_chat_reasoning_stream), and otherwise streaming the captured
// ollama-real/api_chat_stream answer. It records the think of every request.
type thinkFake struct {
	stream, levelMsg []byte
	mu               sync.Mutex
	thinks           []string // per request: "model think"
}

func newThinkFake(t *testing.T) *httptest.Server {
	f := &thinkFake{stream: readTestdata(t, "ollama-real/api_chat_stream.body"),
		levelMsg: []byte(gjson.GetBytes(readTestdata(t, "ollama-real/v1_chat_reasoning_stream.body"), "error.message").String())}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return srv
}

func (f *thinkFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	model, think := gjson.GetBytes(body, "model").String(), gjson.GetBytes(body, "think")
	f.mu.Lock()
	f.thinks = append(f.thinks, model+" "+cmpOr(think.Raw, "-"))
	f.mu.Unlock()
	on := think.Type == gjson.True || think.Type == gjson.String
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	switch {
	case on && model == "tiny":
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"error":%s}`, strconv.Quote(strconv.Quote(model)+" does not support thinking"))
	case think.Type == gjson.String:
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"error":%s}`, strconv.Quote(string(f.levelMsg)))
	default:
		w.Header().Set("Content-Type", "application/x-ndjson")
		_, _ = w.Write(bytes.ReplaceAll(f.stream, []byte(`"model":"tiny"`), []byte(`"model":`+strconv.Quote(model))))
	}
}

// sendOllama posts body to the fake and returns the status and answer.
func sendOllama(t *testing.T, url string, body []byte) (int, []byte) {
	t.Helper()
	resp, err := http.Post(url+ollama.ChatPath, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, answer
}

// claudeTurn is one Claude Code turn through the seam: translate, fit, send, and
// while Ollama refuses think, send the relaxed body. It returns the Anthropic
// stream the client gets.
func claudeTurn(t *testing.T, mem *ollama.ThinkMemory, url, model string) []byte {
	t.Helper()
	tr := New(wire.AnthropicMessages, wire.OllamaChat, Options{Model: model})
	body, err := tr.Request(readTestdata(t, "claude-code/messages-request-adaptive.json"))
	if err != nil {
		t.Fatal(err)
	}
	body = mem.Fit(url, body)
	status, answer := sendOllama(t, url, body)
	for status != http.StatusOK {
		retry, ok := mem.Refused(url, body, status, answer)
		if !ok {
			t.Fatalf("%s: %d %s is not a think refusal", model, status, answer)
		}
		body = retry
		status, answer = sendOllama(t, url, body)
	}
	out, err := drive(tr, true, bytes.NewReader(answer))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestClaudeCodeRunsOnOllamaModelsThroughTheThinkSeam(t *testing.T) {
	srv := newThinkFake(t)
	fake := srv.Config.Handler.(*thinkFake)
	mem := ollama.NewThinkMemory(64, time.Hour)
	for range 2 { // the second turn sends what the first one learned
		for _, model := range []string{"tiny", "tiny-think"} {
			got := summarizeMessage(t, claudeTurn(t, mem, srv.URL, model))
			if len(got.Blocks) != 1 || got.Blocks[0].Text != "Hello! I am a tiny test model." || got.StopReason != "end_turn" {
				t.Errorf("%s: the client got %+v", model, got)
			}
		}
	}
	// tiny: refused once, then sent without think; tiny-think: think true from
	// the start (a level goes only to gpt-oss).
	want := []string{"tiny true", "tiny -", "tiny-think true", "tiny -", "tiny-think true"}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if !slices.Equal(fake.thinks, want) {
		t.Errorf("requests (model think) = %q, want %q", fake.thinks, want)
	}
}

// A thinking model that is not called gpt-oss but is given a level (an alias)
// is relaxed to true after its refusal.
func TestThinkSeamRelaxesALevel(t *testing.T) {
	srv := newThinkFake(t)
	mem := ollama.NewThinkMemory(64, time.Hour)
	body := []byte(`{"model":"tiny-think","messages":[{"role":"user","content":"Hi"}],"think":"high","stream":true}`)
	status, answer := sendOllama(t, srv.URL, body)
	retry, ok := mem.Refused(srv.URL, body, status, answer)
	if !ok || gjson.GetBytes(retry, "think").Raw != "true" {
		t.Fatalf("Refused(%d %s) = %s, %v", status, answer, retry, ok)
	}
	if status, answer = sendOllama(t, srv.URL, retry); status != http.StatusOK {
		t.Errorf("relaxed request: %d %s", status, answer)
	}
}
