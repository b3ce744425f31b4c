package gateway_test

// Responses routes end to end: the stateless rule of translated routes, what
// Codex CLI sends (its recorded requests) on translated and passthrough routes,
// transforms on Responses bodies, a relayed stream cut short, and every stream
// written one byte at a time.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/responses"
	"github.com/tidwall/gjson"
)

// Translated routes are stateless: previous_response_id (or a conversation)
// there is a 400 in OpenAI's envelope naming the parameter and saying what to
// send instead; on a Responses upstream it passes through.
func TestResponsesStatelessRoutes(t *testing.T) {
	params := responses.ResponseNewParams{Model: confModel, PreviousResponseID: openai.String("resp_0123"),
		Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("And now?")}}
	for _, rt := range respRoutes() {
		t.Run(rt.p.name, func(t *testing.T) {
			fake, r := respServe(t, rt.p, rt.path, rt.p.text(t)[rt.path])
			_, _, err := respAsk(t, r.URL, params, false)
			var e *openai.Error
			if !errors.As(err, &e) || e.StatusCode != http.StatusBadRequest || e.Param != "previous_response_id" ||
				!strings.Contains(e.Message, "stateless") || !strings.Contains(e.Message, "send the whole conversation") {
				t.Fatalf("error %v, want a 400 on previous_response_id saying the route is stateless", err)
			}
			if n := len(fake.requests()); n != 0 {
				t.Errorf("the upstream got %d requests", n)
			}
		})
	}
	t.Run("passthrough", func(t *testing.T) {
		p := confResponsesProvider()
		fake, r := respServe(t, p, responsesPath, confPair{nil, fixture(t, "responses/openai-responses-response-previous-response-id.json")})
		if _, _, err := respAsk(t, r.URL, params, false); err != nil {
			t.Fatal(err)
		}
		if got := gjson.GetBytes(fake.last(t).Body, "previous_response_id").String(); got != "resp_0123" {
			t.Errorf("previous_response_id upstream = %q", got)
		}
	})
}

// Every stream split at every byte: the fake writes the upstream transcript
// one byte at a time, each flushed, and the client reads the same events and
// the same answer as from the transcript written event by event.
func TestResponsesStreamsDribbled(t *testing.T) {
	type route struct {
		name string
		p    *confProvider
		path string
		body func(t *testing.T) []byte
	}
	routes := []route{
		{"passthrough text", confResponsesProvider(), responsesPath, func(t *testing.T) []byte { return confResponsesProvider().text(t)[responsesPath].stream }},
		{"passthrough tools", confResponsesProvider(), responsesPath, func(t *testing.T) []byte { return confResponsesProvider().tools(t).stream }},
	}
	for _, rt := range respRoutes() {
		routes = append(routes, route{rt.p.name + " tools", rt.p, rt.path, func(t *testing.T) []byte { return rt.p.tools(t).stream }},
			route{rt.p.name + " custom", rt.p, rt.path, func(t *testing.T) []byte { return rt.call(t, sqlTool, `{"input":"`+sqlInput+`"}`).stream }})
	}
	params := responses.ResponseNewParams{Model: confModel, Input: responses.ResponseNewParamsInputUnion{OfString: openai.String(confPrompt)},
		Tools: []responses.ToolUnionParam{{OfCustom: &responses.CustomToolParam{Name: sqlTool}}}}
	for _, rt := range routes {
		t.Run(rt.name, func(t *testing.T) {
			body := rt.body(t)
			whole := respStreamSummary(t, rt.p, rt.path, body, false, params)
			split := respStreamSummary(t, rt.p, rt.path, body, true, params)
			if d := cmp.Diff(whole, split); d != "" {
				t.Errorf("dribbled stream read differently (-whole +dribbled):\n%s", d)
			}
		})
	}
}

