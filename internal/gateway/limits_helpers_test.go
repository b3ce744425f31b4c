package gateway_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/llmrouter/llmrouter/internal/gateway"
)

// Test fixtures of the limits: a clock the test moves, an upstream that reports
// the usage the test chooses, and routers sharing one limit store.

// manualClock is the limit engine's clock in these tests: windows drain and
// budget periods turn only when the test says.
type manualClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *manualClock { return &manualClock{t: t} }

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// limitStart is a minute before the end of a day (and of a month).
var limitStart = time.Date(2026, time.December, 31, 23, 59, 0, 0, time.UTC)

// Usage the metered upstream reports for every answer.
const (
	meteredInput  = 20
	meteredOutput = 1000
)

// meteredUpstream answers OpenAI Chat and Anthropic Messages requests, streamed
// or not, reporting meteredInput and meteredOutput tokens where each protocol
// reports usage: OpenAI's usage object (a stream's last chunk, only when the
// request asked for stream_options.include_usage), Anthropic's message_start and
// message_delta.
func meteredUpstream(t *testing.T) *upstream {
	return newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		body := readBody(r)
		stream := gjson.GetBytes(body, "stream").Bool()
		switch {
		case strings.HasSuffix(r.URL.Path, "/messages") && stream:
			sseChunks(fmt.Sprintf(meteredAntStart, meteredInput), antBlockStart, antHello, antBlockStop,
				fmt.Sprintf(meteredAntDelta, meteredOutput), antStop)(w, r)
		case strings.HasSuffix(r.URL.Path, "/messages"):
			jsonReply(200, fmt.Sprintf(meteredAntBody, meteredInput, meteredOutput))(w, r)
		case stream && gjson.GetBytes(body, "stream_options.include_usage").Bool():
			sseChunks(oaRole, oaHello, oaStop, fmt.Sprintf(meteredOAUsage, meteredInput, meteredOutput), oaDone)(w, r)
		case stream:
			sseChunks(oaRole, oaHello, oaStop, oaDone)(w, r)
		default:
			jsonReply(200, fmt.Sprintf(meteredOABody, meteredInput, meteredOutput))(w, r)
		}
	})
}

// The answers' shapes are those of testdata/fixtures (openai-chat-response.json,
// openai-chat-stream-usage.sse, anthropic-messages-*).
const (
	meteredOABody   = `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Hello"},"finish_reason":"stop"}],"usage":{"prompt_tokens":%d,"completion_tokens":%d}}`
	meteredOAUsage  = `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":%d,"completion_tokens":%d}}` + "\n\n"
	meteredAntBody  = `{"id":"msg_1","type":"message","role":"assistant","model":"claude-x","content":[{"type":"text","text":"Hello"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":%d,"output_tokens":%d}}`
	meteredAntStart = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"claude-x\",\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":%d,\"output_tokens\":1}}}\n\n"
	meteredAntDelta = "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":%d}}\n\n"
)

// limitedConfig is a router whose key team-a has the limits given (YAML flow
// members, such as "rpm: 10"), with gpt-4o on OpenAI and claude-x on Anthropic,
// counting in store with the policy given.
func limitedConfig(keyLimits, store, policy string) string {
	return `
server:
  api_keys:
    - name: team-a
      key: ` + teamAKey + `
      ` + keyLimits + `
    - ` + plainKey + `
limits:
  store: ` + store + `
  on_store_error: ` + policy + `
defaults:
  retry: {attempts: 1}
models:
  - name: gpt-4o
    provider: openai
    endpoint: {{UP}}/v1
    api_key: sk-model-key-0123456789abcdef
  - name: claude-x
    provider: anthropic
    endpoint: {{UP}}
    api_key: ant-model-key-0123456789abcdef
`
}

const teamAKey = "team-a-key-0123456789abcdef"

// chatRequest and messagesRequest are small requests (an estimate of a few
// dozen tokens) asking for 16 output tokens.
const (
	chatRequest     = `{"model":"%s","max_tokens":16,"stream":%v,"messages":[{"role":"user","content":"hi"}]}`
	messagesRequest = `{"model":"%s","max_tokens":16,"stream":%v,"messages":[{"role":"user","content":"hi"}]}`
)

// sendAs posts one request with key, on the OpenAI Chat or the Anthropic Messages
// endpoint, and returns the status, headers and body.
func sendAs(t *testing.T, base, key string, anthropic bool, model string, stream bool) (*http.Response, []byte) {
	t.Helper()
	path, body := "/v1/chat/completions", fmt.Sprintf(chatRequest, model, stream)
	hdr := map[string]string{"Authorization": "Bearer " + key}
	if anthropic {
		path, body = "/v1/messages", fmt.Sprintf(messagesRequest, model, stream)
		hdr = map[string]string{"X-Api-Key": key, "Anthropic-Version": "2023-06-01"}
	}
	if stream && !anthropic {
		body = strings.Replace(body, `"stream":true`, `"stream":true,"stream_options":{"include_usage":true}`, 1)
	}
	return post(t, base+path, body, hdr)
}

// withClock is the option giving a router the test's clock.
func withClock(c *manualClock) gateway.Option { return gateway.WithLimitClock(c.Now) }
