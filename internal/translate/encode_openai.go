package translate

// The OpenAI encoders: Chat Completions (docs/protocols.md §1.2-1.3, §13.1), a reply as a
// chat.completion and deltas as chat.completion.chunk events ending in [DONE];
// and legacy Completions (docs/protocols.md §2), a reply as a text_completion and deltas as
// text_completion chunks. The legacy API has only text: reasoning, refusals and
// tool calls have no form in it and are not sent.

import (
	"encoding/json"

	"github.com/llmrouter/llmrouter/internal/openai"
)

// nullUsage is the "usage": null of chunks before the usage chunk.
var nullUsage any = json.RawMessage("null")

// openAIStream is what every chunk of an OpenAI stream repeats, and the client's
// stream_options.include_usage.
type openAIStream struct {
	includeUsage bool
	id, model    string
	created      int64
}

// begin takes the stream's id (the upstream's with prefix, or a new one), model and creation
// time from the start delta.
func (s *openAIStream) begin(o *out, d *delta, prefix string) {
	s.id, s.model, s.created = o.env.answerID(d.id, prefix), d.model, o.env.created(d.created)
}

// stamp gives a chunk that comes before the upstream's start (a broken stream) a
// creation time.
func (s *openAIStream) stamp(o *out) {
	if s.created == 0 {
		s.created = o.env.created(0)
	}
}

// chatEncoder writes chat.completion.chunk events with the chunk it keeps, made
// for the first one (a non-streaming answer has no use for it).
type chatEncoder struct {
	openAIStream
	buf *chatChunkBuf
	// bare is the index of the last tool call started, plus one, while none of
	// its arguments has been sent; 0 otherwise.
	bare int
}

// chatChunkBuf is a chunk of one choice with at most one tool call.
type chatChunkBuf struct {
	c      openai.ChatChunk
	choice [1]openai.ChunkChoice
	call   [1]openai.ToolCallDelta
}

// reply implements encoder: reasoning goes to the non-standard reasoning_content,
// which OpenAI-compatible clients read; a missing tool call id is made up.
func (e *chatEncoder) reply(r *reply, env *env) ([]byte, error) {
	msg := openai.ChatMessage{Role: "assistant", ReasoningContent: r.reasoning}
	if r.hasText {
		msg.Content = &r.text
	}
	if r.refusal != "" {
		msg.Refusal = &r.refusal
	}
	if len(r.tools) > 0 {
		msg.ToolCalls = make([]openai.ToolCall, 0, len(r.tools))
	}
	for _, tc := range r.tools {
		msg.ToolCalls = append(msg.ToolCalls, openai.ToolCall{ID: env.id(tc.id, "call_"), Type: "function",
			Function: openai.FunctionCall{Name: tc.name, Arguments: tc.args}})
	}
	return marshal("chat completion", openai.ChatCompletion{
		ID: env.answerID(r.id, "chatcmpl-"), Object: openai.ObjectChatCompletion, Created: env.created(r.created), Model: r.model,
		Choices: []openai.ChatChoice{{Message: msg, Logprobs: logprobs(r.logprobs), FinishReason: r.finish.openAI()}},
		Usage:   openAIUsage(r.usage, r.cache),
	})
}

// write implements encoder: a role chunk first, then one chunk per non-empty
// fragment, a finish chunk with an empty delta, the usage chunk when the client
// asked for it, and [DONE].
func (e *chatEncoder) write(o *out, d *delta) {
	if e.buf == nil {
		e.buf = new(chatChunkBuf)
	}
	switch d.kind {
	case kindStart:
		e.begin(o, d, "chatcmpl-")
		empty := ""
		e.chunk(o, openai.ChunkDelta{Role: "assistant", Content: &empty}, nil, nil)
	case kindText:
		if d.text != "" {
			e.chunk(o, openai.ChunkDelta{Content: &d.text}, nil, d.logprobs)
		}
	case kindRefusal:
		if d.text != "" {
			e.chunk(o, openai.ChunkDelta{Refusal: &d.text}, nil, nil)
		}
	case kindReasoning:
		if d.text != "" {
			e.chunk(o, openai.ChunkDelta{ReasoningContent: d.text}, nil, nil)
		}
	case kindToolCall:
		e.endBare(o)
		e.buf.call[0] = openai.ToolCallDelta{Index: d.tool, ID: o.env.id(d.id, "call_"), Type: "function",
			Function: openai.FunctionCallDelta{Name: d.name, Arguments: d.text}}
		e.chunk(o, openai.ChunkDelta{ToolCalls: e.buf.call[:]}, nil, nil)
		if d.text == "" {
			e.bare = d.tool + 1
		}
	case kindToolArgs:
		if d.text != "" {
			if e.bare == d.tool+1 {
				e.bare = 0
			}
			e.arguments(o, d.tool, d.text)
		}
	case kindFinish:
		e.endBare(o)
		if d.text != "" {
			e.chunk(o, openai.ChunkDelta{Content: &d.text}, nil, nil)
		}
		reason := d.finish.openAI()
		e.chunk(o, openai.ChunkDelta{}, &reason, nil)
	case kindDone:
		e.endBare(o)
		if e.includeUsage {
			o.event("", openai.ChatChunk{ID: e.id, Object: openai.ObjectChatChunk, Created: o.env.created(e.created),
				Model: e.model, Choices: []openai.ChunkChoice{}, Usage: openAIUsage(d.usage, d.cache)})
		}
		o.raw(doneData)
	}
}

