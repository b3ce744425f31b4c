package config

import (
	"strings"
	"testing"
)

// TestErrorsHideMisplacedKeys: a value that may be a key is never echoed by a config
// error, wherever it was written by mistake; at most its last 4 characters show.
func TestErrorsHideMisplacedKeys(t *testing.T) {
	const secret = "sk-proj-Zq8CANARYcanary0123456789wxyz"
	tests := []struct {
		name string
		env  map[string]string
		doc  string
		want string
	}{
		{"literal key under max_tokens", nil, head + "\t\tmax_tokens: " + secret + "\n",
			`line 5: models[0].max_tokens: want a whole number >= 1, got "****wxyz" (value hidden: it looks like a credential)`},
		{"literal key in a list", nil, head + "\t\tretry:\n\t\t\ton_status: [" + secret + "]\n",
			`line 6: models[0].retry.on_status[0]: want an HTTP status code from 100 to 599, got "****wxyz"`},
		{"random token without a prefix", nil, head + "\t\ttimeouts:\n\t\t\tidle: Zq8CANARYcanary0123456789wxyzABCDEF\n",
			`got "****CDEF" (value hidden: it looks like a credential)`},
		{"${VAR} holding a key", map[string]string{"WRONG": secret}, head + "\t\tmax_tokens: ${WRONG}\n",
			`line 5: models[0].max_tokens: want a whole number >= 1, got "****wxyz" (value hidden: it looks like a credential)`},
		{"${VAR} named as a secret", map[string]string{"DB_PASSWORD": "hunter2"}, "logging:\n\tlevel: ${DB_PASSWORD}\n" + head,
			`line 2: logging.level: unknown level "****" (want debug, info, warn or error) (value hidden: ${DB_PASSWORD} may hold a secret)`},
		{"${VAR:-default} named as a secret", map[string]string{"OPENAI_API_KEY": "not-a-number-123"}, head + "\t\tmax_tokens: x${OPENAI_API_KEY:-}\n",
			`got "****-123" (value hidden: ${OPENAI_API_KEY} may hold a secret)`},
		{"override variable holding a key", map[string]string{"LLMROUTER_DEFAULTS_RETRY_ATTEMPTS": secret}, minimal,
			`LLMROUTER_DEFAULTS_RETRY_ATTEMPTS: defaults.retry.attempts: want a whole number from 1 to 10 (total tries, the first included), got "****wxyz" (value hidden: it looks like a credential)`},
		{"key written as a mapping key", nil, head + "\t\t" + secret + ": 1\n",
			`line 5: models[0].****wxyz: unknown key`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cleanEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			_, err := Parse(yamlDoc(tt.doc), "test.yaml")
			if err == nil {
				t.Fatal("Parse succeeded")
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.want) {
				t.Errorf("error does not contain %q:\n%s", tt.want, msg)
			}
			for _, v := range tt.env {
				if strings.Contains(msg, v) {
					t.Errorf("error shows the environment value %q:\n%s", v, msg)
				}
			}
			if strings.Contains(msg, secret[:12]) || strings.Contains(msg, secret[4:len(secret)-4]) {
				t.Errorf("error shows the key:\n%s", msg)
			}
		})
	}
}

// TestErrorsEchoTypos: ordinary mistakes are still shown as written, since seeing
// them is how a user finds them, also when an ordinary variable supplied them.
func TestErrorsEchoTypos(t *testing.T) {
	cleanEnv(t)
	t.Setenv("OLLAMA_HOST", "localhost:11434")
	for doc, want := range map[string]string{
		"logging:\n\tlevel: loud\n" + head:                                         `unknown level "loud"`,
		head + "\t\tmax_tokens: claude-3-5-sonnet-20241022\n":                      `got "claude-3-5-sonnet-20241022"`,
		head + "\t\ttimeouts:\n\t\t\tidle: 30 seconds\n":                           `got "30 seconds"`,
		"server:\n\tlisten: https://api.openai.com/v1/chat\n" + head:               `got "https://api.openai.com/v1/chat"`,
		head + "\t- name: o\n\t\tprovider: ollama\n\t\tendpoint: ${OLLAMA_HOST}\n": `got "localhost:11434"`,
	} {
		_, err := Parse(yamlDoc(doc), "test.yaml")
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "hidden") {
			t.Errorf("error %v: want it to contain %s, unmasked", err, want)
		}
	}
}

