package translate

// OpenAI legacy Completions client → Ollama /api/generate upstream (docs/protocols.md §2, §4.2):
// the translator and the request conversion; its answers go through the hub
// (decode_ollama.go, encode_completions.go).

import (
	"encoding/json"
	"strconv"

	"github.com/tidwall/gjson"

	"github.com/llmrouter/llmrouter/internal/ollama"
	"github.com/llmrouter/llmrouter/internal/wire"
)

func init() {
	register(wire.OpenAICompletions, wire.OllamaGenerate, func(o Options) Translator {
		t := &completionsToOllama{ollamaBase: ollamaBase{opt: o}, dec: newOllamaGenerateDecoder(o.Model)}
		t.init(&t.dec, &t.enc)
		return t
	})
}

// completionsDefaultMaxTokens is the legacy API's max_tokens default (docs/protocols.md §2). A
// client that sends none expects 16 tokens, not Ollama's unbounded default.
const completionsDefaultMaxTokens = 16

// completionsToOllama translates one legacy Completions request to /api/generate and
// its answer back. The prompt is sent without "raw", so Ollama applies the model's
// template, as Ollama's own /v1/completions does; a route can set $.raw to change that.
type completionsToOllama struct {
	answer
	ollamaBase
	dec ollamaGenerateDecoder
	enc completionsEncoder
}

// Request converts a Completions body to an Ollama /api/generate body.
func (t *completionsToOllama) Request(body []byte) ([]byte, error) {
	out, err := t.request(body)
	t.enc.includeUsage = t.includeUsage
	return out, err
}

func (t *completionsToOllama) request(body []byte) ([]byte, error) {
	t.dropped, t.includeUsage = nil, false
	req, err := parseObject(body)
	if err != nil {
		return nil, err
	}
	if !req.Get("prompt").Exists() {
		return nil, reqErr("prompt", "is required")
	}
	out := ollama.GenerateRequest{Model: t.model(req.Get("model"))}
	opts := ollama.Options{NumPredict: json.RawMessage(strconv.Itoa(completionsDefaultMaxTokens))}
	err = eachKey(req, func(key string, v gjson.Result) error {
		return t.field(key, v, &out, &opts)
	})
	if err != nil {
		return nil, err
	}
	out.Options = &opts
	return marshal("ollama request", out)
}

// field converts one top-level member of the client request.
func (t *completionsToOllama) field(key string, v gjson.Result, out *ollama.GenerateRequest, opts *ollama.Options) error {
	var err error
	switch key {
	case "model":
	case "prompt":
		out.Prompt, err = completionsPrompt(v)
	case "suffix":
		out.Suffix, err = wantString(v, key)
	case "max_tokens":
		opts.NumPredict, err = wantNumber(v, key)
	case "temperature", "top_p", "seed", "frequency_penalty", "presence_penalty":
		err = setOllamaNumber(opts, key, v, key)
	case "stop":
		opts.Stop, err = stringList(v, key)
	case "stream":
		out.Stream, err = wantBool(v, key)
	case "stream_options":
		err = t.streamOptions(v)
	case "n":
		err = ollamaN(v, key)
	case "echo":
		if v.Type == gjson.True {
			t.dropped.add(key)
		}
	default: // best_of, logprobs, logit_bias, user, …
		t.dropped.add(jsonPath(key))
	}
	return err
}

// completionsPrompt accepts a string or an array of exactly one string; Ollama
// takes one string prompt, and token-id prompts cannot be expressed (docs/protocols.md §2).
func completionsPrompt(v gjson.Result) (string, error) {
	if v.Type == gjson.String {
		return v.Str, nil
	}
	if arr := v.Array(); v.IsArray() && len(arr) == 1 && arr[0].Type == gjson.String {
		return arr[0].Str, nil
	}
	return "", reqErr("prompt", "ollama upstreams accept one string prompt only")
}
