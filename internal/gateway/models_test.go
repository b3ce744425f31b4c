package gateway_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2"
	aoption "github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/google/go-cmp/cmp"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/tidwall/sjson"
)

// listingUpstreams are the fakes behind the globs of modelsConfig, each answering
// its protocol's model list with a recorded body (values changed only): a native
// Ollama's /api/tags (ollama-real/api_tags), an OpenAI-compatible /v1/models
// (ollama-real/v1_models), and Anthropic's /v1/models, whose fields are those of
// anthropic-sdk-go's ModelInfo (no recording holds one).
type listingUpstreams struct {
	ollama, openai, anthropic *upstream
}

func newListingUpstreams(t *testing.T) listingUpstreams {
	t.Helper()
	oaiList := fixture(t, "ollama-real/v1_models.body")
	var err error
	for i, id := range []string{"qwen3:0.6b", "tiny:latest"} {
		if oaiList, err = sjson.SetBytes(oaiList, "data."+string(rune('0'+i))+".id", id); err != nil {
			t.Fatal(err)
		}
	}
	antList := []byte(`{"data":[` +
		`{"type":"model","id":"claude-sonnet-4-5","display_name":"Claude Sonnet 4.5","created_at":"2025-09-29T00:00:00Z"},` +
		`{"type":"model","id":"legacy-model","display_name":"Legacy","created_at":"2024-01-01T00:00:00Z"}],` +
		`"has_more":false,"first_id":"claude-sonnet-4-5","last_id":"legacy-model"}`)
	serve := func(path string, body []byte) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodGet || r.URL.Path != path {
				http.NotFound(w, r)
				return
			}
			replay(200, "application/json", body)(w, r)
		}
	}
	return listingUpstreams{
		ollama:    newUpstream(t, serve("/api/tags", fixture(t, "ollama-real/api_tags.body"))),
		openai:    newUpstream(t, serve("/v1/models", oaiList)),
		anthropic: newUpstream(t, serve("/v1/models", antList)),
	}
}

// modelsConfig: an exact name, then globs in file order. "tiny*" routes the tiny
// models, so the catch-all lists only what its upstream serves beyond them;
// "dead-*" points at nothing.
func (u listingUpstreams) config() string {
	return strings.NewReplacer("{{OLL}}", u.ollama.URL, "{{OAI}}", u.openai.URL, "{{ANT}}", u.anthropic.URL).Replace(`
models:
  - name: gpt-4o
    provider: openai
    endpoint: {{OAI}}/v1
    api_key: sk-route-openai
  - name: "tiny*"
    provider: ollama
    endpoint: {{OLL}}
  - name: "claude-*"
    provider: anthropic
    endpoint: {{ANT}}
    api_key: sk-ant-route
  - name: "dead-*"
    provider: openai
    endpoint: http://127.0.0.1:1/v1
  - name: "*"
    provider: openai
    endpoint: {{OAI}}/v1
`)
}

