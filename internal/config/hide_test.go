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
			`LLMROUTER_DEFAULTS_RETRY_ATTEMPTS: defaults.retry.attempts: want a whole number >= 1, got "****wxyz" (value hidden: it looks like a credential)`},
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
		"Zq8CANARYcanary0123456789wxyzABCD",
	}
	for _, k := range keys {
		if !looksLikeKey(k) {
			t.Errorf("looksLikeKey(%q) = false", k)
		}
	}
	others := []string{
		"", "sk-short", "claude-3-5-sonnet-20241022", "gpt-4o-2024-08-06", "250ms", "1h30m",
		"api.openai.com:443", "https://api.openai.com/v1", "sk-proj abc defgh ijk",
		"llama3.1:8b-instruct-q4_K_M", "0123456789abcdef0123456789abcdef01",
	}
	for _, s := range others {
		if looksLikeKey(s) {
			t.Errorf("looksLikeKey(%q) = true", s)
		}
	}
}
