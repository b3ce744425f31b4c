package config

import (
	"strings"
	"testing"
)

// head is a valid model entry of four lines; cases append its fields from line 5.
const head = `
models:
	- name: m
		provider: openai
		endpoint: https://example.com/v1
`

// TestParseErrors walks every validation path: each problem must name its line and
// its field.
func TestParseErrors(t *testing.T) {
	cleanEnv(t)
	tests := []struct {
		name string
		doc  string
		want []string // substrings of the error
	}{
		// Document structure.
		{"syntax error", "models: [\n", []string{"parsing YAML", "line"}},
		{"two documents", head + "---\nmodels: []\n", []string{"line 5: want a single YAML document"}},
		{"root not a mapping", "- a\n- b\n", []string{"line 1: want a mapping"}},
		{"unknown root key", "modles: []\n" + head, []string{"line 1: modles: unknown key (valid keys: server, logging, defaults, models, routing, limits, telemetry, reload)"}},
		{"unknown nested key", "server:\n\tlisen: 1\n" + head, []string{"line 2: server.lisen: unknown key"}},
		{"unknown model key", head + "\t\tendpont: x\n", []string{"line 5: models[0].endpont: unknown key"}},
		{"unknown transform key", head + "\t\ttransforms:\n\t\t\t- drop: $.a\n\t\t\t\trole: [user]\n", []string{"line 7: models[0].transforms[0].role: unknown key"}},
		{"repeated key", "server:\n\tlisten: :1\n\tlisten: :2\n" + head, []string{"line 3: server.listen: key repeated (first at line 2)"}},
		{"key not a name", "server:\n\t[a]: 1\n" + head, []string{"line 2: server: want a key name"}},
		{"section not a mapping", "server: [1]\n" + head, []string{"line 1: server: want a mapping"}},
		{"list for a scalar", "server:\n\tlisten: [a]\n" + head, []string{"line 2: server.listen: want a single value, got a list"}},
		{"scalar for a list", "server:\n\tapi_keys: k\n" + head, []string{"line 2: server.api_keys: want a list"}},

		// server
		{"listen without port", "server:\n\tlisten: localhost\n" + head, []string{`line 2: server.listen: want host:port`}},
		{"listen bad port", "server:\n\tlisten: localhost:99999\n" + head, []string{`line 2: server.listen: want host:port`}},
		{"empty api key", "server:\n\tapi_keys: [\"\"]\n" + head, []string{"line 2: server.api_keys[0]: empty key"}},
		{"api key with newline", "server:\n\tapi_keys: [\"abc\\n\"]\n" + head, []string{"line 2: server.api_keys[0]: key contains spaces or control characters"}},
		{"max_request_bytes zero", "server:\n\tmax_request_bytes: 0\n" + head, []string{"line 2: server.max_request_bytes: want a positive size"}},
		{"max_request_bytes bad unit", "server:\n\tmax_request_bytes: 3 parsecs\n" + head, []string{"line 2: server.max_request_bytes: want a size like"}},
		{"size overflow", "server:\n\tmax_request_bytes: 9999999999999GiB\n" + head, []string{"line 2: server.max_request_bytes: want a size like"}},
		{"gc_heap_floor negative", "server:\n\tgc_heap_floor: -1MiB\n" + head, []string{`line 2: server.gc_heap_floor: want a size like 1024, 64KiB or 32MiB, got "-1MiB"`}},
		{"gc_heap_floor fraction", "server:\n\tgc_heap_floor: 1.5GiB\n" + head, []string{`line 2: server.gc_heap_floor: want a size like 1024, 64KiB or 32MiB, got "1.5GiB"`}},
		{"gc_heap_floor of TiB", "server:\n\tgc_heap_floor: 1TiB\n" + head, []string{`line 2: server.gc_heap_floor: want a size`}},
		{"gc_heap_floor above 4GiB", "server:\n\tgc_heap_floor: 5GiB\n" + head, []string{`line 2: server.gc_heap_floor: want a size of at most 4GiB, got "5GiB"`}},
		{"shutdown_delay negative", "server:\n\tshutdown_delay: -1s\n" + head, []string{"line 2: server.shutdown_delay: want a duration >= 0"}},
		{"shutdown_grace not a duration", "server:\n\tshutdown_grace: 30\n" + head, []string{"line 2: server.shutdown_grace: want a duration like 250ms"}},

		// logging
		{"level unknown", "logging:\n\tlevel: loud\n" + head, []string{`line 2: logging.level: unknown level "loud" (want debug, info, warn or error)`}},
		{"format unknown", "logging:\n\tformat: xml\n" + head, []string{`line 2: logging.format: unknown format "xml" (want json or text)`}},
		{"bool not bool", "logging:\n\trequest_body: yes\n" + head, []string{`line 2: logging.request_body: want true or false, got "yes"`}},
		{"max_body_bytes negative", "logging:\n\tmax_body_bytes: -1\n" + head, []string{"line 2: logging.max_body_bytes: want a size"}},

		// defaults and model policy fields
		{"max_tokens zero", "defaults:\n\tmax_tokens: 0\n" + head, []string{"line 2: defaults.max_tokens: want a whole number >= 1"}},
		{"strict_translation not bool", head + "\t\tstrict_translation: maybe\n", []string{"line 5: models[0].strict_translation: want true or false"}},
		{"api_key with space", head + "\t\tapi_key: \"sk-abc def\"\n", []string{"line 5: models[0].api_key: key contains spaces"}},
		{"timeout zero", "defaults:\n\ttimeouts:\n\t\tconnect: 0s\n" + head, []string{"line 3: defaults.timeouts.connect: want a positive duration"}},
		{"timeout negative", head + "\t\ttimeouts: {first_byte: -1s}\n", []string{"line 5: models[0].timeouts.first_byte: want a positive duration"}},
		{"timeout not a duration", head + "\t\ttimeouts: {idle: soon}\n", []string{"line 5: models[0].timeouts.idle: want a duration"}},
		{"total timeout zero", head + "\t\ttimeouts: {total: 0}\n", []string{"line 5: models[0].timeouts.total: want a positive duration"}},
		{"tls verify not bool", head + "\t\ttls: {verify: sometimes}\n", []string{"line 5: models[0].tls.verify: want true or false"}},
		{"ca_file missing", "defaults:\n\ttls:\n\t\tca_file: testdata/nope.pem\n" + head, []string{"line 3: defaults.tls.ca_file: reading CA file"}},
		{"ca_file not PEM", head + "\t\ttls: {ca_file: testdata/not-pem.txt}\n", []string{"line 5: models[0].tls.ca_file: CA file \"testdata/not-pem.txt\" holds no PEM certificate"}},
		{"ca_file a directory", head + "\t\ttls: {ca_file: testdata}\n", []string{"line 5: models[0].tls.ca_file: CA file \"testdata\" is not a regular file"}},
		{"attempts zero", "defaults:\n\tretry: {attempts: 0}\n" + head, []string{"line 2: defaults.retry.attempts: want a whole number from 1 to 10 (total tries, the first included)"}},
		{"attempts beyond 10", head + "\t\tretry: {attempts: 1000}\n", []string{`line 5: models[0].retry.attempts: want a whole number from 1 to 10 (total tries, the first included), got "1000"`}},
		{"multiplier below one", head + "\t\tretry: {multiplier: 0.5}\n", []string{"line 5: models[0].retry.multiplier: want a number from 1 to 10"}},
		{"multiplier huge", head + "\t\tretry: {multiplier: 1e300}\n", []string{"line 5: models[0].retry.multiplier: want a number from 1 to 10"}},
		{"backoff of days", head + "\t\tretry: {max_backoff: 100h}\n", []string{`line 5: models[0].retry.max_backoff: want a duration of at most 1h0m0s, got "100h"`}},
		{"initial backoff of hours", head + "\t\tretry: {initial_backoff: 2h}\n", []string{"models[0].retry.initial_backoff: want a duration of at most 1h0m0s"}},
		{"total of weeks", head + "\t\ttimeouts: {total: 500h}\n", []string{"line 5: models[0].timeouts.total: want a duration of at most 24h0m0s"}},
		{"idle of days", "defaults:\n\ttimeouts: {idle: 48h}\n" + head, []string{"line 2: defaults.timeouts.idle: want a duration of at most 1h0m0s"}},
		{"connect of hours", head + "\t\ttimeouts: {connect: 1h}\n", []string{"models[0].timeouts.connect: want a duration of at most 10m0s"}},
		{"first_byte of days", head + "\t\ttimeouts: {first_byte: 30h}\n", []string{"models[0].timeouts.first_byte: want a duration of at most 1h0m0s"}},
		{"request size of GiB", "server:\n\tmax_request_bytes: 4GiB\n" + head, []string{`line 2: server.max_request_bytes: want a size of at most 256MiB, got "4GiB"`}},
		{"logged body of GiB", "logging:\n\tmax_body_bytes: 1GiB\n" + head, []string{`line 2: logging.max_body_bytes: want a size of at most 16MiB, got "1GiB"`}},
		{"too many transforms", head + "\t\ttransforms:\n" + strings.Repeat("\t\t\t- drop: $.a\n", 65), []string{"line 6: models[0].transforms: 65 rules; at most 64 are allowed"}},
		{"jitter above one", head + "\t\tretry: {jitter: 1.5}\n", []string{"line 5: models[0].retry.jitter: want a number from 0 to 1"}},
		{"jitter not a number", head + "\t\tretry: {jitter: NaN}\n", []string{"line 5: models[0].retry.jitter: want a number from 0 to 1"}},
		{"initial_backoff zero", head + "\t\tretry: {initial_backoff: 0s}\n", []string{"line 5: models[0].retry.initial_backoff: want a positive duration"}},
		{"max_backoff bad", head + "\t\tretry: {max_backoff: forever}\n", []string{"line 5: models[0].retry.max_backoff: want a duration"}},
		{"initial above max", head + "\t\tretry:\n\t\t\tinitial_backoff: 30s\n", []string{"line 6: models[0].retry: initial_backoff 30s is longer than max_backoff 20s"}},
		{"initial above max from defaults", "defaults:\n\tretry: {max_backoff: 100ms}\n" + head, []string{"line 5: models[0].retry: initial_backoff 500ms is longer than max_backoff 100ms"}},
		{"status out of range", "defaults:\n\tretry:\n\t\ton_status: [429, 600]\n" + head, []string{`line 3: defaults.retry.on_status[1]: want an HTTP status code from 100 to 599, got "600"`}},
		{"status not a number", head + "\t\tretry:\n\t\t\ton_status:\n\t\t\t\t- 429\n\t\t\t\t- busy\n", []string{"line 8: models[0].retry.on_status[1]: want an HTTP status code"}},
		{"on_network_error not bool", head + "\t\tretry: {on_network_error: 1x}\n", []string{"line 5: models[0].retry.on_network_error: want true or false"}},
		{"respect_retry_after not bool", head + "\t\tretry: {respect_retry_after: no}\n", []string{"line 5: models[0].retry.respect_retry_after: want true or false"}},

		// headers
		{"keep_only bad name", head + "\t\theaders: {keep_only: [\"x y\"]}\n", []string{`line 5: models[0].headers.keep_only[0]: invalid header name "x y"`}},
		{"drop bad name", "defaults:\n\theaders:\n\t\tdrop: [\"x:y\"]\n" + head, []string{`line 3: defaults.headers.drop[0]: invalid header name "x:y"`}},
		{"add bad name", head + "\t\theaders:\n\t\t\tadd: {\"a b\": c}\n", []string{`line 6: models[0].headers.add.a b: invalid header name`}},
		{"add authorization", head + "\t\theaders:\n\t\t\tadd: {Authorization: Bearer x}\n", []string{"line 6: models[0].headers.add.Authorization: Authorization is a credential header: set the key with api_key"}},
		{"force x-api-key", head + "\t\theaders:\n\t\t\tforce:\n\t\t\t\tX-Api-Key: k\n", []string{"line 7: models[0].headers.force.X-Api-Key: X-Api-Key is a credential header"}},
		{"force api-key", "defaults:\n\theaders: {force: {api-key: k}}\n" + head, []string{"line 2: defaults.headers.force.api-key: api-key is a credential header"}},
		{"add proxy-authorization", head + "\t\theaders: {add: {proxy-authorization: k}}\n", []string{"line 5: models[0].headers.add.proxy-authorization: proxy-authorization is a credential header"}},
		{"header value with newline", head + "\t\theaders: {force: {X-A: \"a\\r\\nX-B: b\"}}\n", []string{"line 5: models[0].headers.force.X-A: header value contains a line break"}},
		{"header repeated in another case", head + "\t\theaders:\n\t\t\tadd:\n\t\t\t\tX-A: 1\n\t\t\t\tx-a: 2\n", []string{"line 8: models[0].headers.add.x-a: header repeated (first at line 7)"}},
		{"add not a mapping", head + "\t\theaders: {add: [a]}\n", []string{"line 5: models[0].headers.add: want a mapping of header names"}},
		{"header value a list", head + "\t\theaders: {add: {X-A: [1]}}\n", []string{"line 5: models[0].headers.add.X-A: want a single value"}},

		// models
		{"no models key", "server: {}\n", []string{"line 1: models: at least one model is required"}},
		{"empty document", "", []string{"models: at least one model is required"}},
		{"empty models", "server: {}\nmodels: []\n", []string{"line 2: models: at least one model is required"}},
		{"models not a list", "models: {name: m}\n", []string{"line 1: models: want a list"}},
		{"model entry null", "models:\n\t-\n", []string{"line 2: models[0]: empty model entry"}},
		{"model entry a scalar", "models:\n\t- gpt-4o\n", []string{"line 2: models[0]: want a mapping"}},
		{"name missing", "models:\n\t- provider: openai\n\t\tendpoint: https://x\n", []string{"line 2: models[0].name: required"}},
		{"name null", "models:\n\t- name:\n\t\tprovider: openai\n\t\tendpoint: https://x\n", []string{"line 2: models[0].name: required"}},
		{"name empty", "models:\n\t- name: \"\"\n\t\tprovider: openai\n\t\tendpoint: https://x\n", []string{"line 2: models[0].name: must not be empty"}},
		{"provider missing", "models:\n\t- name: m\n\t\tendpoint: https://x\n", []string{"line 2: models[0].provider: required"}},
		{"provider unknown", "models:\n\t- name: m\n\t\tprovider: opena\n\t\tendpoint: https://x\n", []string{`line 3: models[0].provider: unknown provider "opena" (want openai, anthropic or ollama)`}},
		{"endpoint missing", "models:\n\t- name: m\n\t\tprovider: openai\n", []string{"line 2: models[0].endpoint: required"}},
		{"endpoint not http", "models:\n\t- name: m\n\t\tprovider: openai\n\t\tendpoint: ftp://x\n", []string{`line 4: models[0].endpoint: want an http:// or https:// URL, got "ftp://x"`}},
		{"endpoint without scheme", "models:\n\t- name: m\n\t\tprovider: ollama\n\t\tendpoint: localhost:11434\n", []string{"line 4: models[0].endpoint: want an http:// or https:// URL"}},
		{"endpoint not a URL", "models:\n\t- name: m\n\t\tprovider: openai\n\t\tendpoint: \"http://[::1\"\n", []string{"line 4: models[0].endpoint: not a URL"}},
		{"endpoint without host", "models:\n\t- name: m\n\t\tprovider: openai\n\t\tendpoint: https:///v1\n", []string{"line 4: models[0].endpoint: URL has no host"}},
		{"endpoint with query", "models:\n\t- name: m\n\t\tprovider: openai\n\t\tendpoint: https://x/v1?a=b\n", []string{"line 4: models[0].endpoint: must not have a query"}},
		{"endpoint with credentials", "models:\n\t- name: m\n\t\tprovider: openai\n\t\tendpoint: https://u:hunter2@x/v1\n", []string{"line 4: models[0].endpoint: must not hold credentials"}},
		{"duplicate ids", head + "\t\tid: a\n\t- name: m\n\t\tid: a\n\t\tprovider: anthropic\n\t\tendpoint: https://y\n", []string{`line 7: models[1].id: deployment id "a" is already used at line 2`}},
		{"name and provider in defaults", "defaults:\n\tprovider: openai\n" + head, []string{"line 2: defaults.provider: unknown key"}},

		// transforms
		{"transforms not a list", head + "\t\ttransforms: {drop: $.a}\n", []string{"line 5: models[0].transforms: want a list"}},
		{"rule not a mapping", head + "\t\ttransforms: [$.a]\n", []string{"line 5: models[0].transforms[0]: want a mapping"}},
		{"rule without kind", head + "\t\ttransforms:\n\t\t\t- roles: [user]\n", []string{"line 6: models[0].transforms[0]: a rule has exactly one of regex, drop, set or append, got 0"}},
		{"rule with a null kind", head + "\t\ttransforms:\n\t\t\t- drop: ~\n", []string{"line 6: models[0].transforms[0]: a rule has exactly one of regex, drop, set or append, got 0"}},
		{"rule with two kinds", head + "\t\ttransforms:\n\t\t\t- drop: $.a\n\t\t\t\tset: $.b\n\t\t\t\tvalue: 1\n", []string{"line 6: models[0].transforms[0]: a rule has exactly one of regex, drop, set or append, got 2"}},
		{"regex without replace", head + "\t\ttransforms:\n\t\t\t- regex: a\n", []string{"line 6: models[0].transforms[0].replace: required with regex"}},
		{"regex empty", head + "\t\ttransforms:\n\t\t\t- regex: \"\"\n\t\t\t\treplace: x\n", []string{"line 6: models[0].transforms[0].regex: must not be empty"}},
		{"regex does not compile", head + "\t\ttransforms:\n\t\t\t- regex: \"a(b\"\n\t\t\t\treplace: x\n", []string{"line 6: models[0].transforms[0].regex: error parsing regexp: missing closing )"}},
		{"regex backreference", head + "\t\ttransforms:\n\t\t\t- regex: '(a)\\1'\n\t\t\t\treplace: x\n", []string{"line 6: models[0].transforms[0].regex: error parsing regexp"}},
		{"flags unknown", head + "\t\ttransforms:\n\t\t\t- regex: a\n\t\t\t\treplace: b\n\t\t\t\tflags: ix\n", []string{`line 8: models[0].transforms[0].flags: unknown regex flags "ix"`}},
		{"role unknown", head + "\t\ttransforms:\n\t\t\t- regex: a\n\t\t\t\treplace: b\n\t\t\t\troles: [user, robot]\n", []string{`line 8: models[0].transforms[0].roles[1]: unknown role "robot" (want system, developer, user, assistant or tool)`}},
		{"drop bad path", head + "\t\ttransforms:\n\t\t\t- drop: metadata\n", []string{"line 6: models[0].transforms[0].drop: invalid JSONPath"}},
		{"set bad path", head + "\t\ttransforms:\n\t\t\t- set: $[\n\t\t\t\tvalue: 1\n", []string{"line 6: models[0].transforms[0].set: invalid JSONPath"}},
		{"append bad path", head + "\t\ttransforms:\n\t\t\t- append: $..\n\t\t\t\tvalue: 1\n", []string{"line 6: models[0].transforms[0].append: invalid JSONPath"}},
		{"set without value", head + "\t\ttransforms:\n\t\t\t- set: $.a\n", []string{"line 6: models[0].transforms[0].value: required with set"}},
		{"append without value", head + "\t\ttransforms:\n\t\t\t- append: $.a\n", []string{"line 6: models[0].transforms[0].value: required with append"}},
		{"drop with value", head + "\t\ttransforms:\n\t\t\t- drop: $.a\n\t\t\t\tvalue: 1\n", []string{"line 7: models[0].transforms[0].value: not allowed with drop"}},
		{"regex with value", head + "\t\ttransforms:\n\t\t\t- regex: a\n\t\t\t\treplace: b\n\t\t\t\tvalue: 1\n", []string{"line 8: models[0].transforms[0].value: not allowed with regex"}},
		{"set with replace", head + "\t\ttransforms:\n\t\t\t- set: $.a\n\t\t\t\tvalue: 1\n\t\t\t\treplace: x\n", []string{"line 8: models[0].transforms[0].replace: not allowed with set"}},
		{"drop with roles", head + "\t\ttransforms:\n\t\t\t- drop: $.a\n\t\t\t\troles: [user]\n", []string{"line 7: models[0].transforms[0].roles: not allowed with drop"}},
		{"value infinite", head + "\t\ttransforms:\n\t\t\t- set: $.a\n\t\t\t\tvalue: .inf\n", []string{"line 7: models[0].transforms[0].value: JSON has no +Inf"}},
		{"value repeated key", head + "\t\ttransforms:\n\t\t\t- set: $.a\n\t\t\t\tvalue: {a: 1, a: 2}\n", []string{"line 7: models[0].transforms[0].value.a: key repeated"}},
		{"value non-string key", head + "\t\ttransforms:\n\t\t\t- set: $.a\n\t\t\t\tvalue: {[1]: 2}\n", []string{"line 7: models[0].transforms[0].value: object keys must be strings"}},
		{"value cyclic alias", head + "\t\ttransforms:\n\t\t\t- set: $.a\n\t\t\t\tvalue: &v [1, *v]\n", []string{"models[0].transforms[0].value", "line 7: models[0].transforms[0].value: value nested more than 64 deep"}},

		{"recursive alias", head + "\t\ttransforms:\n\t\t\t- set: $.a\n\t\t\t\tvalue: &v [*v, *v]\n", []string{"line 7: models[0].transforms[0].value", "YAML aliases expand the document to over 100000 values more than it holds (an alias bomb?)"}},

		// ${VAR}
		{"unset variable", head + "\t\tapi_key: ${LLMROUTER_TEST_UNSET}\n", []string{"line 5: models[0].api_key: environment variable LLMROUTER_TEST_UNSET is not set"}},
		{"unset variable in header", head + "\t\theaders: {force: {X-A: \"${LLMROUTER_TEST_UNSET}\"}}\n", []string{"line 5: models[0].headers.force.X-A: environment variable LLMROUTER_TEST_UNSET is not set"}},
		{"unset variable in value", head + "\t\ttransforms:\n\t\t\t- set: $.a\n\t\t\t\tvalue: {b: [\"${LLMROUTER_TEST_UNSET}\"]}\n", []string{"line 7: models[0].transforms[0].value.b[0]: environment variable LLMROUTER_TEST_UNSET is not set"}},
		{"malformed reference", head + "\t\tupstream_model: ${A-b}\n", []string{"line 5: models[0].upstream_model: malformed reference to A"}},
		{"unterminated default", head + "\t\tupstream_model: ${A:-b\n", []string{"line 5: models[0].upstream_model: unterminated ${A:-...}"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(yamlDoc(tt.doc), "test.yaml")
			if err == nil {
				t.Fatalf("Parse succeeded, want an error containing %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v", w, err)
				}
			}
		})
	}
}