// GET /v1/models lists the exact names, then, for each glob, what its upstreams
// really serve that the glob routes (issue 9 item 11), in either SDK's format:
// each upstream asked in its own protocol with the route's key (the client's
// without one), once per minute, an unreachable one contributing nothing.
func TestModelListShowsWhatGlobUpstreamsServe(t *testing.T) {
	u := newListingUpstreams(t)
	rt := newRouter(t, u.config(), "")
	want := []string{"gpt-4o", "tiny-think:latest", "tiny:latest", "claude-sonnet-4-5", "qwen3:0.6b"}
	wantOwners := []string{"openai", "ollama", "ollama", "anthropic", "openai"}

	oai := openai.NewClient(option.WithBaseURL(rt.URL+"/v1"), option.WithAPIKey("sk-client"), option.WithMaxRetries(0))
	page, err := oai.Models.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var ids, owners []string
	for _, m := range page.Data {
		ids, owners = append(ids, m.ID), append(owners, m.OwnedBy)
	}
	if d := cmp.Diff(want, ids); d != "" {
		t.Errorf("OpenAI list (-want +got):\n%s", d)
	}
	if d := cmp.Diff(wantOwners, owners); d != "" {
		t.Errorf("owners (-want +got):\n%s", d)
	}

	ant := anthropic.NewClient(aoption.WithBaseURL(rt.URL), aoption.WithAPIKey("sk-client"), aoption.WithMaxRetries(0))
	apage, err := ant.Models.List(context.Background(), anthropic.ModelListParams{})
	if err != nil {
		t.Fatal(err)
	}
	ids = nil
	for _, m := range apage.Data {
		ids = append(ids, m.ID)
	}
	if d := cmp.Diff(want, ids); d != "" {
		t.Errorf("Anthropic list (-want +got):\n%s", d)
	}

	for name, c := range map[string]struct {
		up   *upstream
		auth string
		want string
	}{
		"ollama":    {u.ollama, "Authorization", "Bearer sk-client"},
		"anthropic": {u.anthropic, "X-Api-Key", "sk-ant-route"},
		"openai":    {u.openai, "Authorization", "Bearer sk-client"},
	} {
		reqs := c.up.requests()
		if len(reqs) != 1 {
			t.Errorf("%s was asked for its list %d times, want once (cached)", name, len(reqs))
			continue
		}
		if got := reqs[0].Header.Get(c.auth); got != c.want {
			t.Errorf("%s list request: %s %q, want %q", name, c.auth, got, c.want)
		}
	}
	if got := u.anthropic.requests()[0]; got.Query != "limit=1000" || got.Header.Get("Anthropic-Version") == "" {
		t.Errorf("Anthropic list request: query %q, anthropic-version %q", got.Query, got.Header.Get("Anthropic-Version"))
	}
}

// GET /v1/models/{id} (both SDKs' models.retrieve, issue 9 item 10) answers a
// configured name, or a name a glob routes that its upstreams list (Ollama's
// "tiny" is its "tiny:latest"), in the client's format; anything else is a 404
// in the client's envelope.
func TestModelRetrieve(t *testing.T) {
	u := newListingUpstreams(t)
	rt := newRouter(t, u.config(), "")
	oai := openai.NewClient(option.WithBaseURL(rt.URL+"/v1"), option.WithAPIKey("sk-client"), option.WithMaxRetries(0))
	ant := anthropic.NewClient(aoption.WithBaseURL(rt.URL), aoption.WithAPIKey("sk-client"), aoption.WithMaxRetries(0))
	for _, tc := range []struct{ id, owner string }{
		{"gpt-4o", "openai"}, {"tiny:latest", "ollama"}, {"tiny", "ollama"}, {"claude-sonnet-4-5", "anthropic"}, {"qwen3:0.6b", "openai"},
	} {
		m, err := oai.Models.Get(context.Background(), tc.id)
		if err != nil {
			t.Errorf("OpenAI retrieve %s: %v", tc.id, err)
			continue
		}
		if m.ID != tc.id || m.Object != "model" || m.OwnedBy != tc.owner {
			t.Errorf("OpenAI retrieve %s = %s", tc.id, m.RawJSON())
		}
		info, err := ant.Models.Get(context.Background(), tc.id, anthropic.ModelGetParams{})
		if err != nil {
			t.Errorf("Anthropic retrieve %s: %v", tc.id, err)
			continue
		}
		if info.ID != tc.id || info.Type != "model" || info.DisplayName != tc.id {
			t.Errorf("Anthropic retrieve %s = %s", tc.id, info.RawJSON())
		}
	}
	// Not listed by the upstreams of the glob that routes it (legacy-model is
	// Anthropic's, but "*" routes it to the OpenAI-compatible server).
	for _, id := range []string{"claude-nope", "legacy-model"} {
		_, err := oai.Models.Get(context.Background(), id)
		var oerr *openai.Error
		if !errors.As(err, &oerr) || oerr.StatusCode != 404 || oerr.Type != "invalid_request_error" {
			t.Errorf("OpenAI retrieve %s: %v, want a 404 in OpenAI's envelope", id, err)
		}
		_, err = ant.Models.Get(context.Background(), id, anthropic.ModelGetParams{})
		var aerr *anthropic.Error
		if !errors.As(err, &aerr) || aerr.StatusCode != 404 || !strings.Contains(aerr.RawJSON(), `"not_found_error"`) {
			t.Errorf("Anthropic retrieve %s: %v, want a 404 in Anthropic's envelope", id, err)
		}
	}
}

