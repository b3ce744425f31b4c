package gateway

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmrouter/llmrouter/internal/config"
	"github.com/llmrouter/llmrouter/internal/logging"
)

// countingLists answers every model list request with a one-model OpenAI list
// naming the request's credential, and counts the requests.
type countingLists struct{ n atomic.Int64 }

func (c *countingLists) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	body := fmt.Sprintf(`{"object":"list","data":[{"id":%q}]}`, r.Header.Get("Authorization"))
	return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
}

// A list is reused for catalogTTL per upstream and credential, fetched again
// after; the cache holds at most catalogEntries lists, however many
// credentials clients send.
func TestCatalogCachesPerCredentialForAMinute(t *testing.T) {
	cfg, err := config.Parse([]byte("models:\n  - {name: \"*\", provider: openai, endpoint: http://upstream.invalid/v1}\n"), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rt := &countingLists{}
	g, err := New(cfg, logging.New(cfg.Logging, io.Discard, nil), WithTransport(rt))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1e9, 0)
	g.catalog.now = func() time.Time { return now }
	list := func(key string) []string {
		names, ok := g.list(context.Background(), &g.targets[0], http.Header{"Authorization": {"Bearer " + key}})
		if !ok {
			t.Fatalf("list with %s failed", key)
		}
		return names
	}
	if got := list("a"); len(got) != 1 || got[0] != "Bearer a" {
		t.Fatalf("list = %q", got)
	}
	list("a")
	now = now.Add(catalogTTL - time.Second)
	list("a")
	if n := rt.n.Load(); n != 1 {
		t.Errorf("%d fetches within the TTL, want 1", n)
	}
	if got := list("b"); got[0] != "Bearer b" || rt.n.Load() != 2 {
		t.Errorf("another credential got %q after %d fetches: lists are per credential", got, rt.n.Load())
	}
	now = now.Add(time.Second)
	list("a")
	if n := rt.n.Load(); n != 3 {
		t.Errorf("%d fetches, want 3: a list is fetched again after the TTL", n)
	}
	for i := range 2 * catalogEntries {
		list(fmt.Sprint("k", i))
	}
	g.catalog.mu.Lock()
	held := len(g.catalog.entries)
	for k := range g.catalog.entries {
		if strings.Contains(fmt.Sprint(k), "Bearer") {
			t.Errorf("a cache key holds a credential: %v", k)
		}
	}
	g.catalog.mu.Unlock()
	if held > catalogEntries {
		t.Errorf("the catalog holds %d lists, want at most %d", held, catalogEntries)
	}
}
