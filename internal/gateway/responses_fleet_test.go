package gateway_test

// A Responses request goes through router keys, deployments and fallback chains
// like a request of the other APIs (issues 11 and 13): a key refused a model gets
// the unknown model's 404 in OpenAI's envelope, a deployment that is down is
// routed around within the request, a failing model falls back to another
// (translated when its provider differs), and a call on a stored response never
// falls back, since the response lives at the upstream that stored it.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"
	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"
)

// respFleetUpstream answers every deployment's Responses requests with the
// recorded text response (its stream when asked), Anthropic messages with the
// recorded text answer, and stored-response retrievals with the recorded
// response; deployments listed in down answer everything with a 503.
func respFleetUpstream(t *testing.T, down ...string) *upstream {
	text := fixture(t, "responses/openai-responses-response-text.json")
	stream := fixture(t, "responses/openai-responses-stream-text.sse")
	antText := fixture(t, "fixtures/anthropic-messages-response.json")
	antStream := fixture(t, "fixtures/anthropic-messages-stream-text.sse")
	return newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		id, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		for _, d := range down {
			if id == d {
				jsonReply(503, oaOverloaded503)(w, r)
				return
			}
		}
		streaming := gjson.GetBytes(mustRead(r), "stream").Bool()
		switch {
		case strings.HasSuffix(r.URL.Path, "/messages") && streaming:
			replaySSE(antStream)(w, r)
		case strings.HasSuffix(r.URL.Path, "/messages"):
			replay(200, "application/json", antText)(w, r)
		case streaming:
			replaySSE(stream)(w, r)
		default:
			replay(200, "application/json", text)(w, r)
		}
	})
}

// respKeysConfig: searchKey may use gpt-4o and the claude-* models, not
// gpt-4o-mini; every model has its own deployment path.
const respKeysConfig = `
server:
  api_keys:
    - name: team-search
      key: ` + searchKey + `
      models: [gpt-4o, "claude-*"]
    - name: ops
      key: ` + opsKey + `
defaults:
  retry: {attempts: 1}
models:
  - {name: gpt-4o, provider: openai, endpoint: "{{UP}}/a/v1", api_key: sk-model-key-0123456789abcdef}
  - {name: gpt-4o-mini, provider: openai, endpoint: "{{UP}}/b/v1", api_key: sk-model-key-0123456789abcdef}
  - {name: claude-x, provider: anthropic, endpoint: "{{UP}}/c", api_key: ant-model-key-0123456789abcdef}
`

func respClientWith(key, base string) *openai.Client {
	c := openai.NewClient(option.WithBaseURL(base+"/v1"), option.WithAPIKey(key), option.WithMaxRetries(0))
	return &c
}

func respText(model string) responses.ResponseNewParams {
	return responses.ResponseNewParams{Model: model, Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("Say hi in Portuguese")}}
}

// respSend sends a Responses request with the key, streaming or not, and returns
// the text of the answer.
func respSend(client *openai.Client, model string, stream bool, opts ...option.RequestOption) (string, error) {
	ctx := context.Background()
	if !stream {
		r, err := client.Responses.New(ctx, respText(model), opts...)
		if err != nil {
			return "", err
		}
		return r.OutputText(), nil
	}
	s := client.Responses.NewStreaming(ctx, respText(model), opts...)
	defer s.Close()
	var text string
	for s.Next() {
		if ev := s.Current(); ev.Type == "response.completed" {
			text = ev.Response.OutputText()
		}
	}
	return text, s.Err()
}