// A glob whose upstreams cannot list anything (down, or a deployment serving
// every name as its upstream_model) serves the names it routes as far as the
// router knows; a router without a route for a name answers 404.
func TestModelRetrieveWithoutAList(t *testing.T) {
	rt := newRouter(t, `
models:
  - name: "local-*"
    provider: ollama
    endpoint: http://127.0.0.1:1
  - name: "alias-*"
    provider: openai
    endpoint: {{UP}}/v1
    upstream_model: gpt-4o
`, "http://127.0.0.1:1")
	oai := openai.NewClient(option.WithBaseURL(rt.URL+"/v1"), option.WithAPIKey("k"), option.WithMaxRetries(0))
	for _, id := range []string{"local-llama", "alias-anything"} {
		if m, err := oai.Models.Get(context.Background(), id); err != nil || m.ID != id {
			t.Errorf("retrieve %s: %v %+v", id, err, m)
		}
	}
	if _, err := oai.Models.Get(context.Background(), "other"); err == nil {
		t.Error("retrieve of an unrouted name succeeded")
	}
	page, err := oai.Models.List(context.Background())
	if err != nil || len(page.Data) != 0 {
		t.Errorf("list = %v, %v; want nothing listed", page, err)
	}
}

// A model list is bounded: one over 8 MiB contributes nothing, and the router
// stops reading it.
func TestOversizedModelListContributesNothing(t *testing.T) {
	var sent atomic.Int64
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"object":"list","data":[`))
		entry := []byte(`{"id":"m","object":"model","created":0,"owned_by":"x"},`)
		for range (9 << 20) / len(entry) {
			n, err := w.Write(entry)
			sent.Add(int64(n))
			if err != nil {
				return
			}
		}
		_, _ = w.Write([]byte(`{"id":"last","object":"model","created":0,"owned_by":"x"}]}`))
	})
	rt := newRouter(t, "models:\n  - name: \"*\"\n    provider: openai\n    endpoint: {{UP}}/v1\n", up.URL)
	oai := openai.NewClient(option.WithBaseURL(rt.URL+"/v1"), option.WithAPIKey("k"), option.WithMaxRetries(0))
	page, err := oai.Models.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(page.Data, func(m openai.Model) bool { return m.ID == "last" || m.ID == "m" }) {
		t.Errorf("an oversized list was listed: %d models", len(page.Data))
	}
}

// A router key with a models list sees, in the list and through retrieve, only
// what it may use: the glob routes' upstream models too. A model it may not use
// is the unknown model's 404.
func TestModelListAndRetrieveFollowTheKey(t *testing.T) {
	u := newListingUpstreams(t)
	const key = "rk-tiny-only-0123456789abcdef"
	rt := newRouter(t, "server:\n  api_keys:\n    - name: tiny-team\n      key: "+key+"\n      models: [\"tiny*\"]\n"+u.config(), "")
	oai := openai.NewClient(option.WithBaseURL(rt.URL+"/v1"), option.WithAPIKey(key), option.WithMaxRetries(0))
	page, err := oai.Models.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range page.Data {
		ids = append(ids, m.ID)
	}
	if d := cmp.Diff([]string{"tiny-think:latest", "tiny:latest"}, ids); d != "" {
		t.Errorf("list (-want +got):\n%s", d)
	}
	if m, err := oai.Models.Get(context.Background(), "tiny"); err != nil || m.ID != "tiny" {
		t.Errorf("retrieve tiny: %v", err)
	}
	for _, id := range []string{"gpt-4o", "claude-sonnet-4-5", "qwen3:0.6b"} {
		_, err := oai.Models.Get(context.Background(), id)
		var oerr *openai.Error
		if !errors.As(err, &oerr) || oerr.StatusCode != 404 || !strings.Contains(oerr.Message, "is not configured on this router") {
			t.Errorf("retrieve %s: %v, want the unknown model's 404", id, err)
		}
	}
}
