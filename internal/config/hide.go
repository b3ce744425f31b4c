package config

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// `check` prints problems into terminals and CI logs, so a problem never shows a
// secret. Which values are secret is only known once the whole document is read
// (a variable used as an api_key at line 40 holds a secret at line 3 too), so a
// problem keeps the value it rejected, and err hides it at the end when:
//
//   - it is the value of a key field (api_key, server.api_keys): never shown;
//   - it looks like an API key (looksLikeKey);
//   - it was expanded from a variable whose name says it holds a secret
//     (${OPENAI_API_KEY}, ${DB_PASSWORD}), or from one that a key field uses,
//     whatever its name;
//   - it holds the value of a key field, of a secret-named header rule
//     (X-Portkey-Api-Key) or of such a variable.
//
// Any other value is quoted as written, since seeing a typo is how a user finds
// it. Every problem's text is also scrubbed of those secret values.

// secretWords in a variable's or header's name mark it as holding a credential.
var secretWords = []string{"KEY", "TOKEN", "SECRET", "PASS", "CRED", "AUTH", "COOKIE", "SIGNATURE", "PRIVATE"}

// secretName reports whether a variable or header name says it holds a secret
// (OPENAI_API_KEY, GITHUB_TOKEN, X-Portkey-Api-Key, Cf-Aig-Authorization).
func secretName(name string) bool {
	upper := strings.ToUpper(name)
	for _, w := range secretWords {
		if strings.Contains(upper, w) {
			return true
		}
	}
	return false
}

// minScrubbed is the shortest secret scrubbed from a problem's text wherever it
// appears; a shorter one is still hidden when it is the rejected value itself.
const minScrubbed = 6

// failValue records a problem about the rejected value s of node n; key says n is
// a key field.
func (d *decoder) failValue(n *yaml.Node, path, s, msg string, key bool) {
	d.fail(n, path, "%s", msg)
	p := d.problems[len(d.problems)-1]
	p.value, p.key = s, key
	if raw := resolve(n); p.env == "" {
		p.raw = raw.Value
	}
}

// noteSecret records that the value s of node n is a credential, and so are the
// variables it was expanded from.
func (d *decoder) noteSecret(n *yaml.Node, s string) {
	d.secrets[s] = true
	if _, override := d.env[resolve(n)]; override {
		return
	}
	for _, name := range references(resolve(n).Value) {
		d.keyVars[name] = true
		if v, ok := d.lookup(name); ok {
			d.secrets[v] = true
		}
	}
}

// noteSecretVariables records the values of the secret-named variables raw refers to.
func (d *decoder) noteSecretVariables(raw string) {
	for _, name := range references(raw) {
		if secretName(name) {
			if v, ok := d.lookup(name); ok {
				d.secrets[v] = true
			}
		}
	}
}

// hideSecrets rewrites every problem's text so that it shows no secret.
func (d *decoder) hideSecrets() {
	var scrub []string
	for s := range d.secrets {
		if len(s) >= minScrubbed {
			scrub = append(scrub, s)
		}
	}
	slices.SortFunc(scrub, func(a, b string) int { return cmp.Or(cmp.Compare(len(b), len(a)), strings.Compare(a, b)) })
	for _, p := range d.problems {
		if reason := d.hideReason(p); reason != "" {
			masked := Mask(p.value)
			p.msg = strings.ReplaceAll(p.msg, strconv.Quote(p.value), strconv.Quote(masked))
			p.msg = strings.ReplaceAll(p.msg, p.value, masked)
			p.msg += " (value hidden: " + reason + ")"
		}
		for _, s := range scrub {
			p.msg = strings.ReplaceAll(p.msg, s, Mask(s))
		}
	}
}

// hideReason says why p's rejected value must not be shown, or "".
func (d *decoder) hideReason(p *problem) string {
	switch {
	case p.value == "":
		return ""
	case p.key:
		return "it is a key"
	case looksLikeKey(p.value):
		return "it looks like a credential"
	}
	for _, name := range references(p.raw) {
		if secretName(name) {
			return "${" + name + "} may hold a secret"
		}
		if d.keyVars[name] {
			return "${" + name + "} is used as a key"
		}
	}
	for s := range d.secrets {
		if s != "" && (s == p.value || len(s) >= 4 && strings.Contains(p.value, s)) {
			return "it holds a configured secret"
		}
	}
	return ""
}