// A key with a models list reaches those models over the Responses API, passed
// through or translated, and no other: a model it may not use is the unknown
// model's 404 (model_not_found, the same body), for POST /v1/responses and for
// a call on a stored response naming the model, and no upstream hears of it.
func TestResponsesKeyModelsAllowList(t *testing.T) {
	up := respFleetUpstream(t)
	rt := newRouter(t, respKeysConfig, up.URL)
	for _, c := range []struct {
		key, model string
		ok         bool
	}{
		{searchKey, "gpt-4o", true},
		{searchKey, "claude-x", true},
		{searchKey, "gpt-4o-mini", false},
		{opsKey, "gpt-4o-mini", true},
	} {
		for _, stream := range []bool{false, true} {
			before := len(up.requests())
			text, err := respSend(respClientWith(c.key, rt.URL), c.model, stream)
			var oe *openai.Error
			switch {
			case c.ok && (err != nil || text == ""):
				t.Errorf("%s with %s (stream %v): text %q, error %v", c.model, c.key[:6], stream, text, err)
			case !c.ok && !(errors.As(err, &oe) && oe.StatusCode == 404 && oe.Code == "model_not_found"):
				t.Errorf("%s with %s (stream %v): want the unknown model's 404, got %v", c.model, c.key[:6], stream, err)
			}
			if got := len(up.requests()) - before; c.ok != (got == 1) {
				t.Errorf("%s with %s (stream %v): upstream received %d requests", c.model, c.key[:6], stream, got)
			}
		}
	}

	hdr := map[string]string{"Authorization": "Bearer " + searchKey}
	body := `{"model":"%s","input":"hi"}`
	forbidden, fb := post(t, rt.URL+"/v1/responses", strings.Replace(body, "%s", "gpt-4o-mini", 1), hdr)
	unknown, ub := post(t, rt.URL+"/v1/responses", strings.Replace(body, "%s", "gpt-4o-nano", 1), hdr)
	if forbidden.StatusCode != 404 || unknown.StatusCode != 404 || string(fb) != strings.ReplaceAll(string(ub), "gpt-4o-nano", "gpt-4o-mini") {
		t.Errorf("forbidden %d %s, unknown %d %s", forbidden.StatusCode, fb, unknown.StatusCode, ub)
	}

	before := len(up.requests())
	client := respClientWith(searchKey, rt.URL)
	_, err := client.Responses.Get(context.Background(), storedID, responses.ResponseGetParams{}, option.WithHeader("X-Llmrouter-Model", "gpt-4o-mini"))
	var oe *openai.Error
	if !errors.As(err, &oe) || oe.StatusCode != 404 || oe.Code != "model_not_found" {
		t.Errorf("stored response of a forbidden model: want the unknown model's 404, got %v", err)
	}
	if n := len(up.requests()) - before; n != 0 {
		t.Errorf("a refused stored call reached the upstream %d times", n)
	}
	if _, err := client.Responses.Get(context.Background(), storedID, responses.ResponseGetParams{}, option.WithHeader("X-Llmrouter-Model", "gpt-4o")); err != nil {
		t.Errorf("stored response of an allowed model: %v", err)
	}
	checkStoredPath(t, up, "/a/v1/responses/"+storedID)
}

// respFleetConfig: gpt-4o on "down" (tried first) and "up"; gpt-solo on one
// deployment with a fallback to claude-x (Anthropic: translated).
const respFleetConfig = `
routing:
  health: {failures: 1, cooldown: 1h}
  fallbacks: {gpt-solo: [claude-x]}
defaults:
  retry: {attempts: 1}
models:
  - {name: gpt-4o, id: down, provider: openai, endpoint: "{{UP}}/down/v1", priority: 0}
  - {name: gpt-4o, id: up, provider: openai, endpoint: "{{UP}}/up/v1", priority: 1}
  - {name: gpt-solo, provider: openai, endpoint: "{{UP}}/solo/v1"}
  - {name: claude-x, provider: anthropic, endpoint: "{{UP}}/claude"}
`

// A Responses request whose first deployment answers 503 is answered by the
// model's other deployment within the request (passed through), and one whose
// only deployment answers 503 by its fallback model on Anthropic (translated to
// the Responses API), streaming or not: the client sees one clean answer, the
// headers and the access log say where it came from.
func TestResponsesFallsBackAcrossDeployments(t *testing.T) {
	cases := []struct {
		name, model, deployment, fallback string
		text                              [2]string // the answer's text, not streamed and streamed
		contacted                         map[string]int
	}{
		{"another deployment", "gpt-4o", "up", "", [2]string{"Olá!", "Olá!"}, map[string]int{"down": 1, "up": 1}},
		{"a fallback model", "gpt-solo", "claude-x#1", "retryable", [2]string{`Olá! 

(That's "hello" in Portuguese. You could also say "Oi!" for a more casual "hi!")`, "Hello there!"}, map[string]int{"solo": 1, "claude": 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			respModes(t, func(t *testing.T, stream bool) {
				up := respFleetUpstream(t, "down", "solo")
				rt := newRouter(t, respFleetConfig, up.URL)
				o := observe(t, rt)
				var resp *http.Response
				text, err := respSend(respClientWith("sk-client-0123456789abcdef", o.URL), c.model, stream, option.WithResponseInto(&resp))
				o.waitServed(t)
				if want := c.text[map[bool]int{false: 0, true: 1}[stream]]; err != nil || text != want {
					t.Fatalf("text %q, error %v; want %q", text, err, want)
				}
				if h := resp.Header; h.Get("X-Llmrouter-Deployment") != c.deployment || h.Get("X-Llmrouter-Attempts") != "2" || h.Get("X-Llmrouter-Fallback") != c.fallback {
					t.Errorf("headers: deployment %q, attempts %q, fallback %q", h.Get("X-Llmrouter-Deployment"), h.Get("X-Llmrouter-Attempts"), h.Get("X-Llmrouter-Fallback"))
				}
				if got := up.count(); len(got) != len(c.contacted) || got["down"] != c.contacted["down"] || got["up"] != c.contacted["up"] ||
					got["solo"] != c.contacted["solo"] || got["claude"] != c.contacted["claude"] {
					t.Errorf("upstreams contacted %v, want %v", got, c.contacted)
				}
				line := accessLines(t, rt.log.String())[0]
				if tr := tries(line); len(tr) != 2 || !strings.HasSuffix(tr[0], ":server_error") || line.Get("deployment").String() != c.deployment ||
					line.Get("path").String() != "/v1/responses" || line.Get("output_tokens").Int() == 0 {
					t.Errorf("access log: %s", line.Raw)
				}
			})
		})
	}
}