// respStreamSummary streams params through a router to a fake that writes
// body event by event, or byte by byte, and returns what the client read: the
// event types and the final output, ids and timestamps aside.
func respStreamSummary(t *testing.T, p *confProvider, path string, body []byte, bytewise bool, params responses.ResponseNewParams) []string {
	t.Helper()
	q := *p
	if bytewise {
		q.events = func(b []byte) [][]byte {
			out := make([][]byte, len(b))
			for i := range b {
				out[i] = b[i : i+1]
			}
			return out
		}
	}
	fake := newConfFake(t, &q, map[string]func(bool) confReply{path: func(bool) confReply { return confReply{status: 200, body: body} }})
	r := newRouter(t, q.config, fake.URL)
	s := openAIClient(r.URL).Responses.NewStreaming(context.Background(), params)
	defer s.Close()
	l := newRespLifecycle(t)
	var out []string
	for s.Next() {
		ev := s.Current()
		l.event(ev)
		out = append(out, ev.Type+" "+ev.Delta)
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.result(); err != nil || l.terminal == nil {
		t.Fatalf("stream: %v, terminal %v", err, l.terminal != nil)
	}
	for _, item := range l.terminal.Output {
		out = append(out, fmt.Sprintf("%s %s %s %s %s", item.Type, item.Name, item.Arguments.OfString, item.Input, item.CallID))
	}
	return out
}

// What Codex CLI 0.171 sends (its recorded requests) on every kind of route: a
// passthrough upstream gets the bytes with only the model rewritten; a
// translated one gets what the translator makes of it, with the same fields
// dropped and listed as the translator's goldens record (hosted and namespace
// tools, OpenAI's encrypted reasoning; the cache hints and client_metadata are
// consumed), and a strict_translation model refuses it naming the first.
func TestCodexRequestsOnEveryRoute(t *testing.T) {
	config := storedConfig + `
  - name: claude-strict
    provider: anthropic
    endpoint: {{UP}}
    strict_translation: true
`
	for _, file := range []string{"codex-cli-request.json", "codex-cli-request-turn2.json"} {
		t.Run(file, func(t *testing.T) {
			body := string(fixture(t, "responses/"+file))
			up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == responsesPath {
					replaySSE(fixture(t, "responses/openai-responses-stream-text.sse"))(w, r)
					return
				}
				replaySSE(fixture(t, "fixtures/anthropic-messages-stream-text.sse"))(w, r)
			})
			rt := newRouter(t, config, up.URL)

			resp, _ := post(t, rt.URL+responsesPath, body, nil)
			want := strings.Replace(body, `"model": "gpt-4o"`, `"model": "gpt-4o-2024-08-06"`, 1)
			if got := string(up.last(t).Body); resp.StatusCode != 200 || got != want || want == body {
				t.Errorf("passthrough: status %d, the upstream body differs from the client's with the model renamed", resp.StatusCode)
			}

			resp, out := post(t, rt.URL+responsesPath, strings.Replace(body, `"model": "gpt-4o"`, `"model": "claude"`, 1), nil)
			golden := gjson.GetBytes(fixture(t, "../internal/translate/testdata/responses_anthropic/request/"+file), "dropped")
			var dropped []string
			for _, d := range golden.Array() {
				dropped = append(dropped, d.String())
			}
			if got := resp.Header.Get("X-Llmrouter-Dropped"); resp.StatusCode != 200 || got != strings.Join(dropped, ",") {
				t.Errorf("anthropic route: status %d, X-Llmrouter-Dropped %q, want %q\n%s", resp.StatusCode, got, strings.Join(dropped, ","), out)
			}
			if p := up.last(t).Path; p != "/v1/messages" {
				t.Errorf("anthropic route: upstream path %s", p)
			}

			n := len(up.requests())
			resp, out = post(t, rt.URL+responsesPath, strings.Replace(body, `"model": "gpt-4o"`, `"model": "claude-strict"`, 1), nil)
			if resp.StatusCode != 400 || gjson.GetBytes(out, "error.param").String() != dropped[0] || len(up.requests()) != n {
				t.Errorf("strict route: status %d, %s", resp.StatusCode, out)
			}
		})
	}
}

// Transforms apply to the body the upstream gets, in its protocol: a
// Responses body's instructions and input texts on a passthrough route, the
// Anthropic body's system and messages on a translated one.
func TestResponsesTransforms(t *testing.T) {
	config := strings.ReplaceAll(storedConfig, "    api_key:", `    transforms:
      - {regex: acme, replace: ACME}
    api_key:`)
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == responsesPath {
			replay(200, "application/json", fixture(t, "responses/openai-responses-response-text.json"))(w, r)
			return
		}
		replay(200, "application/json", fixture(t, "fixtures/anthropic-messages-response.json"))(w, r)
	})
	rt := newRouter(t, config, up.URL)
	const body = `{"model":"%s","instructions":"acme rules","input":[{"role":"user","content":[{"type":"input_text","text":"acme?"}]}]}`
	if resp, out := post(t, rt.URL+responsesPath, fmt.Sprintf(body, "gpt-4o"), nil); resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, out)
	}
	got := gjson.GetManyBytes(up.last(t).Body, "instructions", "input.0.content.0.text")
	if got[0].String() != "ACME rules" || got[1].String() != "ACME?" {
		t.Errorf("passthrough upstream body %s", up.last(t).Body)
	}
	if resp, out := post(t, rt.URL+responsesPath, fmt.Sprintf(body, "claude"), nil); resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, out)
	}
	if sent := string(up.last(t).Body); strings.Contains(sent, "acme") || !strings.Contains(sent, "ACME rules") || !strings.Contains(sent, "ACME?") {
		t.Errorf("anthropic upstream body %s", sent)
	}
}

// A stream cut short after its commit point (the upstream's connection ends
// before its terminal event) ends, for a Responses client, with an error event
// and response.failed numbered after the events it got, on a passthrough route
// (continuing the upstream's own numbering, for its response) and a translated
// one alike; the SDK reads both.
func TestResponsesStreamCutShort(t *testing.T) {
	text := confSSEEvents(fixture(t, "responses/openai-responses-stream-text.sse"))
	anth := confSSEEvents(fixture(t, "fixtures/anthropic-messages-stream-text.sse"))
	for _, tt := range []struct {
		model, id string
		events    [][]byte
	}{
		{"gpt-4o", gjson.Get(confLastData(confJoin(text[0])), "response.id").String(), text[:5]},
		{"claude", "", anth[:4]},
	} {
		t.Run(tt.model, func(t *testing.T) {
			up := newUpstream(t, replaySSE(confJoin(tt.events...)))
			rt := newRouter(t, storedConfig, up.URL)
			params := responses.ResponseNewParams{Model: tt.model, Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("hi")}}
			s := openAIClient(rt.URL).Responses.NewStreaming(context.Background(), params)
			defer s.Close()
			l := newRespLifecycle(t)
			var failed responses.ResponseStreamEventUnion
			for s.Next() {
				l.event(s.Current())
				if s.Current().Type == "response.failed" {
					failed = s.Current()
				}
			}
			_, err := l.result()
			if s.Err() != nil || err == nil || !strings.Contains(err.Error(), "truncated") {
				t.Fatalf("SDK error %v, stream failure %v; want an error event saying the stream was truncated", s.Err(), err)
			}
			if failed.Response.Status != "failed" || (tt.id != "" && failed.Response.ID != tt.id) {
				t.Errorf("response.failed %s, want the failed response %s", failed.RawJSON(), tt.id)
			}
		})
	}
}