// TestParseReportsEveryProblem checks that problems are all collected, one per line
// of the error, in line order.
func TestParseReportsEveryProblem(t *testing.T) {
	cleanEnv(t)
	doc := `
models:
	- name: a
		provider: opena
		endpoint: ftp://x
server:
	lisen: 1
logging: {level: loud}
`
	_, err := Parse(yamlDoc(doc), "test.yaml")
	if err == nil {
		t.Fatal("Parse succeeded")
	}
	got := strings.Split(err.Error(), "\n")
	want := []string{
		`line 3: models[0].provider: unknown provider "opena" (want openai, anthropic or ollama)`,
		`line 4: models[0].endpoint: want an http:// or https:// URL, got "ftp://x"`,
		`line 6: server.lisen: unknown key (valid keys: listen, api_keys, max_request_bytes, body_timeout, max_connections, gc_heap_floor, shutdown_delay, shutdown_grace, metrics_listen, metrics_key)`,
		`line 7: logging.level: unknown level "loud" (want debug, info, warn or error)`,
	}
	if diff := cmpDiff(want, got); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

// TestErrorsHideSecrets checks that no error quotes a key or a URL's password.
func TestErrorsHideSecrets(t *testing.T) {
	cleanEnv(t)
	const canary = "sk-canary-0123456789abcdef"
	t.Setenv("LLMROUTER_TEST_KEY", canary+"\n")
	doc := head + "\t\tapi_key: ${LLMROUTER_TEST_KEY}\n\t- name: n\n\t\tprovider: openai\n\t\tendpoint: https://u:" + canary + "@x\n"
	_, err := Parse(yamlDoc(doc), "test.yaml")
	if err == nil {
		t.Fatal("Parse succeeded")
	}
	if strings.Contains(err.Error(), "canary") {
		t.Errorf("error leaks the key:\n%v", err)
	}
}
