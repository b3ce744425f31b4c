package translate

// OpenAI legacy Completions client, Responses upstream (docs/protocols.md §2, §15).
//
// The request is read as a Chat request with one user message and converted by
// the Chat→Responses code (openai_responses.go); the answers go through the hub
// (decode_responses.go, encode_openai.go). The decisions of completions_anthropic.go
// hold: one string prompt, max_tokens defaulting to the legacy 16 (the Responses
// minimum too), n other than 1 and echo:true refused, suffix, best_of, logprobs,
// logit_bias, seed and penalties dropped; stop is dropped as well, since the
// Responses API has none.

import (
	"strconv"

	"github.com/tidwall/gjson"

	"github.com/llmrouter/llmrouter/internal/responses"
	"github.com/llmrouter/llmrouter/internal/wire"
)

func init() {
	register(wire.OpenAICompletions, wire.OpenAIResponses, func(o Options) Translator {
		t := &completionsToResponses{opt: o}
		t.init(&t.dec, &t.enc)
		return t
	})
}

// completionsToResponses serves a legacy Completions client from a Responses
// upstream through the Chat converter.
type completionsToResponses struct {
	answer
	opt     Options
	dropped drops
	dec     responsesDecoder
	enc     completionsEncoder
}

// Dropped implements Translator.
func (t *completionsToResponses) Dropped() []string { return t.dropped }

// Request implements Translator.
func (t *completionsToResponses) Request(body []byte) ([]byte, error) {
	t.dropped = nil
	r, err := parseObject(body)
	if err != nil {
		return nil, err
	}
	req := legacyRequest{maxTokens: gjson.Parse(strconv.Itoa(defaultCompletionMaxTokens))}
	if err := eachKey(r, func(key string, v gjson.Result) error { return t.field(&req, key, v) }); err != nil {
		return nil, err
	}
	if req.prompt == nil {
		return nil, reqErr("prompt", "is required")
	}
	c := chatResponses{opt: t.opt, drops: &t.dropped, sawMessages: true}
	c.add(responses.Message{Type: responses.ItemMessage, Role: "user", Content: *req.prompt})
	for i, v := range append([]gjson.Result{req.maxTokens}, req.shared[:]...) {
		key := "max_tokens"
		if i > 0 {
			key = legacyChatFields[i-1]
		}
		if !v.Exists() {
			continue
		}
		if err := c.field(key, v); err != nil {
			return nil, err
		}
	}
	out, err := c.finish()
	if err != nil {
		return nil, err
	}
	t.enc.includeUsage = c.includeUsage
	return marshal("responses request", out)
}

// field handles one top-level member of the request.
func (t *completionsToResponses) field(req *legacyRequest, key string, v gjson.Result) error {
	switch key {
	case "prompt":
		s, err := singlePrompt(v)
		req.prompt = &s
		return err
	case "max_tokens":
		req.maxTokens = v
	case "n":
		if n, err := wantInt(v, key); err != nil || n != 1 {
			return reqErr(key, "n must be 1: a Responses upstream returns one completion")
		}
	case "echo":
		if b, err := wantBool(v, key); err != nil || b {
			return reqErr(key, "echo is not supported with a Responses upstream")
		}
	default:
		for i, name := range legacyChatFields {
			if key == name {
				req.shared[i] = v
				return nil
			}
		}
		t.dropped.add(jsonPath("", key))
	}
	return nil
}