// arguments appends a fragment of tool call index's arguments.
func (e *chatEncoder) arguments(o *out, index int, args string) {
	e.buf.call[0] = openai.ToolCallDelta{Index: index, Function: openai.FunctionCallDelta{Arguments: args}}
	e.chunk(o, openai.ChunkDelta{ToolCalls: e.buf.call[:]}, nil, nil)
}

// endBare gives the last tool call, when it ends without arguments, the
// arguments "{}", as a whole answer does: Anthropic streams a call without input
// as one empty input_json_delta, and clients parse what they accumulated
// (the openai SDK's runTools fails on JSON.parse(""), issue 9 item 6).
func (e *chatEncoder) endBare(o *out) {
	if e.bare > 0 {
		e.arguments(o, e.bare-1, "{}")
		e.bare = 0
	}
}

// chunk appends one chunk with a single choice. With include_usage every chunk
// before the usage chunk says "usage": null (docs/protocols.md §1.3).
func (e *chatEncoder) chunk(o *out, d openai.ChunkDelta, finish *string, tokens json.RawMessage) {
	e.stamp(o)
	b := e.buf
	b.choice[0] = openai.ChunkChoice{Delta: d, Logprobs: logprobs(tokens), FinishReason: finish}
	b.c = openai.ChatChunk{ID: e.id, Object: openai.ObjectChatChunk, Created: e.created, Model: e.model,
		Choices: b.choice[:]}
	if e.includeUsage {
		b.c.Usage = nullUsage
	}
	o.event("", &b.c)
}

// logprobs is a choice's logprobs for token logprobs, nil (null) for none.
func logprobs(tokens json.RawMessage) *openai.Logprobs {
	if tokens == nil {
		return nil
	}
	return &openai.Logprobs{Content: tokens}
}

// completionsEncoder writes text_completion chunks with the chunk it keeps, made
// for the first one.
type completionsEncoder struct {
	openAIStream
	buf *completionChunkBuf
}

// completionChunkBuf is a chunk of one choice.
type completionChunkBuf struct {
	c      openai.TextCompletion
	choice [1]openai.CompletionChoice
}

// reply implements encoder.
func (e *completionsEncoder) reply(r *reply, env *env) ([]byte, error) {
	finish := r.finish.legacy()
	return marshal("text completion", openai.TextCompletion{
		ID: env.answerID(r.id, "cmpl-"), Object: openai.ObjectTextCompletion, Created: env.created(r.created), Model: r.model,
		Choices: []openai.CompletionChoice{{Text: r.text, FinishReason: &finish}},
		Usage:   openAIUsage(r.usage, false),
	})
}

// write implements encoder: one chunk per non-empty text fragment; the finish
// comes on a chunk of its own, with the text the upstream sent with it (often
// ""), then the usage chunk when the client asked for it, and [DONE].
func (e *completionsEncoder) write(o *out, d *delta) {
	if e.buf == nil {
		e.buf = new(completionChunkBuf)
	}
	switch d.kind {
	case kindStart:
		e.begin(o, d, "cmpl-")
	case kindText:
		if d.text != "" {
			e.buf.choice[0] = openai.CompletionChoice{Text: d.text}
			e.chunk(o, e.buf.choice[:], nullUsage)
		}
	case kindFinish:
		finish := d.finish.legacy()
		e.buf.choice[0] = openai.CompletionChoice{Text: d.text, FinishReason: &finish}
		e.chunk(o, e.buf.choice[:], nullUsage)
	case kindDone:
		if e.includeUsage {
			e.chunk(o, []openai.CompletionChoice{}, openAIUsage(d.usage, false))
		}
		o.raw(doneData)
	}
}

// chunk appends one text_completion chunk. usage is written only with
// include_usage: null on every chunk before the usage chunk (docs/protocols.md §2).
func (e *completionsEncoder) chunk(o *out, choices []openai.CompletionChoice, usage any) {
	e.stamp(o)
	c := &e.buf.c
	*c = openai.TextCompletion{ID: e.id, Object: openai.ObjectTextCompletion, Created: e.created, Model: e.model,
		Choices: choices}
	if e.includeUsage {
		c.Usage = usage
	}
	o.event("", c)
}

// openAIUsage renders u as OpenAI's usage. details adds prompt_tokens_details
// (cached_tokens, and cache_write_tokens when any): the client then learns the
// cache counts, which only an upstream that reports them knows, and which legacy
// completions do not carry.
func openAIUsage(u Usage, details bool) *openai.Usage {
	o := &openai.Usage{PromptTokens: u.Input, CompletionTokens: u.Output, TotalTokens: u.Input + u.Output}
	if details {
		o.PromptTokensDetails = &openai.PromptTokensDetails{CachedTokens: u.CacheRead, CacheWriteTokens: u.CacheWrite}
	}
	return o
}
