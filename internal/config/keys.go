package config

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// keyFields are the fields of a router key in object form.
func keyFields(k *Key) []field {
	return []field{
		leaf("name", &k.Name, keyName),
		secretLeaf("key", &k.Key, routerKey),
		list("models", &k.Models, nonEmpty),
		leaf("rpm", &k.RPM, count),
		leaf("tpm", &k.TPM, count),
		group("budget", []field{
			leaf("tokens", &k.Budget.Tokens, count),
			leaf("cost", &k.Budget.Cost, floatIn(0, maxDollars)),
			leaf("period", &k.Budget.Period, oneOf("period", PeriodDay, PeriodMonth)),
		}),
		leaf("admin", &k.Admin, boolean),
	}
}

// keyRef is where a named key was written, for the checks that need the models.
type keyRef struct {
	index   int // in Server.Keys
	path    string
	node    *yaml.Node
	present map[string]*yaml.Node
}

// routerKeys decodes server.api_keys: each item a plain key (a string, as before)
// or a key object. Plain and named keys alike go to plain, which authenticates;
// keys gets every key with its name, models and limits.
func routerKeys(plain *[]Secret, keys *[]Key) func(d *decoder, n *yaml.Node, path string) {
	return func(d *decoder, n *yaml.Node, path string) {
		items, ok := d.sequence(n, path)
		if !ok {
			return
		}
		var secrets []Secret
		var out []Key
		d.keyRefs = nil
		ids := newKeyIdentities()
		for i, item := range items {
			p := fmt.Sprintf("%s[%d]", path, i)
			if resolve(item).Kind != yaml.MappingNode {
				if k, ok := parseNode(d, item, p, routerKey, true); ok {
					ids.check(d, k, "", item, nil, p)
					secrets = append(secrets, k)
					out = append(out, Key{Key: k, Line: resolve(item).Line})
				}
				continue
			}
			k, present := d.objectKey(item, p, len(out))
			ids.check(d, k.Key, k.Name, item, present, p)
			secrets = append(secrets, k.Key)
			out = append(out, k)
		}
		*plain, *keys = secrets, out
	}
}

// objectKey decodes a key object; index is its position in Server.Keys.
func (d *decoder) objectKey(n *yaml.Node, path string, index int) (Key, map[string]*yaml.Node) {
	k := Key{Line: resolve(n).Line}
	present := d.mapping(n, path, keyFields(&k))
	for _, f := range []string{"name", "key"} {
		if v := present[f]; v == nil || isNull(resolve(v)) {
			d.fail(n, join(path, f), "required in a key object")
		}
	}
	if m := present["models"]; m != nil && !isNull(resolve(m)) && len(k.Models) == 0 {
		d.fail(m, join(path, "models"), "empty: the key could use no model (leave models out for every model)")
	}
	if b := k.Budget; (b.Tokens > 0 || b.Cost > 0) && b.Period == "" {
		d.fail(present["budget"], join(path, "budget.period"), "required with a tokens or cost budget (day or month)")
	}
	d.keyRefs = append(d.keyRefs, keyRef{index: index, path: path, node: n, present: present})
	return k, present
}

// keyIdentities finds names used twice, and one key given twice when either is
// named (which name, models and limits would apply?). Two equal plain keys stay
// valid, as they always were.
type keyIdentities struct {
	names   map[string]int // name -> line
	secrets map[Secret]keySeen
}

type keySeen struct {
	path  string
	line  int
	named bool
}

func newKeyIdentities() *keyIdentities {
	return &keyIdentities{names: make(map[string]int), secrets: make(map[Secret]keySeen)}
}

func (ids *keyIdentities) check(d *decoder, k Secret, name string, n *yaml.Node, present map[string]*yaml.Node, path string) {
	if name != "" {
		at := present["name"]
		if line, dup := ids.names[name]; dup {
			d.fail(at, join(path, "name"), "key name %q is already used at line %d", name, line)
		} else {
			ids.names[name] = lineOf(at)
		}
	}
	if k == "" {
		return
	}
	if first, dup := ids.secrets[k]; dup && (first.named || name != "") {
		at := n
		if present["key"] != nil {
			at = present["key"]
		}
		d.fail(at, path, "the same key as %s (line %d): each key needs one name, one set of models and limits", first.path, first.line)
		return
	}
	ids.secrets[k] = keySeen{path: path, line: lineOf(n), named: name != ""}
}

// checkKeys checks what the named keys say about models, once the models are
// known: every pattern reaches a model, and a key with a cost budget reaches
// only deployments that have a price.
func (d *decoder) checkKeys(c *Config) {
	if len(d.keyRefs) == 0 {
		return
	}
	edges := fallbackEdges(&c.Routes)
	for _, ref := range d.keyRefs {
		if ref.index >= len(c.Server.Keys) {
			continue
		}
		k := c.Server.Keys[ref.index]
		var reached []int
		if k.Models == nil {
			reached = allGroups(len(c.Routes.Groups))
		} else {
			reached = d.keyReach(&c.Routes, k, ref)
		}
		if k.Budget.Cost > 0 {
			d.checkPrices(c, closure(reached, edges), ref)
		}
	}
}

// keyReach returns the groups a key's patterns reach, reporting a pattern that
// reaches none.
func (d *decoder) keyReach(r *Routes, k Key, ref keyRef) []int {
	var items []*yaml.Node
	if n := resolve(ref.present["models"]); n != nil {
		items = n.Content
	}
	var out []int
	for i, pattern := range k.Models {
		got := r.reach(pattern)
		if len(got) == 0 && len(items) == len(k.Models) {
			d.failValue(items[i], fmt.Sprintf("%s.models[%d]", ref.path, i), pattern,
				fmt.Sprintf("no configured model is named %q or matched by it", pattern), false)
		}
		out = append(out, got...)
	}
	return out
}

// maxListed bounds the deployments a problem names.
const maxListed = 3

// checkPrices reports the deployments without a price among groups.
func (d *decoder) checkPrices(c *Config, groups []int, ref keyRef) {
	var missing []string
	for _, gi := range groups {
		for _, mi := range c.Routes.Groups[gi].Deployments {
			if m := c.Models[mi]; m.Price == nil {
				missing = append(missing, fmt.Sprintf("%s (line %d)", m.ID, m.Line))
			}
		}
	}
	if len(missing) == 0 {
		return
	}
	shown := strings.Join(missing[:min(len(missing), maxListed)], ", ")
	if len(missing) > maxListed {
		shown += fmt.Sprintf(" and %d more", len(missing)-maxListed)
	}
	at := ref.present["budget"]
	if at == nil {
		at = ref.node
	}
	d.fail(at, join(ref.path, "budget.cost"),
		"the key may use deployments that have no price, so its cost budget would not count them: %s; give each a price (0 for a free model) or narrow the key's models", shown)
}

// Allows reports whether the key may request model name: it lists no models, or
// one of its names or globs matches.
func (k *Key) Allows(name string) bool {
	if k.Models == nil {
		return true
	}
	for _, p := range k.Models {
		if match(p, name) {
			return true
		}
	}
	return false
}

func allGroups(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// closure returns from and every group their fallback chains lead to.
func closure(from []int, edges map[int][]int) []int {
	seen := make(map[int]bool, len(from))
	var out []int
	queue := append([]int(nil), from...)
	for len(queue) > 0 {
		g := queue[0]
		queue = queue[1:]
		if seen[g] {
			continue
		}
		seen[g] = true
		out = append(out, g)
		queue = append(queue, edges[g]...)
	}
	return out
}
