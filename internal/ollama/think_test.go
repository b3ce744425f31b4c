package ollama

import (
	"bytes"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tidwall/gjson"
)

// captured is one exchange of testdata/ollama-real: the request, status and body.
type captured struct {
	req, body []byte
	status    int
}

func readCaptured(t *testing.T, name string) captured {
	t.Helper()
	var status int
	if _, err := fmt.Sscanf(string(readTestdata(t, "ollama-real/"+name+".headers")), "HTTP/1.1 %d", &status); err != nil {
		t.Fatal(err)
	}
	return captured{readTestdata(t, "ollama-real/"+name+".req.json"), readTestdata(t, "ollama-real/"+name+".body"), status}
}

// levelRefusal is how the native API refuses a level on a model that is not
// gpt-oss: the message Ollama 0.17.4 gave through /v1 (v1_chat_reasoning_stream),
// in the native envelope of api_chat_think_unsupported.
func levelRefusal(t *testing.T) captured {
	msg := gjson.GetBytes(readTestdata(t, "ollama-real/v1_chat_reasoning_stream.body"), "error.message").String()
	return captured{
		req:    []byte(`{"model":"tiny-think","think":"high","stream":true,"messages":[{"role":"user","content":"Hi there"}]}`),
		body:   []byte(`{"error":` + strconv.Quote(msg) + `}`),
		status: 400,
	}
}

