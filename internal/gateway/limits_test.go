package gateway_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/openai/openai-go/v3"
	"github.com/tidwall/gjson"

	"github.com/llmrouter/llmrouter/internal/gateway"
)

// A key over its requests per minute is answered 429 in its client's envelope,
// with Retry-After and the rate-limit headers its SDK reads (OpenAI's
// x-ratelimit-*, Anthropic's anthropic-ratelimit-*), and the upstream hears
// nothing of it; the window refills as time passes. A plain key is not limited.
func TestKeyOverItsRateLimitGets429InItsEnvelope(t *testing.T) {
	clk := newClock(limitStart)
	up := meteredUpstream(t)
	rt := newRouter(t, limitedConfig("rpm: 2", "memory", "fail_open"), up.URL, withClock(clk))
	o := observe(t, rt)
	ctx := context.Background()
	chat := func() error {
		_, err := chatWith(teamAKey, o.URL).Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
			Model: "gpt-4o", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")},
		})
		o.waitServed(t)
		return err
	}
	for i := range 2 {
		if err := chat(); err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
	}
	var oe *openai.Error
	if err := chat(); !errors.As(err, &oe) || oe.StatusCode != 429 {
		t.Fatalf("third request: %v, want a 429", err)
	}
	h := oe.Response.Header
	if oe.Type != "requests" || oe.Code != "rate_limit_exceeded" || !strings.Contains(oe.Message, "key team-a: 2 requests per minute") {
		t.Errorf("OpenAI error: type %q code %q message %q", oe.Type, oe.Code, oe.Message)
	}
	for name, want := range map[string]string{"Retry-After": "30", "X-Ratelimit-Limit-Requests": "2",
		"X-Ratelimit-Remaining-Requests": "0", "X-Ratelimit-Reset-Requests": "1m0s"} {
		if got := h.Get(name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}

	_, err := messagesWith(teamAKey, o.URL).Messages.New(ctx, anthropic.MessageNewParams{
		Model: "claude-x", MaxTokens: 16, Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hi"))},
	})
	o.waitServed(t)
	var ae *anthropic.Error
	if !errors.As(err, &ae) || ae.StatusCode != 429 || ae.Type() != "rate_limit_error" {
		t.Fatalf("Anthropic client over the key's limit: %v", err)
	}
	for name, want := range map[string]string{"Retry-After": "30", "Anthropic-Ratelimit-Requests-Limit": "2",
		"Anthropic-Ratelimit-Requests-Remaining": "0", "Anthropic-Ratelimit-Requests-Reset": "2027-01-01T00:00:00Z"} {
		if got := ae.Response.Header.Get(name); got != want {
			t.Errorf("Anthropic %s: %q, want %q", name, got, want)
		}
	}
	if n := len(up.requests()); n != 2 {
		t.Errorf("upstream received %d requests, want the 2 admitted", n)
	}
	for range 3 {
		if resp, b := sendAs(t, o.URL, plainKey, false, "gpt-4o", false); resp.StatusCode != 200 {
			t.Fatalf("plain key: %d %s", resp.StatusCode, b)
		}
		o.waitServed(t)
	}
	clk.Advance(30 * time.Second)
	if err := chat(); err != nil {
		t.Fatalf("after Retry-After: %v", err)
	}
	lines := accessLines(t, rt.log.String())
	if l := lines[2]; l.Get("status").Int() != 429 || l.Get("key").String() != "team-a" || !strings.Contains(l.Get("error").String(), "limit key:team-a: requests exhausted") {
		t.Errorf("the refusal's access line: %s", l.Raw)
	}
}

