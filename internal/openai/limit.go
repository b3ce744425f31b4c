package openai

import (
	"net/url"
	"slices"
	"strings"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"
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

// FitLimit returns a Chat Completions request of a client, passed through to a
// server that reads the output limit from field, with the limit where that
// server reads it: a max_completion_tokens becomes max_tokens for a server
// that reads max_tokens (Ollama's /v1 and other OpenAI-compatible servers
// ignore max_completion_tokens, and the answer would run past the cap). Nothing
// is lost: the one member is renamed. A request that sets max_tokens itself, a
// server that reads max_completion_tokens (which OpenAI also takes
// max_tokens for, on every model but reasoning ones, which refuse it with a
// 400 rather than ignore it), and legacy Completions (max_tokens only) are left
// as they are. body is never written into.
func (a API) FitLimit(body []byte, field string) ([]byte, error) {
	if a.completions || LimitField(field) != MaxTokens {
		return body, nil
	}
	r := gjson.GetManyBytes(body, string(MaxCompletionTokens), string(MaxTokens))
	if !r[0].Exists() || r[1].Exists() {
		return body, nil
	}
	out, err := sjson.SetRawBytes(slices.Clone(body), string(MaxTokens), []byte(r[0].Raw))
	if err != nil {
		return nil, err
	}
	return sjson.DeleteBytes(out, string(MaxCompletionTokens))
}
