package translate

// An Anthropic client's count_tokens (POST /v1/messages/count_tokens) on an
// openai upstream (issue 9 item 12): OpenAI counts a request's input tokens with
// the Responses API (POST /v1/responses/input_tokens), so the request is
// converted as for an answer, to Chat Completions (what the model's transforms
// are written for and apply to), and then, transformed, to the Responses request
// whose tokens are counted, with only the members the count takes (openai-go's
// InputTokenCountParams). The answer {"object":"response.input_tokens",
// "input_tokens":N} becomes Anthropic's {"input_tokens":N}.

import (
	"encoding/json"
	"errors"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/llmrouter/llmrouter/internal/anthropic"
	"github.com/llmrouter/llmrouter/internal/responses"
	"github.com/llmrouter/llmrouter/internal/sse"
	"github.com/llmrouter/llmrouter/internal/wire"
)

func init() {
	for _, up := range []wire.Protocol{wire.OpenAIChat, wire.OpenAIResponses} {
		registerOp(wire.CountTokens, wire.AnthropicMessages, up, func(o Options) Translator {
			gen := o
			gen.Op = wire.Generate
			return &countToOpenAI{opt: o, up: up, gen: New(wire.AnthropicMessages, up, gen)}
		})
	}
}

// Finisher is a Translator whose upstream request is made in two steps: Request
// converts the client's body into the request the model's transforms apply to
// (its answer's request), and Finish turns the transformed body into the one
// sent.
type Finisher interface {
	Finish(body []byte) ([]byte, error)
}

// countMembers are the members of a Responses request that the input token count
// takes (openai-go responses.InputTokenCountParams), in the order written.
var countMembers = []string{"model", "instructions", "input", "tools", "tool_choice", "parallel_tool_calls", "reasoning", "text", "truncation"}

// countToOpenAI translates one count_tokens request for an openai upstream,
// called with Chat Completions or, for a model that serves only it, Responses.
type countToOpenAI struct {
	opt Options
	up  wire.Protocol // the protocol the model's answers are requested in
	gen Translator    // Anthropic → up, as for an answer
}

// errCountStream is a stream asked of a count: counts are never streamed.
var errCountStream = errors.New("token counts are never streamed")

// Request converts the Anthropic count request to the model's request (Chat or
// Responses), as for an answer: Finish makes the count request of it.
func (t *countToOpenAI) Request(body []byte) ([]byte, error) { return t.gen.Request(body) }

// Dropped lists what the model's request could not carry.
func (t *countToOpenAI) Dropped() []string { return t.gen.Dropped() }

// Finish converts a (transformed) Chat or Responses request to the Responses
// input token count request.
func (t *countToOpenAI) Finish(req []byte) ([]byte, error) {
	full := req
	if t.up == wire.OpenAIChat {
		var err error
		if full, err = New(wire.OpenAIChat, wire.OpenAIResponses, Options{Model: t.opt.Model}).Request(req); err != nil {
			return nil, err
		}
	}
	var err error
	out := []byte("{}")
	r := gjson.GetManyBytes(full, countMembers...)
	for i, m := range countMembers {
		if r[i].Exists() {
			if out, err = sjson.SetRawBytes(out, m, []byte(r[i].Raw)); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// Response converts the count's answer to Anthropic's.
func (t *countToOpenAI) Response(body []byte) ([]byte, error) {
	if !json.Valid(body) {
		return nil, &ShapeError{Protocol: wire.OpenAIResponses, Reason: "not JSON"}
	}
	r := gjson.GetManyBytes(body, "error", "object", "input_tokens")
	switch {
	case r[0].IsObject():
		return nil, &StreamError{Type: r[0].Get("type").Str, Message: r[0].Get("message").Str}
	case r[1].Str != responses.ObjectInputTokens || r[2].Type != gjson.Number:
		return nil, &ShapeError{Protocol: wire.OpenAIResponses, Reason: "not an input token count"}
	}
	return marshal("token count", anthropic.TokenCount{InputTokens: r[2].Int()})
}

// Stream is never called: counts are not streamed.
func (t *countToOpenAI) Stream(dst []byte, _ sse.Event) ([]byte, error) { return dst, errCountStream }

// End is never called: counts are not streamed.
func (t *countToOpenAI) End(dst []byte) ([]byte, error) { return dst, errCountStream }

// Done reports false: a count is whole or nothing.
func (t *countToOpenAI) Done() bool { return false }

// Usage is zero: counting generates nothing and bills no tokens.
func (t *countToOpenAI) Usage() Usage { return Usage{} }
