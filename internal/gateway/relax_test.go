package gateway_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2"
	aoption "github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/tidwall/gjson"

	"github.com/llmrouter/llmrouter/internal/gateway"
)

// thinkingOllama is a native Ollama server that validates think as Ollama 0.17.4
// does (the captures of ollama-real): a model without the thinking capability
// refuses any truthy think (`"tiny" does not support thinking`,
// api_chat_think_unsupported), and a thinking model that is not gpt-oss refuses a
// level (`think value "high" is not supported for this model`, the message of
// v1_chat_reasoning_stream, in the native envelope). "gpt-oss-mini" is named like
// gpt-oss, so the router sends it levels, but takes none: a fine-tune, say.
// Any request it accepts gets the captured answer.
func thinkingOllama(t *testing.T) *upstream {
	t.Helper()
	levelMsg := gjson.GetBytes(fixture(t, "ollama-real/v1_chat_reasoning_stream.body"), "error.message").Str
	if levelMsg != `think value "high" is not supported for this model` {
		t.Fatalf("captured level refusal is %q", levelMsg)
	}
	unsupported := fixture(t, "ollama-real/api_chat_think_unsupported.body")
	whole, stream := fixture(t, "ollama-real/api_chat_nostream.body"), fixture(t, "ollama-real/api_chat_stream.body")
	thinks := map[string]bool{"tiny": false, "tiny-think": true, "gpt-oss-mini": true}
	return newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		var body bytes.Buffer
		_, _ = body.ReadFrom(r.Body)
		req := gjson.ParseBytes(body.Bytes())
		model, think := req.Get("model").Str, req.Get("think")
		canThink, known := thinks[model]
		var refusal []byte
		switch {
		case !known:
			replay(404, "application/json; charset=utf-8", []byte(fmt.Sprintf(`{"error":"model '%s' not found"}`, model)))(w, r)
			return
		case !canThink && (think.Type == gjson.True || think.Type == gjson.String):
			refusal = unsupported // "tiny", the one model that cannot think
		case think.Type == gjson.String:
			refusal = []byte(`{"error":` + strconv.Quote(fmt.Sprintf("think value %q is not supported for this model", think.Str)) + `}`)
		}
		switch {
		case refusal != nil:
			replay(400, "application/json; charset=utf-8", refusal)(w, r)
		case req.Get("stream").Bool():
			replay(200, "application/x-ndjson", stream)(w, r)
		default:
			replay(200, "application/json; charset=utf-8", whole)(w, r)
		}
	})
}

const thinkingOllamaConfig = `
models:
  - name: "*"
    provider: ollama
    endpoint: {{UP}}
  - name: strict-tiny
    upstream_model: tiny
    provider: ollama
    endpoint: {{UP}}
    strict_translation: true
`

// thinkValues lists the think member of every request the upstream received
// from index from on: its raw JSON, "" when absent.
func thinkValues(up *upstream, from int) []string {
	var out []string
	for _, r := range up.requests()[from:] {
		out = append(out, gjson.GetBytes(r.Body, "think").Raw)
	}
	return out
}

// Claude Code asks for thinking on every turn. Through the router, Ollama refuses
// think for a model that cannot think and a level for a model that takes none;
// the router relaxes think as Ollama's own Anthropic endpoint does: the refused
// request is sent again at once, relaxed, as part of the same attempt, and what
// was given up is listed in X-Llmrouter-Dropped. The next request for the model
// goes relaxed from the start.
func TestOllamaThinkRefusalsAreRelaxed(t *testing.T) {
	for _, tc := range []struct {
		model    string
		thinking anthropic.ThinkingConfigParamUnion
		effort   anthropic.OutputConfigEffort
		first    []string // think of each request of the first call
		then     string   // think of the next call's one request
		dropped  string
	}{
		{"tiny", anthropic.ThinkingConfigParamOfEnabled(1024), "", []string{"true", ""}, "", "thinking"},
		{"tiny", anthropic.ThinkingConfigParamUnion{OfAdaptive: &anthropic.ThinkingConfigAdaptiveParam{}}, "high",
			[]string{"true", ""}, "", "thinking"},
		{"gpt-oss-mini", anthropic.ThinkingConfigParamUnion{OfAdaptive: &anthropic.ThinkingConfigAdaptiveParam{}}, "high",
			[]string{`"high"`, "true"}, "true", "output_config.effort"},
		{"tiny-think", anthropic.ThinkingConfigParamOfEnabled(1024), "", []string{"true"}, "true", ""},
	} {
		for _, stream := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/effort=%s/stream=%v", tc.model, tc.effort, stream), func(t *testing.T) {
				up := thinkingOllama(t)
				rt := newRouter(t, thinkingOllamaConfig, up.URL)
				client := anthropic.NewClient(aoption.WithBaseURL(rt.URL), aoption.WithAPIKey("k"), aoption.WithMaxRetries(0))
				params := anthropic.MessageNewParams{
					Model: anthropic.Model(tc.model), MaxTokens: 2048, Thinking: tc.thinking,
					Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Hi"))},
				}
				if tc.effort != "" {
					params.OutputConfig = anthropic.OutputConfigParam{Effort: tc.effort}
				}
				for call, want := range [][]string{tc.first, {tc.then}} {
					from := len(up.requests())
					text, header := thinkCall(t, client, params, stream)
					if text != "Hello! I am a tiny test model." {
						t.Errorf("call %d: text %q, want the captured answer", call, text)
					}
					if got := thinkValues(up, from); !slices.Equal(got, want) {
						t.Errorf("call %d: think of the upstream requests = %q, want %q", call, got, want)
					}
					if got := header.Get("X-Llmrouter-Attempts"); got != "1" {
						t.Errorf("call %d: X-Llmrouter-Attempts %q: a relaxed resend is not another attempt", call, got)
					}
					dropped := strings.Split(header.Get("X-Llmrouter-Dropped"), ",")
					if tc.dropped != "" && !slices.Contains(dropped, tc.dropped) {
						t.Errorf("call %d: X-Llmrouter-Dropped %q does not list %s", call, dropped, tc.dropped)
					}
				}
			})
		}
	}
}