// A deployment over its own rpm or tpm is not sent the request: with no other
// deployment to take it, the request is a 429 saying so.
func TestDeploymentOverItsOwnLimit(t *testing.T) {
	clk := newClock(limitStart)
	up := meteredUpstream(t)
	cfg := strings.Replace(limitedConfig("", "memory", "fail_open"), "    provider: openai\n", "    provider: openai\n    rpm: 1\n", 1)
	rt := newRouter(t, cfg, up.URL, withClock(clk))
	if resp, b := sendAs(t, rt.URL, plainKey, false, "gpt-4o", false); resp.StatusCode != 200 {
		t.Fatalf("first: %d %s", resp.StatusCode, b)
	}
	resp, b := sendAs(t, rt.URL, teamAKey, false, "gpt-4o", false)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "60" || !strings.Contains(string(b), `every deployment of model \"gpt-4o\" is at its own rate limit`) {
		t.Errorf("second: %d Retry-After %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), b)
	}
	if resp, b := sendAs(t, rt.URL, plainKey, true, "claude-x", false); resp.StatusCode != 200 {
		t.Errorf("another model: %d %s", resp.StatusCode, b)
	}
	if n := len(up.requests()); n != 2 {
		t.Errorf("upstream received %d requests, want 2", n)
	}
}

// A deployment over its own rpm is skipped by the balancer, not failed: the
// request goes to the model's other deployment (nothing is ejected, the access
// log lists one attempt), and only when both are over their limits is the
// request a 429 with the soonest Retry-After.
func TestDeploymentOverItsLimitIsSkipped(t *testing.T) {
	clk := newClock(limitStart)
	up := newUpstream(t, byDeployment(map[string]http.HandlerFunc{
		"first":  jsonReply(200, okBody),
		"second": jsonReply(200, okBody),
	}))
	rt := newRouter(t, `
routing:
  health: {failures: 1, cooldown: 1h}
defaults:
  retry: {attempts: 1}
models:
  - {name: gpt-4o, id: first, provider: openai, endpoint: "{{UP}}/first/v1", priority: 0, rpm: 1}
  - {name: gpt-4o, id: second, provider: openai, endpoint: "{{UP}}/second/v1", priority: 1, rpm: 1}
`, up.URL, withClock(clk))
	o := observe(t, rt)
	for i, want := range []string{"first", "second"} {
		resp, b := post(t, o.URL+"/v1/chat/completions", chatReq, nil)
		o.waitServed(t)
		if resp.StatusCode != 200 || resp.Header.Get("X-Llmrouter-Deployment") != want || resp.Header.Get("X-Llmrouter-Attempts") != "1" {
			t.Fatalf("request %d: %d from %q after %s attempts: %s", i+1, resp.StatusCode,
				resp.Header.Get("X-Llmrouter-Deployment"), resp.Header.Get("X-Llmrouter-Attempts"), b)
		}
	}
	resp, b := post(t, o.URL+"/v1/chat/completions", chatReq, nil)
	o.waitServed(t)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "60" || !strings.Contains(string(b), "is at its own rate limit") {
		t.Errorf("both over their limits: %d Retry-After %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), b)
	}
	if n := up.count(); n["first"] != 1 || n["second"] != 1 {
		t.Errorf("upstream requests %v, want one each", n)
	}
	clk.Advance(time.Minute)
	resp, b = post(t, o.URL+"/v1/chat/completions", chatReq, nil)
	o.waitServed(t)
	if resp.StatusCode != 200 || resp.Header.Get("X-Llmrouter-Deployment") != "first" {
		t.Errorf("a minute later, the preferred deployment (never ejected) answers: %d from %q %s", resp.StatusCode, resp.Header.Get("X-Llmrouter-Deployment"), b)
	}
}

// Tokens per minute are settled from the usage the answer reports, streamed or
// not, passed through or translated: the upstream reports 1,000 output tokens
// for a request estimated at a few dozen, so a key with 2,000 tokens per minute
// takes two such requests, not the fifty the estimates would allow.
func TestTokensPerMinuteSettledFromRealUsage(t *testing.T) {
	for _, c := range []struct {
		name      string
		anthropic bool // the client's API
		model     string
		stream    bool
	}{
		{"openai passthrough", false, "gpt-4o", false},
		{"openai passthrough stream", false, "gpt-4o", true},
		{"anthropic passthrough", true, "claude-x", false},
		{"anthropic passthrough stream", true, "claude-x", true},
		{"anthropic to openai stream", true, "gpt-4o", true},
		{"openai to anthropic", false, "claude-x", false},
		{"openai to anthropic stream", false, "claude-x", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			rt := newRouter(t, limitedConfig("tpm: 2000", "memory", "fail_open"), meteredUpstream(t).URL, withClock(newClock(limitStart)))
			o := observe(t, rt)
			for i := range 2 {
				if resp, b := sendAs(t, o.URL, teamAKey, c.anthropic, c.model, c.stream); resp.StatusCode != 200 {
					t.Fatalf("request %d: %d %s", i+1, resp.StatusCode, b)
				}
				o.waitServed(t) // settled once the handler returns
			}
			resp, b := sendAs(t, o.URL, teamAKey, c.anthropic, c.model, c.stream)
			o.waitServed(t)
			if resp.StatusCode != 429 || !strings.Contains(string(b), "2000 tokens per minute") {
				t.Fatalf("third request: %d %s", resp.StatusCode, b)
			}
			limitHeader, remaining := "X-Ratelimit-Limit-Tokens", "X-Ratelimit-Remaining-Tokens"
			if c.anthropic {
				limitHeader, remaining = "Anthropic-Ratelimit-Tokens-Limit", "Anthropic-Ratelimit-Tokens-Remaining"
			} else if typ := gjson.GetBytes(b, "error.type").String(); typ != "tokens" {
				t.Errorf("OpenAI error type %q, want tokens", typ)
			}
			// 2 x (20 + 1000) tokens used of 2000: nothing remains.
			if resp.Header.Get(limitHeader) != "2000" || resp.Header.Get(remaining) != "0" {
				t.Errorf("%s %q, %s %q", limitHeader, resp.Header.Get(limitHeader), remaining, resp.Header.Get(remaining))
			}
			lines := accessLines(t, rt.log.String())
			if in, out := lines[0].Get("input_tokens").Int(), lines[0].Get("output_tokens").Int(); in != meteredInput || out != meteredOutput {
				t.Errorf("first request logged %d/%d tokens, want %d/%d", in, out, meteredInput, meteredOutput)
			}
		})
	}
}

// A budget in tokens or in dollars refuses once spent, with OpenAI's
// insufficient_quota type and Retry-After to the end of the period, and is
// whole again when the period turns (UTC midnight; the first of the month).
func TestBudgetRenewsAtThePeriodBoundary(t *testing.T) {
	for _, c := range []struct{ budget, says string }{
		{"budget: {tokens: 2000, period: day}", "2000 tokens per day"},
		{"budget: {cost: 1.5, period: month}", "$1.5 per month"},
	} {
		t.Run(c.says, func(t *testing.T) {
			t.Parallel()
			clk := newClock(limitStart)
			rt := newRouter(t, pricedConfig(limitedConfig(c.budget, "memory", "fail_open")), meteredUpstream(t).URL, withClock(clk))
			o := observe(t, rt)
			for i := range 2 {
				if resp, b := sendAs(t, o.URL, teamAKey, false, "gpt-4o", i == 1); resp.StatusCode != 200 {
					t.Fatalf("request %d: %d %s", i+1, resp.StatusCode, b)
				}
				o.waitServed(t)
			}
			resp, b := sendAs(t, o.URL, teamAKey, false, "gpt-4o", false)
			o.waitServed(t)
			if resp.StatusCode != 429 || gjson.GetBytes(b, "error.type").String() != "insufficient_quota" ||
				!strings.Contains(string(b), c.says) || resp.Header.Get("Retry-After") != "60" {
				t.Fatalf("over the budget: %d Retry-After %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), b)
			}
			clk.Advance(59 * time.Second)
			if resp, _ := sendAs(t, o.URL, teamAKey, false, "gpt-4o", false); resp.StatusCode != 429 {
				t.Fatalf("a second before the period ends: %d", resp.StatusCode)
			}
			o.waitServed(t)
			clk.Advance(time.Second)
			if resp, b := sendAs(t, o.URL, teamAKey, false, "gpt-4o", false); resp.StatusCode != 200 {
				t.Fatalf("in the next period: %d %s", resp.StatusCode, b)
			}
			o.waitServed(t)
		})
	}
}

// pricedConfig prices both models: a dollar per thousand output tokens.
func pricedConfig(cfg string) string {
	return strings.ReplaceAll(cfg, "    provider: ", "    price: {input_per_mtok: 1, output_per_mtok: 1000}\n    provider: ")
}

// A stream the client leaves before its usage is reported is charged the
// estimate for what is unknown (its max_tokens): leaving early never makes a
// request free. A stream that ends normally is charged what it reports.
func TestClientLeavingMidStreamIsChargedTheEstimate(t *testing.T) {
	release := make(chan struct{})
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		if gjson.GetBytes(readBody(r), "max_tokens").Int() == 10 { // the control: ends, reports 10 tokens
			sseChunks(oaRole, oaHello, oaStop, fmt.Sprintf(meteredOAUsage, 5, 10), oaDone)(w, r)
			return
		}
		sseChunks(oaRole, oaHello)(w, r)
		select { // the rest never comes: the client leaves first
		case <-r.Context().Done():
		case <-release:
		}
	})
	t.Cleanup(func() { close(release) })
	rt := newRouter(t, limitedConfig("budget: {tokens: 1000, period: day}", "memory", "fail_open"), up.URL, withClock(newClock(limitStart)))
	o := observe(t, rt)
	const stream = `{"model":"gpt-4o","max_tokens":%d,"stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`
	hdr := map[string]string{"Authorization": "Bearer " + teamAKey}
	for range 3 { // 3 x 15 tokens of 1000
		if resp, b := post(t, o.URL+"/v1/chat/completions", fmt.Sprintf(stream, 10), hdr); resp.StatusCode != 200 {
			t.Fatalf("control: %d %s", resp.StatusCode, b)
		}
		o.waitServed(t)
	}
	req, _ := http.NewRequest(http.MethodPost, o.URL+"/v1/chat/completions", strings.NewReader(fmt.Sprintf(stream, 600)))
	req.Header.Set("Authorization", "Bearer "+teamAKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if line, err := bufio.NewReader(resp.Body).ReadString('\n'); err != nil || !strings.HasPrefix(line, "data: ") {
		t.Fatalf("first event: %q %v", line, err)
	}
	resp.Body.Close() // the client leaves mid-stream
	o.waitServed(t)
	resp2, b := post(t, o.URL+"/v1/chat/completions", fmt.Sprintf(stream, 400), hdr)
	o.waitServed(t)
	if resp2.StatusCode != 429 || !strings.Contains(string(b), "1000 tokens per day") {
		t.Fatalf("after a stream left at 600 max tokens: %d %s, want the budget spent", resp2.StatusCode, b)
	}
	if resp, b := post(t, o.URL+"/v1/chat/completions", fmt.Sprintf(stream, 10), hdr); resp.StatusCode != 200 {
		t.Fatalf("a small request still fits: %d %s", resp.StatusCode, b)
	}
	o.waitServed(t)
}

// A gateway built for a reload (WithPrevious) takes over the in-process counts
// of the one it replaces: reloading the config does not hand every key a fresh
// window or budget.
func TestReloadKeepsInProcessCounts(t *testing.T) {
	clk := newClock(limitStart)
	up := meteredUpstream(t)
	cfg := limitedConfig("rpm: 2\n      budget: {tokens: 100000, period: day}", "memory", "fail_open")
	old := newRouter(t, cfg, up.URL, withClock(clk))
	for range 2 {
		if resp, b := sendAs(t, old.URL, teamAKey, false, "gpt-4o", false); resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, b)
		}
	}
	reloaded := newRouter(t, cfg, up.URL, withClock(clk), gateway.WithPrevious(old.gw))
	if resp, _ := sendAs(t, reloaded.URL, teamAKey, false, "gpt-4o", false); resp.StatusCode != 429 {
		t.Errorf("after the reload: %d, want the window kept (429)", resp.StatusCode)
	}
	if _, got, b := readUsage(t, reloaded.URL, teamAKey, ""); len(got) != 1 || got[0].Tokens != 2*(meteredInput+meteredOutput) {
		t.Errorf("usage after the reload: %s", b)
	}
	fresh := newRouter(t, cfg, up.URL, withClock(clk))
	if resp, _ := sendAs(t, fresh.URL, teamAKey, false, "gpt-4o", false); resp.StatusCode != 200 {
		t.Errorf("a gateway of its own: %d, want a window of its own", resp.StatusCode)
	}
}
