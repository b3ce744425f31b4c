package config

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// writeSections writes the summary's lines for deployments, routing, fallbacks,
// named keys, limits and operations (the GC heap floor among them): each only
// when the config uses it or sets it to other than its built-in value.
func writeSections(w io.Writer, c *Config, show func(string) string) {
	deployments := usesDeployments(c)
	if deployments || !routingBuiltin(c.Routing) {
		h := c.Routing.Health
		fmt.Fprintf(w, "routing: strategy %s; a deployment is ejected after %d consecutive failures for %v, growing to %v\n",
			c.Routing.Strategy, h.Failures, h.Cooldown, h.MaxCooldown)
	}
	if deployments {
		writeGroups(w, c, show)
	}
	writeChains(w, c, show)
	writeKeys(w, c, show)
	if usesLimits(c) {
		fmt.Fprintf(w, "limits: store %s, on_store_error %s\n", c.Limits.StoreShown(), c.Limits.OnStoreError)
	}
	writeOperations(w, c, show)
}

// usesDeployments reports whether any model has more than one deployment or sets
// a deployment's own settings.
func usesDeployments(c *Config) bool {
	if len(c.Routes.Groups) != len(c.Models) {
		return true
	}
	for _, m := range c.Models {
		if m.ID != m.Name+"#1" || m.Weight != 1 || m.Priority != 0 || m.HealthCheck.URL != "" || m.RPM != 0 || m.TPM != 0 || m.Price != nil {
			return true
		}
	}
	return false
}

func routingBuiltin(r Routing) bool {
	b := builtinRouting()
	return r.Strategy == b.Strategy && r.Health == b.Health
}

// writeGroups writes one row per deployment, grouped by model.
func writeGroups(w io.Writer, c *Config, show func(string) string) {
	fmt.Fprintf(w, "deployments: %d in %d models\n", len(c.Models), len(c.Routes.Groups))
	t := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(t, "  MODEL\tID\tPROVIDER\tENDPOINT\tWEIGHT\tPRIORITY\tLIMITS\tPRICE\tHEALTH CHECK")
	for _, g := range c.Routes.Groups {
		name := show(g.Name)
		for _, i := range g.Deployments {
			m := c.Models[i]
			fmt.Fprintf(t, "  %s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\t%s\n", name, show(m.ID), m.Provider, show(m.Endpoint),
				m.Weight, m.Priority, rates(m.RPM, m.TPM), priceText(m.Price), checkText(m.HealthCheck, show))
			name = ""
		}
	}
	t.Flush()
}

func rates(rpm, tpm int64) string {
	var r []string
	if rpm > 0 {
		r = append(r, "rpm "+strconv.FormatInt(rpm, 10))
	}
	if tpm > 0 {
		r = append(r, "tpm "+strconv.FormatInt(tpm, 10))
	}
	if len(r) == 0 {
		return "-"
	}
	return strings.Join(r, ", ")
}

func priceText(p *Price) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprintf("$%g/$%g per Mtok", p.InputPerMTok, p.OutputPerMTok)
}

func checkText(h HealthCheck, show func(string) string) string {
	if h.URL == "" {
		return "-"
	}
	return fmt.Sprintf("%s every %v", show(h.URL), h.Interval)
}

// writeChains writes each resolved fallback chain, by cause, keys in order.
func writeChains(w io.Writer, c *Config, show func(string) string) {
	keys := make([]string, 0, len(c.Routes.Chains))
	for k := range c.Routes.Chains {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for x, title := range causeKeys {
		var lines []string
		for _, k := range keys {
			ch := c.Routes.Chains[k]
			chain := [numCauses][]Fallback{ch.Fallbacks, ch.ContextWindow, ch.ContentPolicy}[x]
			if len(chain) == 0 {
				continue
			}
			names := []string{show(k)}
			for _, f := range chain {
				names = append(names, show(f.Model))
			}
			lines = append(lines, "  "+strings.Join(names, " -> "))
		}
		if len(lines) > 0 {
			fmt.Fprintf(w, "%s:\n%s\n", title, strings.Join(lines, "\n"))
		}
	}
}

// writeKeys writes the named keys with their models and limits, never the key.
func writeKeys(w io.Writer, c *Config, show func(string) string) {
	named := 0
	for _, k := range c.Server.Keys {
		if k.Name != "" {
			named++
		}
	}
	if named == 0 {
		return
	}
	fmt.Fprintf(w, "keys: %d named, %d plain (every model, no limits)\n", named, len(c.Server.Keys)-named)
	t := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(t, "  NAME\tMODELS\tLIMITS\tBUDGET")
	for _, k := range c.Server.Keys {
		if k.Name == "" {
			continue
		}
		models := "(every model)"
		if k.Models != nil {
			shown := make([]string, len(k.Models))
			for i, m := range k.Models {
				shown[i] = show(m)
			}
			models = strings.Join(shown, ", ")
		}
		name := show(k.Name)
		if k.Admin {
			name += " (admin)"
		}
		fmt.Fprintf(t, "  %s\t%s\t%s\t%s\n", name, models, rates(k.RPM, k.TPM), budgetText(k.Budget))
	}
	t.Flush()
}

func budgetText(b Budget) string {
	var parts []string
	if b.Tokens > 0 {
		parts = append(parts, strconv.FormatInt(b.Tokens, 10)+" tokens")
	}
	if b.Cost > 0 {
		parts = append(parts, fmt.Sprintf("$%g", b.Cost))
	}
	switch {
	case b.Period == "":
		return "-"
	case len(parts) == 0:
		return "usage counted per " + b.Period
	}
	return strings.Join(parts, " and ") + " per " + b.Period
}

// usesLimits reports whether anything is limited or the store is not the default.
func usesLimits(c *Config) bool {
	if c.Limits != builtinLimits() {
		return true
	}
	for _, k := range c.Server.Keys {
		if k.RPM > 0 || k.TPM > 0 || k.Budget.Period != "" {
			return true
		}
	}
	for _, m := range c.Models {
		if m.RPM > 0 || m.TPM > 0 {
			return true
		}
	}
	return false
}

// writeOperations writes the metrics, traces and reload settings that are not the
// built-in ones.
func writeOperations(w io.Writer, c *Config, show func(string) string) {
	if s := c.Server; s.MetricsListen != "" || s.MetricsKey != "" {
		where := "the main listener"
		if s.MetricsListen != "" {
			where = show(s.MetricsListen)
		}
		auth := "no key"
		if s.MetricsKey != "" {
			auth = "a bearer key required (not shown)"
		}
		fmt.Fprintf(w, "metrics: GET /metrics on %s, %s\n", where, auth)
	}
	if t := c.Telemetry.Traces; t.Endpoint != "" || t.CaptureContent {
		endpoint := "the OTEL_* variables' endpoint"
		if t.Endpoint != "" {
			endpoint = show(t.Endpoint)
		}
		content := "no prompts or completions"
		if t.CaptureContent {
			content = "prompts and completions captured"
		}
		fmt.Fprintf(w, "traces: %s, %s\n", endpoint, content)
	}
	if c.Reload.Watch {
		fmt.Fprintln(w, "reload: on SIGHUP and when the config file changes")
	}
	switch f := c.Server.GCHeapFloor; {
	case f == 0:
		fmt.Fprintln(w, "gc heap floor: off (GOGC alone paces the garbage collector)")
	case f != DefaultGCHeapFloor:
		fmt.Fprintf(w, "gc heap floor: %s (unless GOGC is set)\n", sizeText(f))
	}
}
