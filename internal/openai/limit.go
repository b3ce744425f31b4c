package openai

import (
	"net/url"
	"strings"
)

// LimitField names the Chat Completions request member that carries the output
// token limit (README §1.1): OpenAI's reasoning models accept only the current
// field, max_completion_tokens, while OpenAI-compatible servers (Ollama's /v1,
// vLLM, llama.cpp, LM Studio and others) read the deprecated max_tokens and
// ignore the other, so a limit sent in the wrong one is silently lost (issue 9
// item 2).
type LimitField string

const (
	// MaxCompletionTokens is OpenAI's current field.
	MaxCompletionTokens LimitField = "max_completion_tokens"
	// MaxTokens is the deprecated field OpenAI-compatible servers read.
	MaxTokens LimitField = "max_tokens"
)

// LimitFieldFor is the field the server at endpoint reads: max_completion_tokens
// for OpenAI's own API (api.openai.com) and Azure OpenAI (*.openai.azure.com),
// whose reasoning models refuse max_tokens with a 400 unsupported_parameter;
// max_tokens for every other server, which is what OpenAI-compatible servers
// have always read. A server that reads the other field is configured
// explicitly.
func LimitFieldFor(endpoint string) LimitField {
	u, err := url.Parse(endpoint)
	if err != nil {
		return MaxTokens
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if host == "api.openai.com" || strings.HasSuffix(host, ".openai.azure.com") {
		return MaxCompletionTokens
	}
	return MaxTokens
}
