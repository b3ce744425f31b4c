package gateway_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2"
	aoption "github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

const (
	plainKey  = "plain-key-0123456789abcdef"
	searchKey = "search-key-0123456789abcdef"
	opsKey    = "ops-key-0123456789abcdef"
)

// keysConfig has a plain key, a key restricted to gpt-4o and the claude-* models,
// and a named key that may use every model.
const keysConfig = `
server:
  api_keys:
    - ` + plainKey + `
    - name: team-search
      key: ` + searchKey + `
      models: [gpt-4o, "claude-*"]
    - name: ops
      key: ` + opsKey + `
defaults:
  retry: {attempts: 1}
models:
  - name: gpt-4o
    provider: openai
    endpoint: {{UP}}/v1
    api_key: sk-model-key-0123456789abcdef
  - name: gpt-4o-mini
    provider: openai
    endpoint: {{UP}}/v1
    api_key: sk-model-key-0123456789abcdef
  - name: claude-x
    provider: anthropic
    endpoint: {{UP}}
    api_key: ant-model-key-0123456789abcdef
  - name: "claude-*"
    provider: anthropic
    endpoint: {{UP}}
    api_key: ant-model-key-0123456789abcdef
`

// keysUpstream answers OpenAI chat and Anthropic messages requests.
func keysUpstream(t *testing.T) *upstream {
	oa := fixture(t, "fixtures/openai-chat-response.json")
	ant := fixture(t, "fixtures/anthropic-messages-response.json")
	return newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/messages") {
			replay(200, "application/json", ant)(w, r)
			return
		}
		replay(200, "application/json", oa)(w, r)
	})
}

func chatWith(key, base string) *openai.Client {
	c := openai.NewClient(option.WithBaseURL(base+"/v1"), option.WithAPIKey(key), option.WithMaxRetries(0))
	return &c
}

func messagesWith(key, base string) *anthropic.Client {
	c := anthropic.NewClient(aoption.WithBaseURL(base), aoption.WithAPIKey(key), aoption.WithMaxRetries(0))
	return &c
}

// A key with a models list reaches those models (names and globs) and no other:
// a model it may not use is answered exactly as a model the router does not
// serve (404, same body), so a key learns nothing of what it is not given, and
// the upstream hears nothing of it. A wrong key is a 401. Plain and unrestricted
// keys reach every model.
func TestKeyModelsAllowList(t *testing.T) {
	up := keysUpstream(t)
	rt := newRouter(t, keysConfig, up.URL)
	ctx := context.Background()
	chat := func(key, model string) error {
		_, err := chatWith(key, rt.URL).Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
			Model: model, Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")},
		})
		return err
	}
	messages := func(key, model string) error {
		_, err := messagesWith(key, rt.URL).Messages.New(ctx, anthropic.MessageNewParams{
			Model: anthropic.Model(model), MaxTokens: 16,
			Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hi"))},
		})
		return err
	}
	for _, c := range []struct {
		key, model string
		ok         bool
	}{
		{searchKey, "gpt-4o", true},
		{searchKey, "claude-x", true},
		{searchKey, "claude-opus-9", true}, // through the glob group
		{searchKey, "gpt-4o-mini", false},
		{opsKey, "gpt-4o-mini", true},
		{plainKey, "gpt-4o-mini", true},
		{plainKey, "claude-opus-9", true},
	} {
		before := len(up.requests())
		for name, send := range map[string]func(string, string) error{"chat": chat, "messages": messages} {
			err := send(c.key, c.model)
			if c.ok {
				if err != nil {
					t.Errorf("%s %s with %s: %v", name, c.model, c.key[:6], err)
				}
				continue
			}
			var oe *openai.Error
			var ae *anthropic.Error
			switch {
			case errors.As(err, &oe) && oe.StatusCode == 404 && oe.Code == "model_not_found":
			case errors.As(err, &ae) && ae.StatusCode == 404 && ae.Type() == "not_found_error":
			default:
				t.Errorf("%s %s with %s: want the unknown model's 404, got %v", name, c.model, c.key[:6], err)
			}
		}
		if got := len(up.requests()) - before; c.ok != (got == 2) {
			t.Errorf("%s with %s: upstream received %d requests", c.model, c.key[:6], got)
		}
	}

	// The refusal is byte for byte the answer to a model that does not exist.
	for _, ep := range []struct{ path, body string }{
		{"/v1/chat/completions", `{"model":"%s","messages":[{"role":"user","content":"hi"}]}`},
		{"/v1/messages", `{"model":"%s","max_tokens":8,"messages":[{"role":"user","content":"hi"}]}`},
	} {
		hdr := map[string]string{"Authorization": "Bearer " + searchKey, "Anthropic-Version": "2023-06-01"}
		forbidden, fb := post(t, rt.URL+ep.path, strings.Replace(ep.body, "%s", "gpt-4o-mini", 1), hdr)
		unknown, ub := post(t, rt.URL+ep.path, strings.Replace(ep.body, "%s", "gpt-4o-nano", 1), hdr)
		if forbidden.StatusCode != 404 || unknown.StatusCode != 404 || string(fb) != strings.ReplaceAll(string(ub), "gpt-4o-nano", "gpt-4o-mini") {
			t.Errorf("%s: forbidden %d %s, unknown %d %s", ep.path, forbidden.StatusCode, fb, unknown.StatusCode, ub)
		}
		resp, b := post(t, rt.URL+ep.path, strings.Replace(ep.body, "%s", "gpt-4o", 1), map[string]string{"Authorization": "Bearer wrong-key-0123456789"})
		if resp.StatusCode != 401 {
			t.Errorf("%s with a wrong key: %d %s", ep.path, resp.StatusCode, b)
		}
	}
}

