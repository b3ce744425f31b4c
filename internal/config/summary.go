package config

import (
	"fmt"
	"strings"
	"text/tabwriter"
)

// Summary describes c for `llmrouter check`: where it came from, the listen address,
// the router's keys and one line per model, then what the config sets of
// deployments, routing, fallbacks, named keys, limits, metrics, traces and reload
// (each only when it differs from the built-in behaviour, so the summary of a config
// that uses none of them is what it always was). Plain keys are masked with
// Secret.String; named keys, the metrics key and the limit store's password are
// never shown; any other value shown that looks like a key or holds one of c's
// secrets is masked (a ${VAR} holding a key written under upstream_model).
func Summary(c *Config) string {
	var b strings.Builder
	show := shown(c)
	fmt.Fprintf(&b, "config: %s\n", c.Source)
	fmt.Fprintf(&b, "listen: %s\n", show(c.Server.Listen))
	fmt.Fprintf(&b, "server api_keys: %s\n", keyList(c.Server))
	fmt.Fprintf(&b, "models: %d\n", len(c.Models))
	w := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "  NAME\tPROVIDER\tENDPOINT\tUPSTREAM MODEL\tKEY\tNOTES")
	for _, m := range c.Models {
		fmt.Fprintf(w, "  %s\t%s\t%s\t%s\t%s\t%s\n",
			show(m.Name), m.Provider, show(m.Endpoint), show(upstreamName(m)), key(m.APIKey), notes(m))
	}
	w.Flush()
	writeSections(&b, c, show)
	return b.String()
}

// keyList renders the router's keys as a count and their masked forms; a named
// key by its name.
func keyList(s Server) string {
	if len(s.APIKeys) == 0 {
		return "none (every request is accepted)"
	}
	shown := make([]string, len(s.APIKeys))
	for i, k := range s.APIKeys {
		shown[i] = k.String()
		if i < len(s.Keys) && s.Keys[i].Key == k && s.Keys[i].Name != "" {
			shown[i] = s.Keys[i].Name
		}
	}
	return fmt.Sprintf("%d (%s)", len(s.APIKeys), strings.Join(shown, ", "))
}

func key(k Secret) string {
	if k == "" {
		return "passthrough"
	}
	return k.String()
}

func upstreamName(m Model) string {
	if m.UpstreamModel == "" {
		return "(as requested)"
	}
	return m.UpstreamModel
}

// notes flags the settings an operator should not miss.
func notes(m Model) string {
	var n []string
	if !m.TLS.Verify {
		n = append(n, "TLS NOT VERIFIED")
	}
	if m.StrictTranslation {
		n = append(n, "strict")
	}
	if m.MaxTokensField != "" {
		n = append(n, "limit in "+m.MaxTokensField)
	}
	if len(m.Transforms) > 0 {
		n = append(n, fmt.Sprintf("%d transforms", len(m.Transforms)))
	}
	return strings.Join(n, ", ")
}

// shown returns a function that masks a value when it looks like a key or holds
// one of c's secrets: keys, and the values of secret-named header rules. With more
// distinct secrets than maxContained (one key per model of a large file), only
// values equal to one are masked, so that the summary stays linear.
func shown(c *Config) func(string) string {
	secrets := make(map[string]bool)
	for _, s := range c.Secrets() {
		secrets[s] = true
	}
	for _, m := range c.Models {
		for _, h := range []map[string]string{m.Headers.Add, m.Headers.Force} {
			for name, v := range h {
				if secretName(name) {
					secrets[v] = true
				}
			}
		}
	}
	delete(secrets, "")
	return func(v string) string {
		if looksLikeKey(v) || secrets[v] {
			return Mask(v)
		}
		if len(secrets) <= maxContained {
			for s := range secrets {
				if len(s) >= 4 && strings.Contains(v, s) {
					return Mask(v)
				}
			}
		}
		return v
	}
}

const maxContained = 256
