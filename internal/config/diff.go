package config

import (
	"log/slog"
	"reflect"
	"slices"
)

// Changes is what a reload changes, for its log line. No value is ever in it,
// only names: model names, deployment ids, key names, setting paths.
type Changes struct {
	Models      Delta // by model name (or glob pattern)
	Deployments Delta // by id; Changed: the same id with other settings
	Keys        Delta // named router keys by name
	// Settings are the paths of other settings that changed and apply on reload
	// ("routing", "limits", "logging", "server.api_keys" for the plain keys, ...).
	Settings []string
	// Restart are the paths of changed settings that apply only after a restart:
	// the listeners, the connection cap, the GC heap floor, the file watch, the
	// log format and tracing (RestartOnly).
	Restart []string
}

// Delta is what was added, removed and changed, each sorted.
type Delta struct {
	Added, Removed, Changed []string
}

// RestartOnly are the settings that a reload cannot apply: the listeners are
// bound, and the connection cap, the GC heap floor, the file watch, the log's
// format and the tracer (telemetry) set, once at start.
var RestartOnly = []string{"server.listen", "server.metrics_listen", "server.max_connections", "server.gc_heap_floor", "reload.watch", "logging.format", "telemetry"}

// Diff compares the config running (old) with the one replacing it.
func Diff(old, new *Config) Changes {
	var c Changes
	c.Models = diffGroups(old, new)
	c.Deployments = diffNamed(deployments(old), deployments(new))
	c.Keys = diffNamed(namedKeys(old), namedKeys(new))
	for _, s := range settings(old, new) {
		if slices.Contains(RestartOnly, s) {
			c.Restart = append(c.Restart, s)
		} else {
			c.Settings = append(c.Settings, s)
		}
	}
	return c
}

// Empty reports whether nothing changed.
func (c Changes) Empty() bool {
	return c.Models.empty() && c.Deployments.empty() && c.Keys.empty() && len(c.Settings) == 0 && len(c.Restart) == 0
}

func (d Delta) empty() bool { return len(d.Added)+len(d.Removed)+len(d.Changed) == 0 }

// LogValue renders the changes as a group of attributes, leaving out empty ones.
func (c Changes) LogValue() slog.Value {
	var attrs []slog.Attr
	add := func(key string, v []string) {
		if len(v) > 0 {
			attrs = append(attrs, slog.Any(key, v))
		}
	}
	for _, d := range []struct {
		name  string
		delta Delta
	}{{"models", c.Models}, {"deployments", c.Deployments}, {"keys", c.Keys}} {
		add(d.name+"_added", d.delta.Added)
		add(d.name+"_removed", d.delta.Removed)
		add(d.name+"_changed", d.delta.Changed)
	}
	add("settings_changed", c.Settings)
	add("restart_needed", c.Restart)
	return slog.GroupValue(attrs...)
}

// diffGroups compares the groups by name; a group changed when its deployments
// (their ids or settings) did.
func diffGroups(old, new *Config) Delta {
	groups := func(c *Config) map[string]any {
		m := make(map[string]any, len(c.Routes.Groups))
		for _, g := range c.Routes.Groups {
			var ds []Model
			for _, i := range g.Deployments {
				ds = append(ds, unplaced(c.Models[i]))
			}
			m[g.Name] = ds
		}
		return m
	}
	return diffNamed(groups(old), groups(new))
}

func deployments(c *Config) map[string]any {
	m := make(map[string]any, len(c.Models))
	for _, d := range c.Models {
		m[d.ID] = unplaced(d)
	}
	return m
}

// unplaced is m without what moving it in the file changes.
func unplaced(m Model) Model {
	m.Line = 0
	m.Transforms = slices.Clone(m.Transforms)
	for i := range m.Transforms {
		m.Transforms[i].Line = 0
	}
	return m
}

func namedKeys(c *Config) map[string]any {
	m := make(map[string]any)
	for _, k := range c.Server.Keys {
		if k.Name != "" {
			k.Line = 0
			m[k.Name] = k
		}
	}
	return m
}

// diffNamed compares two sets of named values.
func diffNamed(old, new map[string]any) Delta {
	var d Delta
	for name, v := range new {
		switch was, ok := old[name]; {
		case !ok:
			d.Added = append(d.Added, name)
		case !reflect.DeepEqual(was, v):
			d.Changed = append(d.Changed, name)
		}
	}
	for name := range old {
		if _, ok := new[name]; !ok {
			d.Removed = append(d.Removed, name)
		}
	}
	slices.Sort(d.Added)
	slices.Sort(d.Removed)
	slices.Sort(d.Changed)
	return d
}

// settings returns the paths of the settings outside models and named keys that
// differ, in schema order.
func settings(old, new *Config) []string {
	plain := func(c *Config) []Secret {
		var out []Secret
		for _, k := range c.Server.Keys {
			if k.Name == "" {
				out = append(out, k.Key)
			}
		}
		return out
	}
	o, n := old.Server, new.Server
	ol, nl := old.Logging, new.Logging
	ol.Format, nl.Format = "", "" // a setting of its own: restart-only
	pairs := []struct {
		path     string
		old, new any
	}{
		{"server.listen", o.Listen, n.Listen},
		{"server.api_keys", plain(old), plain(new)},
		{"server.max_request_bytes", o.MaxRequestBytes, n.MaxRequestBytes},
		{"server.body_timeout", o.BodyTimeout, n.BodyTimeout},
		{"server.max_connections", o.MaxConnections, n.MaxConnections},
		{"server.gc_heap_floor", o.GCHeapFloor, n.GCHeapFloor},
		{"server.shutdown_delay", o.ShutdownDelay, n.ShutdownDelay},
		{"server.shutdown_grace", o.ShutdownGrace, n.ShutdownGrace},
		{"server.metrics_listen", o.MetricsListen, n.MetricsListen},
		{"server.metrics_key", o.MetricsKey, n.MetricsKey},
		{"logging.format", old.Logging.Format, new.Logging.Format},
		{"logging", ol, nl},
		{"routing", old.Routing, new.Routing},
		{"limits", old.Limits, new.Limits},
		{"telemetry", old.Telemetry, new.Telemetry},
		{"reload.watch", old.Reload.Watch, new.Reload.Watch},
	}
	var out []string
	for _, p := range pairs {
		if !reflect.DeepEqual(p.old, p.new) {
			out = append(out, p.path)
		}
	}
	return out
}