// GET /v1/models lists what the request's key may use, and everything for a
// plain key.
func TestModelListFollowsTheKey(t *testing.T) {
	rt := newRouter(t, keysConfig, keysUpstream(t).URL)
	for key, want := range map[string][]string{
		searchKey: {"gpt-4o", "claude-x"},
		opsKey:    {"gpt-4o", "gpt-4o-mini", "claude-x"},
		plainKey:  {"gpt-4o", "gpt-4o-mini", "claude-x"},
	} {
		page, err := chatWith(key, rt.URL).Models.List(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range page.Data {
			got = append(got, m.ID)
		}
		if !slices.Equal(got, want) {
			t.Errorf("key %s lists %v, want %v", key[:6], got, want)
		}
	}
}

// The access log names the key a request authenticated with (never the key
// itself); a plain key is not named.
func TestAccessLogNamesTheKey(t *testing.T) {
	rt := newRouter(t, keysConfig, keysUpstream(t).URL)
	o := observe(t, rt)
	body := `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`
	for _, key := range []string{searchKey, opsKey, plainKey} {
		post(t, o.URL+"/v1/chat/completions", body, map[string]string{"Authorization": "Bearer " + key})
		o.waitServed(t)
	}
	post(t, o.URL+"/v1/chat/completions", strings.Replace(body, "gpt-4o", "gpt-4o-mini", 1), map[string]string{"Authorization": "Bearer " + searchKey})
	o.waitServed(t)
	lines := accessLines(t, rt.log.String())
	if len(lines) != 4 {
		t.Fatalf("%d access lines:\n%s", len(lines), rt.log)
	}
	for i, want := range []string{"team-search", "ops", "", "team-search"} {
		if k := lines[i].Get("key"); k.String() != want || (want == "") == k.Exists() {
			t.Errorf("line %d: key %s, want %q", i, k.Raw, want)
		}
	}
	if e := lines[3].Get("error").String(); lines[3].Get("status").Int() != 404 || !strings.Contains(e, "may not use this model") {
		t.Errorf("refused request's line: status %d error %q", lines[3].Get("status").Int(), e)
	}
	for _, key := range []string{plainKey, searchKey, opsKey} {
		if strings.Contains(rt.log.String(), key[:12]) {
			t.Errorf("log holds key %s", key[:12])
		}
	}
}
