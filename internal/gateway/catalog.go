package gateway

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// The models the upstreams behind a glob really serve (issue 9 items 10, 11): a
// glob route ("*", "llama*") names no model, so GET /v1/models asks the
// upstreams, each in its own protocol (catalogue), and lists what they serve
// that the glob routes to it. Lists are cached briefly per upstream and
// credential, fetched concurrently with a short timeout, bounded in size, and a
// list that cannot be read contributes nothing.

// catalogue is an upstream protocol whose servers list the models they serve.
type catalogue interface {
	caller // SetAuth: the credential of the list's request
	// ModelsPath is the path of the list, relative to the endpoint.
	ModelsPath() string
	// ParseModels reads a list's model names.
	ParseModels(body []byte) ([]string, error)
	// SameModel reports whether a name a client asks for is the listed one.
	SameModel(listed, asked string) bool
}

// Bounds of the model lists.
const (
	catalogTTL     = 60 * time.Second // how long a list (or its failure) is reused
	catalogTimeout = 5 * time.Second  // one list's fetch, whoever waits for it
	catalogEntries = 256              // lists held: upstreams × credentials
	maxCatalogBody = 8 << 20          // a list's body (OpenRouter's is ~1 MiB)
)

// catalog caches the upstreams' model lists, keyed by URL and a hash of the
// credential sent (never the credential itself). Safe for concurrent use.
type catalog struct {
	mu      sync.Mutex
	entries map[catalogKey]*catalogEntry
	now     func() time.Time
}

type catalogKey struct {
	url  string
	cred [sha256.Size]byte
}

// catalogEntry is one list: being fetched until done is closed, then names (nil
// and err set when it could not be read), fetched at the time at.
type catalogEntry struct {
	done  chan struct{}
	names []string
	err   error
	at    time.Time
}

// list returns the models t's upstream lists for a request whose headers are h,
// fetching them unless a list younger than catalogTTL is cached; ok is false
// when t's protocol has no list or it could not be read.
func (g *Gateway) list(ctx context.Context, t *target, h http.Header) (names []string, ok bool) {
	if t.catalogue == nil {
		return nil, false
	}
	req, key := g.listRequest(t, h)
	c := &g.catalog
	c.mu.Lock()
	e := c.entries[key]
	if e == nil || (isDone(e) && c.now().Sub(e.at) >= catalogTTL) {
		e = &catalogEntry{done: make(chan struct{})}
		c.store(key, e)
		go c.fetch(e, t, req)
	}
	c.mu.Unlock()
	select {
	case <-e.done:
		return e.names, e.err == nil
	case <-ctx.Done():
		return nil, false
	}
}

// listRequest is the request for t's model list: the model's header rules and
// its key, else the client's credential when the router has no keys of its own
// (as for the model's requests), and the cache key it is stored under.
func (g *Gateway) listRequest(t *target, in http.Header) (*http.Request, catalogKey) {
	url := strings.TrimRight(t.model.Endpoint, "/") + t.catalogue.ModelsPath()
	req, _ := http.NewRequest(http.MethodGet, url, nil) // the endpoint parsed when the config loaded
	t.policy.Headers(req.Header)
	key := t.model.APIKey.Reveal()
	if key == "" && len(g.cfg.Server.APIKeys) == 0 {
		key, _ = clientCredential(in)
	}
	t.catalogue.SetAuth(req.Header, key)
	return req, catalogKey{url: url, cred: sha256.Sum256([]byte(key))}
}

// store adds e under key, making room when full: expired lists first, else any
// one. The caller holds c.mu.
func (c *catalog) store(key catalogKey, e *catalogEntry) {
	if c.entries == nil {
		c.entries = map[catalogKey]*catalogEntry{}
	}
	if _, ok := c.entries[key]; !ok && len(c.entries) >= catalogEntries {
		for k, old := range c.entries {
			if isDone(old) && c.now().Sub(old.at) >= catalogTTL {
				delete(c.entries, k)
			}
		}
		for k := range c.entries {
			if len(c.entries) < catalogEntries {
				break
			}
			delete(c.entries, k)
		}
	}
	c.entries[key] = e
}

func isDone(e *catalogEntry) bool {
	select {
	case <-e.done:
		return true
	default:
		return false
	}
}

// fetch reads one list into e and closes e.done. Its deadline is its own: the
// client that started it may go away while others wait for it.
func (c *catalog) fetch(e *catalogEntry, t *target, req *http.Request) {
	ctx, cancel := context.WithTimeout(context.Background(), catalogTimeout)
	defer cancel()
	names, err := readList(t, req.WithContext(ctx))
	c.mu.Lock()
	e.names, e.err, e.at = names, err, c.now()
	c.mu.Unlock()
	close(e.done)
}

// errListTooLarge is a model list body over maxCatalogBody.
var errListTooLarge = errors.New("model list larger than the router reads")

// readList sends req to t's upstream and parses the list it answers.
func readList(t *target, req *http.Request) ([]string, error) {
	resp, err := t.transport.RoundTrip(req)
	if err != nil {
		return nil, fmt.Errorf("listing models: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("listing models: upstream answered %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxCatalogBody+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("listing models: %w", err)
	case len(body) > maxCatalogBody:
		return nil, errListTooLarge
	}
	return t.catalogue.ParseModels(body)
}
