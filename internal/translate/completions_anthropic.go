package translate

// OpenAI legacy Completions client, Anthropic Messages upstream (docs/protocols.md §2).
//
// The request is read as an OpenAI Chat request with one user message and
// converted by the Chat→Anthropic code (openai_anthropic.go); the answers go
// through the hub (decode_anthropic.go, encode_completions.go).
//
// Decisions where the digest is silent:
//   - prompt must be a string or an array of exactly one string; several prompts or
//     token arrays are a RequestError (there is one completion per request).
//   - max_tokens is the client's, else 16, the default of the legacy API the client
//     speaks; Options.MaxTokens does not apply here.
//   - n other than 1 and echo:true are a RequestError; suffix, best_of, logprobs,
//     logit_bias, seed, penalties and unknown fields are dropped and recorded.
//   - The prompt becomes a user message: a chat model answers it rather than
//     continuing it, the inherent loss of serving /v1/completions from a chat API.
//   - The stream carries finish_reason on an extra chunk with text "" after the last
//     text chunk: Anthropic reports the reason only after the text (message_delta).

import (
	"strconv"

	"github.com/tidwall/gjson"

	"github.com/llmrouter/llmrouter/internal/anthropic"
	"github.com/llmrouter/llmrouter/internal/wire"
)

func init() {
	register(wire.OpenAICompletions, wire.AnthropicMessages, func(o Options) Translator {
		t := &completionsToAnthropic{opt: o}
		t.init(&t.dec, &t.enc)
		return t
	})
}

// defaultCompletionMaxTokens is the legacy Completions default for max_tokens.
const defaultCompletionMaxTokens = 16

// legacyChatFields are the members a Completions request passes on as they are to
// the Chat converter (the prompt becomes the messages; max_tokens has a default).
var legacyChatFields = [...]string{"model", "temperature", "top_p", "stop", "stream", "stream_options", "user"}

// completionsToAnthropic serves a legacy Completions client from an Anthropic
// upstream through the Chat converter.
type completionsToAnthropic struct {
	answer
	opt     Options
	dropped drops
	dec     anthropicDecoder
	enc     completionsEncoder
}

// legacyRequest is a Completions request read for the Chat converter.
type legacyRequest struct {
	prompt    *string
	maxTokens gjson.Result
	shared    [len(legacyChatFields)]gjson.Result
}

// Dropped implements Translator.
func (t *completionsToAnthropic) Dropped() []string { return t.dropped }

// Request implements Translator.
func (t *completionsToAnthropic) Request(body []byte) ([]byte, error) {
	t.dropped = nil
	req, err := readLegacy(body, "an Anthropic upstream", &t.dropped)
	if err != nil {
		return nil, err
	}
	out, err := t.chat(req)
	if err != nil {
		return nil, err
	}
	return marshal("anthropic request", out)
}

// chat converts the request as the Chat converter would a Chat request made of
// the shared fields, one user message and max_tokens, in that request's order:
// model, messages, max_tokens, then the rest.
func (t *completionsToAnthropic) chat(req *legacyRequest) (*anthropic.Request, error) {
	c := chatConv{opt: t.opt, drops: &t.dropped}
	apply := func(key string, v gjson.Result) error {
		if !v.Exists() {
			return nil
		}
		return c.field(key, v)
	}
	if err := apply("model", req.shared[0]); err != nil {
		return nil, err
	}
	c.sawMessages = true
	c.push("user", []any{anthropic.TextBlock{Type: "text", Text: *req.prompt}}, nil, true)
	if err := apply("max_tokens", req.maxTokens); err != nil {
		return nil, err
	}
	for i := 1; i < len(legacyChatFields); i++ {
		if err := apply(legacyChatFields[i], req.shared[i]); err != nil {
			return nil, err
		}
	}
	out, err := c.finish()
	t.enc.includeUsage = c.includeUsage
	return out, err
}

// readLegacy reads a Completions request for a converter to upstream (named
// as "an Anthropic upstream" in its errors): its one prompt, max_tokens (the
// Completions default if absent) and the members it shares with Chat; n and
// echo only as the one completion an upstream returns; the rest (suffix,
// best_of, logprobs, logit_bias, seed, penalties, …) is dropped.
func readLegacy(body []byte, upstream string, dropped *drops) (*legacyRequest, error) {
	r, err := parseObject(body)
	if err != nil {
		return nil, err
	}
	req := &legacyRequest{maxTokens: gjson.Parse(strconv.Itoa(defaultCompletionMaxTokens))}
	if err := eachKey(r, func(key string, v gjson.Result) error { return req.field(key, v, upstream, dropped) }); err != nil {
		return nil, err
	}
	if req.prompt == nil {
		return nil, reqErr("prompt", "is required")
	}
	return req, nil
}

// field handles one top-level member of the request.
func (req *legacyRequest) field(key string, v gjson.Result, upstream string, dropped *drops) error {
	switch key {
	case "prompt":
		s, err := singlePrompt(v)
		req.prompt = &s
		return err
	case "max_tokens":
		req.maxTokens = v
	case "n":
		if n, err := wantInt(v, key); err != nil || n != 1 {
			return reqErr(key, "n must be 1: %s returns one completion", upstream)
		}
	case "echo":
		if b, err := wantBool(v, key); err != nil || b {
			return reqErr(key, "echo is not supported with %s", upstream)
		}
	default:
		for i, name := range legacyChatFields {
			if key == name {
				req.shared[i] = v
				return nil
			}
		}
		dropped.add(jsonPath("", key))
	}
	return nil
}

// singlePrompt reads a prompt that is one string, possibly inside an array.
func singlePrompt(v gjson.Result) (string, error) {
	if v.IsArray() {
		a := v.Array()
		if len(a) != 1 || a[0].Type != gjson.String {
			return "", reqErr("prompt", "must be a string or an array of one string")
		}
		return a[0].Str, nil
	}
	return wantString(v, "prompt")
}
