package translate

// OpenAI legacy Completions client, Anthropic Messages upstream (README §2).
//
// The request is rewritten into an OpenAI Chat request with one user message and
// converted by the Chat→Anthropic code; the response and the stream reuse its
// Anthropic decoding and only render text_completion objects.
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
	"encoding/json"
	"strconv"

	"github.com/llmrouter/llmrouter/internal/sse"
	"github.com/llmrouter/llmrouter/internal/wire"
	"github.com/tidwall/gjson"
)

func init() {
	register(wire.OpenAICompletions, wire.AnthropicMessages, func(o Options) Translator {
		return &completionsToAnthropic{chat: openAIToAnthropic{opt: o}}
	})
}

// defaultCompletionMaxTokens is the legacy Completions default for max_tokens.
const defaultCompletionMaxTokens = 16

// completionsToAnthropic serves a legacy Completions client from an Anthropic
// upstream through the Chat converter.
type completionsToAnthropic struct {
	chat    openAIToAnthropic
	dropped drops
}

// legacyChatRequest is the Chat request a Completions request is rewritten into.
// Values are copied raw; the Chat converter checks their types.
type legacyChatRequest struct {
	Model         json.RawMessage `json:"model,omitempty"`
	Messages      []chatMsg       `json:"messages"`
	MaxTokens     json.RawMessage `json:"max_tokens"`
	Temperature   json.RawMessage `json:"temperature,omitempty"`
	TopP          json.RawMessage `json:"top_p,omitempty"`
	Stop          json.RawMessage `json:"stop,omitempty"`
	Stream        json.RawMessage `json:"stream,omitempty"`
	StreamOptions json.RawMessage `json:"stream_options,omitempty"`
	User          json.RawMessage `json:"user,omitempty"`
}

// Dropped implements Translator.
func (t *completionsToAnthropic) Dropped() []string { return t.dropped }

// Request implements Translator.
func (t *completionsToAnthropic) Request(body []byte) ([]byte, error) {
	t.dropped = nil
	r, err := parseObject(body)
	if err != nil {
		return nil, err
	}
	chat := legacyChatRequest{MaxTokens: json.RawMessage(strconv.Itoa(defaultCompletionMaxTokens))}
	if err := eachKey(r, func(key string, v gjson.Result) error { return t.field(&chat, key, v) }); err != nil {
		return nil, err
	}
	if chat.Messages == nil {
		return nil, reqErr("prompt", "is required")
	}
	b, err := marshal("chat request", chat)
	if err != nil {
		return nil, err
	}
	out, err := t.chat.Request(b)
	t.dropped = append(t.dropped, t.chat.Dropped()...)
	return out, err
}

// field handles one top-level member of the request.
func (t *completionsToAnthropic) field(chat *legacyChatRequest, key string, v gjson.Result) error {
	raw := json.RawMessage(v.Raw)
	switch key {
	case "prompt":
		s, err := singlePrompt(v)
		chat.Messages = []chatMsg{{Role: "user", Content: s}}
		return err
	case "model":
		chat.Model = raw
	case "max_tokens":
		chat.MaxTokens = raw
	case "temperature":
		chat.Temperature = raw
	case "top_p":
		chat.TopP = raw
	case "stop":
		chat.Stop = raw
	case "stream":
		chat.Stream = raw
	case "stream_options":
		chat.StreamOptions = raw
	case "user":
		chat.User = raw
	case "n":
		if n, err := wantInt(v, key); err != nil || n != 1 {
			return reqErr(key, "n must be 1: an Anthropic upstream returns one completion")
		}
	case "echo":
		if b, err := wantBool(v, key); err != nil || b {
			return reqErr(key, "echo is not supported with an Anthropic upstream")
		}
	default: // suffix, best_of, logprobs, logit_bias, seed, penalties, …
		t.dropped.add(jsonPath("", key))
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

// Legacy completion shapes (README §2).
type (
	textCompletion struct {
		ID      string             `json:"id"`
		Object  string             `json:"object"`
		Created int64              `json:"created"`
		Model   string             `json:"model"`
		Choices []completionChoice `json:"choices"`
		Usage   any                `json:"usage,omitempty"` // as chatChunk.Usage
	}
	completionChoice struct {
		Text         string  `json:"text"`
		Index        int     `json:"index"`
		Logprobs     any     `json:"logprobs"`
		FinishReason *string `json:"finish_reason"`
	}
)

// Response implements Translator.
func (t *completionsToAnthropic) Response(body []byte) ([]byte, error) {
	c, err := anthropicToChat(body)
	if err != nil {
		return nil, err
	}
	text := ""
	if m := c.Choices[0].Message; m.Content != nil {
		text = *m.Content
	}
	c.Usage.PromptTokensDetails = nil
	finish := legacyFinish(c.Choices[0].FinishReason)
	return marshal("text completion", textCompletion{
		ID: c.ID, Object: "text_completion", Created: c.Created, Model: c.Model,
		Choices: []completionChoice{{Text: text, FinishReason: &finish}},
		Usage:   c.Usage,
	})
}

// Stream implements Translator: text deltas become text_completion chunks; thinking
// and tool calls have no legacy form and are not sent.
func (t *completionsToAnthropic) Stream(dst []byte, ev sse.Event) ([]byte, error) {
	d, err := t.chat.dec.decode(ev)
	if err != nil {
		return dst, err
	}
	switch {
	case d.kind == deltaText && d.text != "":
		return t.appendChunk(dst, d.text, nil)
	case d.kind == deltaFinish:
		finish := legacyFinish(d.finish)
		return t.appendChunk(dst, "", &finish)
	case d.kind == deltaDone:
		if t.chat.includeUsage {
			if dst, err = t.chat.dec.appendUsageChunk(dst, "text_completion", false); err != nil {
				return dst, err
			}
		}
		return sse.AppendEvent(dst, "", []byte("[DONE]")), nil
	}
	return dst, nil
}

// legacyFinish restricts a Chat finish_reason to the legacy values stop, length and
// content_filter: no tools are sent, so tool_calls cannot mean a call to run.
func legacyFinish(f string) string {
	if f == "tool_calls" {
		return "stop"
	}
	return f
}

func (t *completionsToAnthropic) appendChunk(dst []byte, text string, finish *string) ([]byte, error) {
	d := &t.chat.dec
	b, err := marshal("completion chunk", textCompletion{
		ID: d.id, Object: "text_completion", Created: d.created, Model: d.model,
		Choices: []completionChoice{{Text: text, FinishReason: finish}}, Usage: d.chunkUsage(),
	})
	if err != nil {
		return dst, err
	}
	return sse.AppendEvent(dst, "", b), nil
}

// End implements Translator.
func (t *completionsToAnthropic) End(dst []byte) ([]byte, error) { return t.chat.End(dst) }

// Done implements Translator.
func (t *completionsToAnthropic) Done() bool { return t.chat.Done() }