func TestLooksLikeKey(t *testing.T) {
	keys := []string{
		"sk-proj-abcdefgh12345678", "sk-ant-api03-abcdefghij", "sk-abcdefgh", "AIzaSyA1b2c3d4e5f6",
		"AKIAIOSFODNN7EXAMPLE", "ghp_abcdefghijkl", "gsk_abcdefghijkl", "xai-abcdefghijkl",
		"Zq8CANARYcanary0123456789wxyzABCD", "0123456789abcdef0123456789abcdef01", "9f8e7d6c5b4a39281706f5e4d3c2b1a0",
	}
	for _, k := range keys {
		if !looksLikeKey(k) {
			t.Errorf("looksLikeKey(%q) = false", k)
		}
	}
	others := []string{
		"", "sk-short", "claude-3-5-sonnet-20241022", "gpt-4o-2024-08-06", "250ms", "1h30m",
		"api.openai.com:443", "https://api.openai.com/v1", "sk-proj abc defgh ijk",
		"llama3.1:8b-instruct-q4_K_M", "meta-llama-3-70b-instruct-awq-int4-gptq-v2", "abcdefghijklmnopqrstuvwxyzabcdefgh",
	}
	for _, s := range others {
		if looksLikeKey(s) {
			t.Errorf("looksLikeKey(%q) = true", s)
		}
	}
}