// thinkCall makes one Messages call and returns its text and response headers.
func thinkCall(t *testing.T, client anthropic.Client, params anthropic.MessageNewParams, stream bool) (string, http.Header) {
	t.Helper()
	var resp *http.Response
	if !stream {
		msg, err := client.Messages.New(context.Background(), params, aoption.WithResponseInto(&resp))
		if err != nil {
			t.Fatal(err)
		}
		var text strings.Builder
		for _, b := range msg.Content {
			text.WriteString(b.Text)
		}
		return text.String(), resp.Header
	}
	s := client.Messages.NewStreaming(context.Background(), params, aoption.WithResponseInto(&resp))
	var msg anthropic.Message
	for s.Next() {
		if err := msg.Accumulate(s.Current()); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	for _, b := range msg.Content {
		text.WriteString(b.Text)
	}
	return text.String(), resp.Header
}

// Only think refusals are relaxed: any other error reaches the client after one
// request, and so does a think refusal for a strict_translation model.
func TestOtherRefusalsAreNotRelaxed(t *testing.T) {
	for _, tc := range []struct{ model, message string }{
		{"missing", "model 'missing' not found"},
		{"strict-tiny", `"tiny" does not support thinking`},
	} {
		t.Run(tc.model, func(t *testing.T) {
			up := thinkingOllama(t)
			rt := newRouter(t, thinkingOllamaConfig, up.URL)
			client := anthropic.NewClient(aoption.WithBaseURL(rt.URL), aoption.WithAPIKey("k"), aoption.WithMaxRetries(0))
			_, err := client.Messages.New(context.Background(), anthropic.MessageNewParams{
				Model: anthropic.Model(tc.model), MaxTokens: 2048,
				Thinking: anthropic.ThinkingConfigParamUnion{OfAdaptive: &anthropic.ThinkingConfigAdaptiveParam{}},
				Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Hi"))},
			})
			var apiErr *anthropic.Error
			if !errors.As(err, &apiErr) || gjson.Get(apiErr.RawJSON(), "error.message").Str != tc.message {
				t.Fatalf("err = %v, want the upstream's %q", err, tc.message)
			}
			if n := len(up.requests()); n != 1 {
				t.Errorf("upstream received %d requests, want 1", n)
			}
		})
	}
}

// What the models refused stays known across a reload (WithPrevious): the
// reloaded gateway sends "tiny" no think from its first request, where a fresh
// one is refused once more.
func TestReloadKeepsWhatModelsRefused(t *testing.T) {
	up := thinkingOllama(t)
	params := anthropic.MessageNewParams{
		Model: "tiny", MaxTokens: 2048, Thinking: anthropic.ThinkingConfigParamOfEnabled(1024),
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Hi"))},
	}
	call := func(rt *router) []string {
		t.Helper()
		from := len(up.requests())
		client := anthropic.NewClient(aoption.WithBaseURL(rt.URL), aoption.WithAPIKey("k"), aoption.WithMaxRetries(0))
		if text, _ := thinkCall(t, client, params, false); text != "Hello! I am a tiny test model." {
			t.Errorf("text %q, want the captured answer", text)
		}
		return thinkValues(up, from)
	}
	old := newRouter(t, thinkingOllamaConfig, up.URL)
	if got := call(old); !slices.Equal(got, []string{"true", ""}) {
		t.Fatalf("first gateway: think of the upstream requests = %q, want refused then relaxed", got)
	}
	if got := call(newRouter(t, thinkingOllamaConfig, up.URL, gateway.WithPrevious(old.gw))); !slices.Equal(got, []string{""}) {
		t.Errorf("reloaded gateway: think of the upstream requests = %q, want one relaxed request", got)
	}
	if got := call(newRouter(t, thinkingOllamaConfig, up.URL)); !slices.Equal(got, []string{"true", ""}) {
		t.Errorf("fresh gateway: think of the upstream requests = %q, want refused then relaxed", got)
	}
}