// A call on a stored response is not moved to a fallback model: the response
// lives at the upstream that stored it, so that upstream's failure is the answer.
func TestStoredResponseCallsDoNotFallBack(t *testing.T) {
	cfg := strings.Replace(respFleetConfig, "fallbacks: {gpt-solo: [claude-x]}", "fallbacks: {gpt-solo: [gpt-4o]}", 1)
	up := respFleetUpstream(t, "solo")
	rt := newRouter(t, cfg, up.URL)
	_, err := respClientWith("sk-client-0123456789abcdef", rt.URL).Responses.Get(context.Background(), storedID,
		responses.ResponseGetParams{}, option.WithHeader("X-Llmrouter-Model", "gpt-solo"))
	var oe *openai.Error
	if !errors.As(err, &oe) || oe.StatusCode != 503 {
		t.Fatalf("want the stored call's upstream 503, got %v", err)
	}
	if got := up.count(); len(got) != 1 || got["solo"] != 1 {
		t.Errorf("upstreams contacted %v, want solo only", got)
	}
	// A new response on the same model does fall back.
	if text, err := respSend(respClientWith("sk-client-0123456789abcdef", rt.URL), "gpt-solo", false); err != nil || text != "Olá!" {
		t.Errorf("a new response: %q, %v", text, err)
	}
}

// responsesMetered answers Responses requests with the recorded text response
// (or its stream) and Anthropic messages with the metered ones, every answer
// reporting meteredInput and meteredOutput tokens.
func responsesMetered(t *testing.T) *upstream {
	usage := func(b []byte) []byte {
		s := strings.ReplaceAll(string(b), `"input_tokens":20,`, fmt.Sprintf(`"input_tokens":%d,`, meteredInput))
		s = strings.ReplaceAll(s, `"output_tokens":3,`, fmt.Sprintf(`"output_tokens":%d,`, meteredOutput))
		return []byte(strings.ReplaceAll(s, `"total_tokens":23`, fmt.Sprintf(`"total_tokens":%d`, meteredInput+meteredOutput)))
	}
	text := fixture(t, "responses/openai-responses-response-text.json")
	for path, v := range map[string]int{"usage.input_tokens": meteredInput, "usage.output_tokens": meteredOutput, "usage.total_tokens": meteredInput + meteredOutput} {
		text, _ = sjson.SetBytes(text, path, v)
	}
	stream := usage(fixture(t, "responses/openai-responses-stream-text.sse"))
	return newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		streaming := gjson.GetBytes(readBody(r), "stream").Bool()
		switch {
		case strings.HasSuffix(r.URL.Path, "/messages") && streaming:
			sseChunks(fmt.Sprintf(meteredAntStart, meteredInput), antBlockStart, antHello, antBlockStop,
				fmt.Sprintf(meteredAntDelta, meteredOutput), antStop)(w, r)
		case strings.HasSuffix(r.URL.Path, "/messages"):
			jsonReply(200, fmt.Sprintf(meteredAntBody, meteredInput, meteredOutput))(w, r)
		case streaming:
			replaySSE(stream)(w, r)
		default:
			replay(200, "application/json", text)(w, r)
		}
	})
}

