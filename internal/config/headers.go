package config

import (
	"fmt"
	"maps"
	"strings"

	"go.yaml.in/yaml/v3"
)

// credentialHeaders carry a key; add and force may not set them, so a key is only
// ever configured through api_key (which is masked, and sent in the right header).
var credentialHeaders = []string{"authorization", "x-api-key", "api-key", "proxy-authorization"}

func headerFields(h *Headers) []field {
	return []field{
		list("keep_only", &h.KeepOnly, headerName),
		list("drop", &h.Drop, headerName),
		{key: "add", kind: kindOther, set: headerMap(&h.Add)},
		{key: "force", kind: kindOther, set: headerMap(&h.Force)},
	}
}

// headerName accepts an RFC 9110 token; `*` (a token character) serves as a glob.
func headerName(s string) (string, error) {
	if s == "" || strings.IndexFunc(s, func(r rune) bool { return !isTokenChar(r) }) >= 0 {
		return "", fmt.Errorf("invalid header name %q (no spaces, colons or control characters)", s)
	}
	return s, nil
}

func isTokenChar(r rune) bool {
	return r < 0x7f && r > ' ' && !strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r)
}

// headerMap decodes a mapping of header name to value and merges it into *dst key by
// key: a name given here replaces any spelling of it already there.
func headerMap(dst *map[string]string) func(d *decoder, n *yaml.Node, path string) {
	return func(d *decoder, n *yaml.Node, path string) {
		m := resolve(n)
		if isNull(m) {
			return
		}
		if m.Kind != yaml.MappingNode {
			d.fail(n, path, "want a mapping of header names to values, got %s", describe(m))
			return
		}
		if !d.spend(n, path, len(m.Content)/2) {
			return
		}
		merged := maps.Clone(*dst)
		if merged == nil {
			merged = make(map[string]string, len(m.Content)/2)
		}
		spelled := make(map[string]string, len(merged)) // lower-cased name -> its key in merged
		for name := range merged {
			spelled[strings.ToLower(name)] = name
		}
		lines := make(map[string]int) // lower-cased names given here -> line
		for i := 0; i+1 < len(m.Content); i += 2 {
			k := m.Content[i]
			if first, dup := lines[strings.ToLower(k.Value)]; dup {
				d.fail(k, join(path, k.Value), "header repeated (first at line %d)", first)
				continue
			}
			lines[strings.ToLower(k.Value)] = k.Line
			d.header(k, m.Content[i+1], path, merged, spelled)
		}
		*dst = merged
	}
}

// header validates one name: value pair and stores it in merged, in place of any
// spelling of the name already there (spelled indexes merged by lower-cased name).
func (d *decoder) header(k, v *yaml.Node, path string, merged, spelled map[string]string) {
	p := join(path, k.Value)
	name, err := headerName(k.Value)
	switch {
	case k.Kind != yaml.ScalarNode:
		d.fail(k, path, "want a header name, got %s", describe(k))
		return
	case err != nil:
		d.fail(k, p, "%v", err)
		return
	case isCredential(name):
		d.fail(k, p, "%s is a credential header: set the key with api_key, which is masked and sent in the upstream's own header", name)
		return
	}
	value, ok := d.scalar(v, p)
	if !ok {
		return
	}
	if secretName(name) {
		d.noteSecret(v, value) // X-Portkey-Api-Key: ${PORTKEY}
	}
	if strings.ContainsAny(value, "\r\n\x00") {
		d.fail(v, p, "header value contains a line break or NUL")
		return
	}
	lower := strings.ToLower(name)
	delete(merged, spelled[lower])
	merged[name], spelled[lower] = value, name
}

func isCredential(name string) bool {
	for _, c := range credentialHeaders {
		if strings.EqualFold(name, c) {
			return true
		}
	}
	return false
}