func TestReadThinkRefusal(t *testing.T) {
	unsupported := readCaptured(t, "api_chat_think_unsupported")
	tests := []struct {
		name   string
		c      captured
		want   Thinking
		wantOK bool
	}{
		{"a model without the capability", unsupported, CannotThink, true},
		{"a level on a model that is not gpt-oss", levelRefusal(t), ThinksWithoutLevels, true},
		{"the capability refusal to a level", captured{
			[]byte(`{"model":"tiny","think":"high","messages":[]}`), unsupported.body, 400}, CannotThink, true},
		{"a request without think is not refused for it", captured{
			[]byte(`{"model":"tiny","messages":[]}`), unsupported.body, 400}, ThinkingUnknown, false},
		{"nor one with think false", captured{
			[]byte(`{"model":"tiny","think":false,"messages":[]}`), unsupported.body, 400}, ThinkingUnknown, false},
		{"the level message for think true", captured{
			[]byte(`{"model":"tiny-think","think":true,"messages":[]}`), levelRefusal(t).body, 400}, ThinkingUnknown, false},
		{"another status", captured{unsupported.req, unsupported.body, 500}, ThinkingUnknown, false},
		{"unknown model", readCaptured(t, "api_chat_unknown_model"), ThinkingUnknown, false},
		{"bad JSON", readCaptured(t, "api_chat_bad_json"), ThinkingUnknown, false},
		{"a message that only ends alike", captured{unsupported.req,
			[]byte(`{"error":"this model does not support thinking"}`), 400}, ThinkingUnknown, false},
		{"not an Ollama error", captured{unsupported.req, []byte(`not json`), 400}, ThinkingUnknown, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ReadThinkRefusal(tt.c.req, tt.c.status, tt.c.body)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("ReadThinkRefusal = %v, %v; want %v, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestFitThink(t *testing.T) {
	tests := []struct {
		name string
		t    Thinking
		req  string
		want string // "" when req must come back itself
	}{
		{"cannot think: true goes", CannotThink, `{"model":"tiny","think":true,"stream":true}`, `{"model":"tiny","stream":true}`},
		{"cannot think: a level goes", CannotThink, `{"model":"tiny","messages":[],"think":"high"}`, `{"model":"tiny","messages":[]}`},
		{"cannot think: false stays", CannotThink, `{"model":"tiny","think":false}`, ""},
		{"cannot think: no think", CannotThink, `{"model":"tiny"}`, ""},
		{"no levels: a level is true", ThinksWithoutLevels, `{"model":"m","think":"medium","stream":false}`, `{"model":"m","think":true,"stream":false}`},
		{"no levels: true stays", ThinksWithoutLevels, `{"model":"m","think":true}`, ""},
		{"unknown: nothing changes", ThinkingUnknown, `{"model":"m","think":"high"}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := []byte(tt.req)
			got := FitThink(req, tt.t)
			if string(req) != tt.req {
				t.Fatalf("FitThink wrote into the request: %s", req)
			}
			want := tt.want
			if want == "" {
				want = tt.req
				if &got[0] != &req[0] {
					t.Errorf("an unchanged request is not returned itself")
				}
			}
			if string(got) != want {
				t.Errorf("FitThink = %s, want %s", got, want)
			}
		})
	}
}

// The memory relaxes a request as the captured Ollama requires, then sends the
// relaxed form first for that model on that server only.
func TestThinkMemoryLearnsFromRefusals(t *testing.T) {
	m := NewThinkMemory(16, time.Hour)
	const local, other = "http://127.0.0.1:11434", "http://gpu:11434"
	unsupported := readCaptured(t, "api_chat_think_unsupported")
	retry, ok := m.Refused(local, unsupported.req, unsupported.status, unsupported.body)
	if !ok || gjson.GetBytes(retry, "think").Exists() || !bytes.Contains(retry, []byte(`"messages"`)) {
		t.Fatalf("Refused = %s, %v; want the request without think", retry, ok)
	}
	level := levelRefusal(t)
	retry, ok = m.Refused(local, level.req, level.status, level.body)
	if !ok || gjson.GetBytes(retry, "think").Raw != "true" {
		t.Fatalf("Refused = %s, %v; want think true", retry, ok)
	}
	for _, tt := range []struct{ endpoint, req, want string }{
		{local, `{"model":"tiny","think":"high","stream":true}`, `{"model":"tiny","stream":true}`},
		{local, `{"model":"tiny-think","think":"low"}`, `{"model":"tiny-think","think":true}`},
		{local, `{"model":"qwen3","think":"high"}`, `{"model":"qwen3","think":"high"}`}, // not learned
		{other, `{"model":"tiny","think":true}`, `{"model":"tiny","think":true}`},       // another server
	} {
		if got := m.Fit(tt.endpoint, []byte(tt.req)); string(got) != tt.want {
			t.Errorf("Fit(%s, %s) = %s, want %s", tt.endpoint, tt.req, got, tt.want)
		}
	}
	// A request the memory already relaxed is not refused for think again; an
	// answer that is not a refusal asks for no retry.
	if retry, ok := m.Refused(local, []byte(`{"model":"tiny","think":false}`), unsupported.status, unsupported.body); ok {
		t.Errorf("Refused of a request with think false = %s, want no retry", retry)
	}
	if _, ok := m.Refused(local, unsupported.req, 200, readTestdata(t, "ollama-real/api_chat_nostream.body")); ok {
		t.Error("a 200 asked for a retry")
	}
}

// A model is remembered for the memory's time only, and the memory holds at most
// its limit of models.
func TestThinkMemoryBounds(t *testing.T) {
	unsupported := readCaptured(t, "api_chat_think_unsupported")
	synctest.Test(t, func(t *testing.T) {
		m := NewThinkMemory(2, time.Hour)
		m.Refused("e", unsupported.req, 400, unsupported.body)
		time.Sleep(59 * time.Minute)
		if got := m.Fit("e", unsupported.req); gjson.GetBytes(got, "think").Exists() {
			t.Errorf("forgotten before its time: %s", got)
		}
		time.Sleep(time.Minute)
		if got := m.Fit("e", unsupported.req); string(got) != string(unsupported.req) {
			t.Errorf("remembered after its time: %s", got)
		}
	})
	m := NewThinkMemory(2, time.Hour)
	for i := range 100 {
		req := []byte(fmt.Sprintf(`{"model":"m%d","think":true}`, i))
		m.Refused("e", req, 400, []byte(fmt.Sprintf(`{"error":"\"m%d\" does not support thinking"}`, i)))
	}
	if n := len(m.known); n != 2 {
		t.Errorf("the memory holds %d models, want its limit 2", n)
	}
	if got := m.Fit("e", []byte(`{"model":"m99","think":true}`)); gjson.GetBytes(got, "think").Exists() {
		t.Errorf("the model learned last was forgotten: %s", got)
	}
}

func TestThinkMemoryConcurrentUse(t *testing.T) {
	m := NewThinkMemory(8, time.Hour)
	var wg sync.WaitGroup
	results := make([][]byte, 32)
	for i := range results {
		wg.Go(func() {
			model := fmt.Sprintf("m%d", i%4)
			req := []byte(`{"model":"` + model + `","think":"high"}`)
			m.Refused("e", req, 400, []byte(`{"error":"think value \"high\" is not supported for this model"}`))
			results[i] = m.Fit("e", req)
		})
	}
	wg.Wait()
	for i, got := range results {
		want := fmt.Sprintf(`{"model":"m%d","think":true}`, i%4)
		if diff := cmp.Diff(want, string(got)); diff != "" {
			t.Errorf("Fit after a concurrent refusal (-want +got):\n%s", diff)
		}
	}
}

func TestTakesThinkLevel(t *testing.T) {
	for model, want := range map[string]bool{
		"gpt-oss:20b": true, "GPT-OSS:120b": true, "library/gpt-oss:latest": true,
		"qwen3:0.6b": false, "tiny-think": false, "deepseek-r1": false,
	} {
		if got := TakesThinkLevel(model); got != want {
			t.Errorf("TakesThinkLevel(%q) = %v, want %v", model, got, want)
		}
	}
}

// FuzzThinkRefusal: no answer or request panics, a refusal is only read for a
// request that asked for thinking, and relaxing it changes only its think.
func FuzzThinkRefusal(f *testing.F) {
	unsupported := readTestdata(f, "ollama-real/api_chat_think_unsupported.body")
	f.Add(readTestdata(f, "ollama-real/api_chat_think_unsupported.req.json"), unsupported)
	f.Add([]byte(`{"model":"tiny-think","think":"high","messages":[]}`), []byte(`{"error":"think value \"high\" is not supported for this model"}`))
	f.Add([]byte(`{"model":"x","think":true}`), []byte(`{"error":"\"x\\\"y\" does not support thinking"}`))
	f.Fuzz(func(t *testing.T, req, answer []byte) {
		th, ok := ReadThinkRefusal(req, 400, answer)
		if !ok {
			return
		}
		think := gjson.GetBytes(req, "think")
		if th == ThinkingUnknown || !thinks(think) {
			t.Fatalf("refusal %v read for think %s", th, think.Raw)
		}
		out := FitThink(req, th)
		if !gjson.ValidBytes(req) || bytes.Count(req, []byte(`think`)) > 1 {
			return // the router sends valid bodies, without duplicate members
		}
		if !gjson.ValidBytes(out) || gjson.GetBytes(out, "model").Raw != gjson.GetBytes(req, "model").Raw {
			t.Fatalf("FitThink(%s) = %s", req, out)
		}
		if after := gjson.GetBytes(out, "think"); thinks(after) && !(th == ThinksWithoutLevels && after.Type == gjson.True) {
			t.Fatalf("FitThink(%s, %v) left think %s", req, th, after.Raw)
		}
	})
}
