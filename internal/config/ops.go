package config

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/redis/go-redis/v9"
	"go.yaml.in/yaml/v3"
)

// price decodes a model's price; both fields are required, so that a free model
// says so (0) rather than being left unpriced by omission.
func price(dst **Price) func(d *decoder, n *yaml.Node, path string) {
	return func(d *decoder, n *yaml.Node, path string) {
		if isNull(resolve(n)) {
			*dst = nil
			return
		}
		var p Price
		present := d.mapping(n, path, priceFields(&p))
		if present == nil {
			return // not a mapping: reported
		}
		for _, k := range []string{"input_per_mtok", "output_per_mtok"} {
			if v := present[k]; v == nil || isNull(resolve(v)) {
				d.fail(n, join(path, k), "required (US dollars per million tokens; 0 for a free model)")
			}
		}
		*dst = &p
	}
}

// limitStore decodes limits.store: "memory", or a Redis URL that is a secret
// (it may hold a password), as are the variables it is expanded from.
func limitStore(dst *Secret) func(d *decoder, n *yaml.Node, path string) {
	return func(d *decoder, n *yaml.Node, path string) {
		if isNull(resolve(n)) {
			return
		}
		s, ok := d.scalar(n, path)
		if !ok {
			return
		}
		switch {
		case s == "" || strings.EqualFold(s, StoreMemory):
			*dst = StoreMemory
			return
		case !strings.Contains(s, "://"):
			// Not a URL, so no password to hide (a key pasted here still is hidden).
			d.failValue(n, path, s, fmt.Sprintf("want memory or a redis://, rediss:// or unix:// URL, got %q", s), false)
			return
		}
		d.noteSecret(n, s)
		u, err := url.Parse(s)
		if err == nil && u.User != nil {
			if pw, ok := u.User.Password(); ok && pw != "" {
				d.secrets[pw] = true
			}
		}
		if err := storeURL(s, u, err); err != nil {
			d.failValue(n, path, s, err.Error(), true)
			return
		}
		*dst = Secret(s)
	}
}

// storeURL checks a Redis URL as the limit engine will read it. No error quotes
// the URL or its password.
func storeURL(s string, u *url.URL, parseErr error) error {
	if parseErr != nil {
		return errors.New("want memory or a redis://, rediss:// or unix:// URL; this one does not parse")
	}
	switch u.Scheme {
	case "redis", "rediss", "unix":
	default:
		return fmt.Errorf("want memory or a redis://, rediss:// or unix:// URL, got scheme %q", u.Scheme)
	}
	if _, err := redis.ParseURL(s); err != nil {
		return fmt.Errorf("invalid Redis URL: %s", scrubPassword(err.Error(), u))
	}
	return nil
}

// scrubPassword removes u's password from msg.
func scrubPassword(msg string, u *url.URL) string {
	if u.User == nil {
		return msg
	}
	if pw, ok := u.User.Password(); ok && pw != "" {
		msg = strings.ReplaceAll(msg, pw, "xxxxx")
		if esc := url.QueryEscape(pw); esc != pw {
			msg = strings.ReplaceAll(msg, esc, "xxxxx")
		}
	}
	return msg
}

// StoreShown is the store as it may be printed: "memory", or the URL with its
// password replaced by xxxxx and without its query.
func (l Limits) StoreShown() string {
	s := l.Store.Reveal()
	if s == "" || s == StoreMemory {
		return StoreMemory
	}
	u, err := url.Parse(s)
	if err != nil {
		return Mask(s)
	}
	c := *u
	c.RawQuery, c.Fragment, c.ForceQuery = "", "", false
	return c.Redacted()
}

// Secrets returns every secret value the configuration holds, for the redacting
// logger and every other scrubber: router keys (plain and named), model keys, the
// metrics key, and the limit store's URL and password. Values that header rules
// set in secret-named headers are not included (the gateway derives them with
// their auth schemes).
func (c *Config) Secrets() []string {
	seen := make(map[string]bool)
	var out []string
	add := func(s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, k := range c.Server.APIKeys {
		add(k.Reveal())
	}
	for _, k := range c.Server.Keys {
		add(k.Key.Reveal())
	}
	for _, m := range c.Models {
		add(m.APIKey.Reveal())
	}
	add(c.Server.MetricsKey.Reveal())
	if store := c.Limits.Store.Reveal(); store != "" && store != StoreMemory {
		add(store)
		if u, err := url.Parse(store); err == nil && u.User != nil {
			pw, _ := u.User.Password()
			add(pw)
		}
	}
	return out
}

// Prices returns the price of every priced deployment, by deployment id: what
// limit.Options.Prices takes when the gateway names the deployment that served a
// request as limit.Request.Model (deployments of one model may cost differently,
// a hosted API and a local server).
func (c *Config) Prices() map[string]Price {
	prices := make(map[string]Price)
	for _, m := range c.Models {
		if m.Price != nil {
			prices[m.ID] = *m.Price
		}
	}
	return prices
}
