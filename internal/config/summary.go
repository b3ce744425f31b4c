package config

import (
	"fmt"
	"strings"
	"text/tabwriter"
)

// Summary describes c for `llmrouter check`: where it came from, the listen address,
// the router's keys and one line per model. Every key is masked with Secret.String.
func Summary(c *Config) string {
	var b strings.Builder
	fmt.Fprintf(&b, "config: %s\n", c.Source)
	fmt.Fprintf(&b, "listen: %s\n", c.Server.Listen)
	fmt.Fprintf(&b, "server api_keys: %s\n", keyList(c.Server.APIKeys))
	fmt.Fprintf(&b, "models: %d\n", len(c.Models))
	w := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "  NAME\tPROVIDER\tENDPOINT\tUPSTREAM MODEL\tKEY\tNOTES")
	for _, m := range c.Models {
		fmt.Fprintf(w, "  %s\t%s\t%s\t%s\t%s\t%s\n",
			m.Name, m.Provider, m.Endpoint, upstreamName(m), key(m.APIKey), notes(m))
	}
	w.Flush()
	return b.String()
}

// keyList renders the router's keys as a count and their masked forms.
func keyList(keys []Secret) string {
	if len(keys) == 0 {
		return "none (every request is accepted)"
	}
	masked := make([]string, len(keys))
	for i, k := range keys {
		masked[i] = k.String()
	}
	return fmt.Sprintf("%d (%s)", len(keys), strings.Join(masked, ", "))
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
	if len(m.Transforms) > 0 {
		n = append(n, fmt.Sprintf("%d transforms", len(m.Transforms)))
	}
	return strings.Join(n, ", ")
}