// A key's tokens per minute are charged what a Responses answer reports,
// passed through or translated, streamed or not: two answers of 1020 tokens
// spend 2040, and the third request is a 429 the Responses client reads
// (type tokens); the access log has the answer's usage.
func TestResponsesTokensSettledFromRealUsage(t *testing.T) {
	for _, model := range []string{"gpt-4o", "claude-x"} {
		t.Run(model, func(t *testing.T) {
			respModes(t, func(t *testing.T, stream bool) {
				rt := newRouter(t, limitedConfig(fmt.Sprintf("tpm: %d", 2*(meteredInput+meteredOutput)), "memory", "fail_open"),
					responsesMetered(t).URL, withClock(newClock(limitStart)))
				o := observe(t, rt)
				client := respClientWith(teamAKey, o.URL)
				ask := func() error {
					_, err := respSend(client, model, stream, option.WithJSONSet("max_output_tokens", 16))
					o.waitServed(t)
					return err
				}
				for i := range 2 {
					if err := ask(); err != nil {
						t.Fatalf("request %d: %v", i+1, err)
					}
				}
				var oe *openai.Error
				if err := ask(); !errors.As(err, &oe) || oe.StatusCode != 429 || oe.Type != "tokens" ||
					oe.Response.Header.Get("X-Ratelimit-Remaining-Tokens") != "0" {
					t.Fatalf("third request: %v, want a 429 of type tokens with nothing remaining; log %s", err, rt.log.String())
				}
				line := accessLines(t, rt.log.String())[0]
				if in, out := line.Get("input_tokens").Int(), line.Get("output_tokens").Int(); in != meteredInput || out != meteredOutput {
					t.Errorf("first request logged %d/%d tokens, want %d/%d", in, out, meteredInput, meteredOutput)
				}
			})
		})
	}
}

// Reading a stored response spends no tokens: its usage was charged when it
// was made. Three reads of a 1020-token response leave a key with 2040 tokens
// per minute its two new responses.
func TestStoredResponseReadsSpendNoTokens(t *testing.T) {
	rt := newRouter(t, limitedConfig(fmt.Sprintf("tpm: %d", 2*(meteredInput+meteredOutput)), "memory", "fail_open"),
		responsesMetered(t).URL, withClock(newClock(limitStart)))
	o := observe(t, rt)
	client := respClientWith(teamAKey, o.URL)
	for i := range 3 {
		r, err := client.Responses.Get(context.Background(), storedID, responses.ResponseGetParams{}, option.WithHeader("X-Llmrouter-Model", "gpt-4o"))
		o.waitServed(t)
		if err != nil || r.Usage.InputTokens != meteredInput {
			t.Fatalf("read %d: %v (usage %+v)", i+1, err, r.Usage)
		}
	}
	for i := range 2 {
		_, err := respSend(client, "gpt-4o", false, option.WithJSONSet("max_output_tokens", 16))
		o.waitServed(t)
		if err != nil {
			t.Fatalf("new response %d after the reads: %v", i+1, err)
		}
	}
}

// A request that continues a stored response (previous_response_id) cannot move
// to a fallback model on a translated route, which is stateless: the failure
// of its own upstream is the answer, and the fallback hears nothing.
func TestContinuedResponseDoesNotFallBackToAStatelessRoute(t *testing.T) {
	up := respFleetUpstream(t, "solo")
	rt := newRouter(t, respFleetConfig, up.URL)
	params := respText("gpt-solo")
	params.PreviousResponseID = openai.String(storedID)
	_, err := respClientWith("sk-client-0123456789abcdef", rt.URL).Responses.New(context.Background(), params)
	var oe *openai.Error
	if !errors.As(err, &oe) || oe.StatusCode != 503 {
		t.Fatalf("want the upstream's 503, got %v", err)
	}
	if got := up.count(); len(got) != 1 || got["solo"] != 1 {
		t.Errorf("upstreams contacted %v, want solo only", got)
	}
}

// A Responses stream that fails in band before any content (the recorded
// insufficient_quota error and response.failed) is not the client's answer when
// another deployment can give one: none of its events reach the client, whose
// stream is the other deployment's from sequence number 0.
func TestResponsesInBandFailureMovesToAnotherDeployment(t *testing.T) {
	up := newUpstream(t, byDeployment(map[string]http.HandlerFunc{
		"down": replaySSE(fixture(t, "responses/openai-responses-stream-error-failed.sse")),
		"up":   replaySSE(fixture(t, "responses/openai-responses-stream-text.sse")),
	}))
	rt := newRouter(t, respFleetConfig, up.URL)
	r, h, err := respAsk(t, rt.URL, respText("gpt-4o"), true)
	if err != nil || r.OutputText() != "Olá!" {
		t.Fatalf("answer %v, error %v", r, err)
	}
	if h.Get("X-Llmrouter-Deployment") != "up" || h.Get("X-Llmrouter-Attempts") != "2" {
		t.Errorf("deployment %q after %q attempts", h.Get("X-Llmrouter-Deployment"), h.Get("X-Llmrouter-Attempts"))
	}
	if got := up.count(); got["down"] != 1 || got["up"] != 1 {
		t.Errorf("upstreams contacted %v", got)
	}
}