// A secret is hidden by what the document does with it, not only by its shape or
// its variable's name: a short or lower-case value from an innocently named
// variable is hidden wherever it is rejected once the variable, or the value, is
// used as a key (even further down the file), and scrubbed from every message.
func TestErrorsHideValuesUsedAsKeys(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		doc  string
		want string
	}{
		{"variable used as a router key, later", map[string]string{"UP": "abcdef1234567890zz"},
			"server:\n\tlisten: ${UP}\n\tapi_keys: [\"${UP}\"]\n" + head,
			`line 2: server.listen: want host:port like 127.0.0.1:4000, got "****90zz" (value hidden: ${UP} is used as a key)`},
		{"variable used as a model key", map[string]string{"CRED_A": "hunter2", "UP": "lowercase0123456789"},
			head + "\t\tapi_key: ${UP}\n\t\ttimeouts: {idle: \"${UP}\"}\n",
			`line 6: models[0].timeouts.idle: want a duration like 250ms or 2m, got "****6789" (value hidden: ${UP} is used as a key)`},
		{"short variable in a secret header", map[string]string{"PK": "abc123"},
			"defaults:\n\theaders: {force: {X-Portkey-Api-Key: \"${PK}\"}}\n" + head + "\t\tmax_tokens: ${PK}\n",
			`line 8: models[0].max_tokens: want a whole number >= 1, got "****" (value hidden: ${PK} is used as a key)`},
		{"the same literal as a key", nil,
			head + "\t\tapi_key: hunter2hunter2\n\t\tmax_tokens: hunter2hunter2\n",
			`line 6: models[0].max_tokens: want a whole number >= 1, got "****ter2" (value hidden: it holds a configured secret)`},
		{"a key inside another message", map[string]string{"UP": "abcdef1234567890zz"},
			head + "\t\tapi_key: ${UP}\n\t\ttransforms:\n\t\t\t- regex: \"(${UP}\"\n\t\t\t\treplace: x\n",
			"missing closing ): `(****90zz`"},
		{"a key field never echoes", map[string]string{"K": "short key"},
			head + "\t\tapi_key: ${K}\n",
			`line 5: models[0].api_key: key contains spaces or control characters (a stray newline?) (value hidden: it is a key)`},
		{"variable used as a named router key", map[string]string{"UP": "abcdef1234567890zz"},
			"server:\n\tlisten: ${UP}\n\tapi_keys:\n\t\t- {name: team, key: \"${UP}\"}\n" + head,
			`line 2: server.listen: want host:port like 127.0.0.1:4000, got "****90zz" (value hidden: ${UP} is used as a key)`},
		{"a named key elsewhere, literally", nil,
			"server:\n\tapi_keys:\n\t\t- {name: team, key: teamkey0123zz}\n" + head + "\t\tmax_tokens: teamkey0123zz\n",
			`line 9: models[0].max_tokens: want a whole number >= 1, got "****23zz" (value hidden: it holds a configured secret)`},
		{"variable used as the metrics key", map[string]string{"MK": "metricskey0123zz"},
			"server:\n\tmetrics_key: ${MK}\n\tmetrics_listen: ${MK}\n" + head,
			`line 3: server.metrics_listen: want host:port like 127.0.0.1:4000, got "****23zz" (value hidden: ${MK} is used as a key)`},
		{"the store's password elsewhere", nil,
			"limits:\n\tstore: redis://app:redispw0123zz@redis:6379/0\n" + head + "\t\tupstream_model: x\n\t\tmax_tokens: redispw0123zz\n",
			`line 9: models[0].max_tokens: want a whole number >= 1, got "****23zz" (value hidden: it holds a configured secret)`},
		{"a variable in the store URL", map[string]string{"RP": "redispw0123zz"},
			"limits:\n\tstore: redis://:${RP}@redis:6379/0\n" + head + "\t\ttimeouts: {idle: \"${RP}\"}\n",
			`line 8: models[0].timeouts.idle: want a duration like 250ms or 2m, got "****23zz" (value hidden: ${RP} is used as a key)`},
		{"a store URL from a variable", map[string]string{"STORE": "redis://:redispw0123zz@redis:6379/nope"},
			"limits:\n\tstore: ${STORE}\n" + head,
			`line 2: limits.store: invalid Redis URL: redis: invalid database number: "nope" (value hidden: it is a key)`},
		{"a passphrase variable", map[string]string{"DB_PASSPHRASE": "open sesame"},
			head + "\t\ttimeouts: {total: \"${DB_PASSPHRASE}\"}\n",
			`(value hidden: ${DB_PASSPHRASE} may hold a secret)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cleanEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			_, err := Parse(yamlDoc(tt.doc), "test.yaml")
			if err == nil {
				t.Fatal("Parse succeeded")
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.want) {
				t.Errorf("error does not contain %q:\n%s", tt.want, msg)
			}
			for _, v := range tt.env {
				if strings.Contains(msg, v) {
					t.Errorf("error shows the value %q:\n%s", v, msg)
				}
			}
		})
	}
}

// The summary `check` prints masks a value that holds a key, wherever it is.
func TestSummaryHidesKeysInOtherFields(t *testing.T) {
	cleanEnv(t)
	t.Setenv("UP", "lowercase0123456789")
	c := mustParse(t, head+"\t\tapi_key: ${UP}\n\t\tupstream_model: ${UP}\n\t- name: azure\n\t\tprovider: openai\n\t\tendpoint: https://x/v1\n\t\tupstream_model: 0123456789abcdef0123456789abcdef\n")
	s := Summary(c)
	for _, secret := range []string{"lowercase0123", "0123456789abcdef0123"} {
		if strings.Contains(s, secret) {
			t.Errorf("summary shows %q:\n%s", secret, s)
		}
	}
	if !strings.Contains(s, "****6789") {
		t.Errorf("summary lacks the masked key:\n%s", s)
	}
}

// The summary shows named keys by name only, and never the metrics key or the
// store's password; other values holding them are masked.
func TestSummaryHidesNewSecrets(t *testing.T) {
	cleanEnv(t)
	t.Setenv("TEAM", "teamkey0123456789zz")
	c := mustParse(t, `
server:
	metrics_key: metricskey0123456789
	api_keys:
		- plain-key-0123456789
		- {name: team, key: "${TEAM}", models: [m], rpm: 5}
limits:
	store: redis://app:redispw0123456@redis:6379/0
models:
	- name: m
		provider: openai
		endpoint: https://example.com/v1
		upstream_model: ${TEAM}
		id: m-main
`)
	s := Summary(c)
	for _, secret := range []string{"teamkey0123", "metricskey", "redispw0123", "6789zz", "3456789"} {
		if strings.Contains(s, secret) {
			t.Errorf("summary shows %q:\n%s", secret, s)
		}
	}
	for _, want := range []string{
		"server api_keys: 2 (****6789, team)", "redis://app:xxxxx@redis:6379/0", "a bearer key required (not shown)",
		"  team  m       rpm 5",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("summary lacks %q:\n%s", want, s)
		}
	}
}
