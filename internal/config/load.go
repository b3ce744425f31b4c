// Package config turns a YAML file (or the embedded default) into a validated Config:
// ${VAR} expanded, LLMROUTER_* overrides applied, defaults merged into every model, and
// every problem reported with its YAML line.
package config

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"
)

// DefaultSource is the Source of the configuration returned by Default.
const DefaultSource = "embedded default"

// LocalFile is the configuration file looked for in the working directory.
const LocalFile = "llmrouter.yaml"

//go:embed default.yaml
var defaultYAML []byte

// Load reads, parses and validates the configuration file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	return Parse(data, path)
}

// Parse parses and validates a configuration; source names it in Config.Source.
// The error lists every problem, one per line, each with its YAML line.
func Parse(data []byte, source string) (*Config, error) {
	return parse(data, source, os.LookupEnv)
}

// Default returns the embedded default configuration: Anthropic, OpenAI and a local
// Ollama for everything else. An unset key variable means the client's own credential
// is forwarded. LLMROUTER_* overrides apply; a bad one (or an OLLAMA_HOST that is not
// a URL) is the only possible error.
func Default() (*Config, error) {
	c, err := parse(defaultYAML, DefaultSource, defaultLookup)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", DefaultSource, err)
	}
	for i := range c.Models {
		c.Models[i].Line = 0
	}
	for i := range c.Routes.Groups {
		c.Routes.Groups[i].Line = 0
	}
	return c, nil
}

// defaultLookup is the environment as the embedded default sees it: OLLAMA_HOST may be
// written as Ollama itself accepts it, without scheme or port.
func defaultLookup(name string) (string, bool) {
	v, ok := os.LookupEnv(name)
	if name == "OLLAMA_HOST" && v != "" {
		v = ollamaURL(v)
	}
	return v, ok
}

// ollamaURL completes an OLLAMA_HOST value the way the ollama CLI does: without a
// scheme it is http://, without a host 127.0.0.1, and without a port 11434.
func ollamaURL(v string) string {
	v = strings.TrimSpace(v)
	if strings.Contains(v, "://") {
		return v
	}
	hostport, path, _ := strings.Cut(v, "/")
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host, port = strings.Trim(hostport, "[]"), "11434"
	}
	if host == "" {
		host = "127.0.0.1"
	}
	if path != "" {
		path = "/" + path
	}
	return "http://" + net.JoinHostPort(host, port) + path
}

// Resolve picks the configuration file: the -config flag's value, else
// $LLMROUTER_CONFIG, else ./llmrouter.yaml if it exists. "" means use Default.
// A path given explicitly is returned even if missing, so that Load reports it
// rather than the router silently starting with the default.
func Resolve(flagPath string) string {
	if flagPath != "" {
		return flagPath
	}
	if p := os.Getenv("LLMROUTER_CONFIG"); p != "" {
		return p
	}
	if st, err := os.Stat(LocalFile); err == nil && !st.IsDir() {
		return LocalFile
	}
	return ""
}

func parse(data []byte, source string, lookup func(string) (string, bool)) (*Config, error) {
	root, err := document(data)
	if err != nil {
		return nil, err
	}
	d := newDecoder(lookup)
	d.applyOverrides(root)
	d.allow(root)
	c := d.config(root)
	if err := d.err(); err != nil {
		return nil, err
	}
	c.Source = source
	return c, nil
}

// document parses data as a single YAML document whose root is a mapping; an empty
// document is an empty mapping.
func document(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("parsing YAML: %w", err)
	}
	var next yaml.Node
	if err := dec.Decode(&next); !errors.Is(err, io.EOF) {
		return nil, &problem{line: next.Line, msg: "want a single YAML document, found another (---)"}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 || isNull(doc.Content[0]) {
		return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: 1}, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, &problem{line: root.Line, msg: "want a mapping with server, logging, defaults and models, got " + describe(resolve(root))}
	}
	return root, nil
}

// config decodes the root mapping, then the models on top of the merged defaults,
// then checks and compiles what refers to the models.
func (d *decoder) config(root *yaml.Node) *Config {
	c := &Config{Server: builtinServer(), Logging: builtinLogging(), Routing: builtinRouting(), Limits: builtinLimits()}
	defaults := builtinModel()
	var models *yaml.Node
	present := d.mapping(root, "", rootFields(c, &defaults, &models))
	at := root
	if key := present["models"]; key != nil {
		at = key
	}
	c.Models, c.Routes = d.models(models, at, defaults)
	d.checkSections(c, present)
	d.resolveFallbacks(c)
	d.checkKeys(c)
	return c
}

// checkSections checks what a section's fields cannot tell one by one.
func (d *decoder) checkSections(c *Config, present map[string]*yaml.Node) {
	h := &c.Routing.Health
	if hn := child(present["routing"], "health"); child(hn, "max_cooldown") == nil {
		h.MaxCooldown = max(h.MaxCooldown, h.Cooldown) // as health.Policy.WithDefaults
	} else if h.MaxCooldown < h.Cooldown {
		d.fail(hn, "routing.health", "max_cooldown %v is shorter than cooldown %v", h.MaxCooldown, h.Cooldown)
	}
	s := c.Server
	if s.MetricsListen != "" && s.MetricsListen == s.Listen {
		d.fail(or(child(present["server"], "metrics_listen"), present["server"]), "server.metrics_listen",
			"the same address as listen; leave it empty to serve /metrics on the main listener")
	}
}

// child returns the value node of key in mapping n, or nil.
func child(n *yaml.Node, key string) *yaml.Node {
	m := resolve(n)
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	if j := keyIndex(m, key); j >= 0 {
		return m.Content[j+1]
	}
	return nil
}
