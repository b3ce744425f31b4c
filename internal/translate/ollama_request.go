package translate

// What the three request converters towards Ollama's native API share
// (openai_ollama.go, anthropic_ollama.go, completions_ollama.go): the state every
// one keeps, the sampling options, the think map, and images.

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/llmrouter/llmrouter/internal/ollama"
)

// ollamaBase is embedded by each translator towards Ollama: the options, what the
// last Request dropped, and the client's stream_options.include_usage.
type ollamaBase struct {
	opt          Options
	dropped      drops
	includeUsage bool
}

// Dropped lists the JSON paths of client fields the last Request did not send.
func (b *ollamaBase) Dropped() []string { return b.dropped }

// model is the upstream model: Options.Model, else the client's own.
func (b *ollamaBase) model(client gjson.Result) string {
	if b.opt.Model != "" {
		return b.opt.Model
	}
	return client.String()
}

// streamOptions reads an OpenAI client's stream_options: include_usage is
// remembered for the stream; other members (include_obfuscation) are dropped.
func (b *ollamaBase) streamOptions(v gjson.Result) error {
	if err := wantObject(v, "stream_options"); err != nil {
		return err
	}
	return eachKey(v, func(k string, f gjson.Result) error {
		if k != "include_usage" {
			b.dropped.add(jsonPath("stream_options", k))
			return nil
		}
		var err error
		b.includeUsage, err = wantBool(f, "stream_options.include_usage")
		return err
	})
}

// dropOthers records the non-null members of obj that are not in keep.
func (b *ollamaBase) dropOthers(path string, obj gjson.Result, keep ...string) {
	_ = eachKey(obj, func(k string, _ gjson.Result) error {
		if !slices.Contains(keep, k) {
			b.dropped.add(jsonPath(path, k))
		}
		return nil
	})
}

// ollamaNumber returns the field of o for a numeric option whose client name
// equals Ollama's, or nil for any other name.
func ollamaNumber(o *ollama.Options, name string) *json.RawMessage {
	switch name {
	case "temperature":
		return &o.Temperature
	case "top_p":
		return &o.TopP
	case "top_k":
		return &o.TopK
	case "seed":
		return &o.Seed
	case "frequency_penalty":
		return &o.FrequencyPenalty
	case "presence_penalty":
		return &o.PresencePenalty
	}
	return nil
}

// setOllamaNumber stores the client's number v as option name.
func setOllamaNumber(o *ollama.Options, name string, v gjson.Result, path string) error {
	n, err := wantNumber(v, path)
	if err == nil {
		*ollamaNumber(o, name) = n
	}
	return err
}

// ollamaOptionsOrNil returns nil for options that set nothing, so that "options"
// is omitted.
func ollamaOptionsOrNil(o *ollama.Options) *ollama.Options {
	if o.NumPredict == nil && o.Temperature == nil && o.TopP == nil && o.TopK == nil &&
		o.Seed == nil && o.Stop == nil && o.FrequencyPenalty == nil && o.PresencePenalty == nil {
		return nil
	}
	return o
}

// ollamaThink maps a reasoning effort to Ollama's think value for model as
// Ollama's own OpenAI layer does (docs/protocols.md §10): none→false, minimal→"low",
// low/medium/high unchanged, xhigh and max→"max"; but a level only for a model
// that takes one (gpt-oss), and true for any other, which would refuse the level
// with a 400 (issue 9 item 1). ok is false for any other effort.
func ollamaThink(effort, model string) (json.RawMessage, bool) {
	var level string
	switch effort {
	case "none":
		return json.RawMessage(`false`), true
	case "minimal":
		level = "low"
	case "low", "medium", "high":
		level = effort
	case "xhigh", "max":
		level = "max"
	default:
		return nil, false
	}
	if !ollama.TakesThinkLevel(model) {
		return json.RawMessage(`true`), true
	}
	return json.RawMessage(`"` + level + `"`), true
}

// ollamaImage returns the bare base64 of an image URL: a data: URL is stripped of
// its prefix; http(s) URLs are a RequestError, since the router never fetches them
// and Ollama accepts no URLs (docs/protocols.md §8).
func ollamaImage(u, path string) (string, error) {
	if _, data, ok := parseDataURL(u); ok {
		return data, nil
	}
	if l := strings.ToLower(u); strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://") {
		return "", reqErr(path, "image URLs are not supported by ollama upstreams; send base64 data")
	}
	return "", reqErr(path, "must be a base64 data: URL")
}

// ollamaN accepts n only when it is 1: Ollama generates one choice.
func ollamaN(v gjson.Result, path string) error {
	n, err := wantInt(v, path)
	if err == nil && n != 1 {
		err = reqErr(path, "only n=1 is supported by ollama upstreams")
	}
	return err
}
