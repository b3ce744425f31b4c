package config

import (
	"os"
	"testing"
)

// FuzzParse checks that no input makes Parse panic or hang, and that whatever it
// accepts has at least one model.
func FuzzParse(f *testing.F) {
	if example, err := os.ReadFile("../../config.example.yaml"); err == nil {
		f.Add(example)
	}
	f.Add(defaultYAML)
	f.Add(yamlDoc(minimal))
	f.Add([]byte("models: &m [*m]\n"))
	f.Add([]byte("models:\n- {name: a, provider: openai, endpoint: 'http://x', transforms: [{set: $.a, value: &v [*v, *v]}]}\n"))
	f.Add([]byte("server: {listen: ${X:-:0}}\nmodels: [{name: '${', provider: x}]\n"))
	f.Add([]byte("server: {api_keys: [k, {name: a, key: b, models: ['m*'], budget: {cost: 1, period: day}}]}\n" +
		"models: [{name: m, provider: openai, endpoint: 'http://x', price: {input_per_mtok: 1, output_per_mtok: 1}}, {name: m, id: i, provider: openai, endpoint: 'http://y'}, {name: 'n*', provider: ollama, endpoint: 'http://z'}]\n" +
		"routing: {fallbacks: {m: [n1], 'n*': [m]}, context_window_fallbacks: {n2: [m]}}\nlimits: {store: 'redis://:p@h:1/0'}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, "fuzz")
		if err == nil && len(c.Models) == 0 {
			t.Errorf("Parse accepted a config without models")
		}
	})
}
