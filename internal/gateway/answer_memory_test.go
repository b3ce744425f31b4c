package gateway_test

import (
	"bytes"
	"io"
	"net/http"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
)

// endlessAnthropicAnswer answers a non-streaming Anthropic request with a text
// answer of X-Test-Size bytes, generated as it is written (the test holds no such
// body), and reports when the router hangs up before the end.
func endlessAnthropicAnswer(hungUp, completed signals) http.HandlerFunc {
	chunk := bytes.Repeat([]byte("x"), 64<<10)
	return func(w http.ResponseWriter, r *http.Request) {
		size, _ := strconv.ParseInt(r.Header.Get("X-Test-Size"), 10, 64)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"msg_1","type":"message","role":"assistant","model":"claude-x","content":[{"type":"text","text":"`)
		for written := int64(0); written < size; written += int64(len(chunk)) {
			if _, err := w.Write(chunk); err != nil {
				hungUp.send()
				return
			}
		}
		_, _ = io.WriteString(w, `"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":3,"output_tokens":1}}`)
		completed.send()
	}
}

// A translated non-streaming answer is held whole, so its size is bounded: the
// attacks as they were run, one 1 GB answer and then four concurrent 200 MB
// answers, each get a 502 in the client's envelope, the upstream is hung up on,
// and the router allocates at most allocCeiling per answer while doing so (the
// old 64 MiB limit allocated more than that for one answer alone), and keeps at
// most keptCeiling of heap once they are over (no pooled giant buffer).
func TestTranslatedAnswerMemoryBound(t *testing.T) {
	const (
		allocCeiling = 16 << 20 // bytes allocated, whole process, per oversized answer
		keptCeiling  = 16 << 20 // heap in use after the answers, over the baseline
	)
	hungUp, completed := newSignals(), newSignals()
	up := newUpstream(t, endlessAnthropicAnswer(hungUp, completed))
	rt := newRouter(t, faultConfig(quickRetry), up.URL)
	req := strings.Replace(chatReq, "gpt-4o", "claude-x", 1)

	var base runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&base)
	for _, attack := range []struct {
		size, concurrent int
	}{{1 << 30, 1}, {200 << 20, 4}} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		results := make(chan string, attack.concurrent)
		for range attack.concurrent {
			go func() {
				resp, body, err := tryPost(rt.URL+"/v1/chat/completions", req, map[string]string{"X-Test-Size": strconv.Itoa(attack.size)})
				switch {
				case err != nil:
					results <- err.Error()
				case resp.StatusCode != 502 || !strings.Contains(string(body), "larger than the router accepts"):
					results <- "status " + resp.Status + ": " + string(body)
				default:
					results <- ""
				}
			}()
		}
		for range attack.concurrent {
			if r := <-results; r != "" {
				t.Errorf("%d MiB answer: %s", attack.size>>20, r)
			}
		}
		runtime.ReadMemStats(&after)
		perAnswer := (after.TotalAlloc - before.TotalAlloc) / uint64(attack.concurrent)
		t.Logf("%d x %d MiB answers: %.1f MiB allocated per answer (ceiling %d MiB)", attack.concurrent, attack.size>>20, float64(perAnswer)/(1<<20), allocCeiling>>20)
		if perAnswer > allocCeiling {
			t.Errorf("%d x %d MiB answers: %d MiB allocated per answer, ceiling %d MiB", attack.concurrent, attack.size>>20, perAnswer>>20, allocCeiling>>20)
		}
		hungUp.expect(t, attack.concurrent, "upstream hung up on")
	}
	select {
	case <-completed:
		t.Error("an oversized answer was read to its end")
	default:
	}
	var end runtime.MemStats
	runtime.GC()
	debug.FreeOSMemory()
	runtime.ReadMemStats(&end)
	kept := int64(end.HeapInuse) - int64(base.HeapInuse)
	t.Logf("heap in use after the answers: %+.1f MiB (ceiling %d MiB)", float64(kept)/(1<<20), keptCeiling>>20)
	if kept > keptCeiling {
		t.Errorf("heap in use grew by %d MiB after the answers, ceiling %d MiB", kept>>20, keptCeiling>>20)
	}
}
