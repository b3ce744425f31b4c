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
	req, err := readLegacy(body, "a Responses upstream", &t.dropped)
	if err != nil {
		return nil, err
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
