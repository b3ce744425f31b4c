package translate

// OpenAI Responses client, Anthropic Messages upstream (docs/protocols.md §15.6): the
// translator and the request conversion; its answers go through the hub
// (decode_anthropic.go, encode_responses.go).
//
// Request decisions where the digest is silent (responses_request.go has those
// common to every upstream):
//   - instructions, then every system and developer message, in order, become the
//     top-level system, joined with "\n" (as chat_anthropic does).
//   - Consecutive items of one side become one Anthropic turn: assistant text,
//     function calls and carried thinking one assistant turn, call outputs and
//     user messages one user turn, outputs first (docs/protocols.md §14 item 1).
//   - reasoning.effort is thinking as a Chat client's reasoning_effort is
//     (anthropicThinking, openai_anthropic_output.go): none disables it; Claude
//     4.6 and later (and unknown names) think adaptive with output_config.effort,
//     older models with a budget by effort, cut below max_tokens (max_output_tokens
//     counts reasoning as Anthropic's max_tokens does); a forced tool choice wins
//     over thinking; temperature and top_p are dropped when thinking is on.
//   - A reasoning item goes back as the thinking block it carries (its
//     encrypted_content, carriedThinking); any other is dropped and recorded.
//   - text.format json_schema is output_config.format; its name and strict are
//     consumed (Anthropic's is always strict), a description dropped; json_object
//     has no Anthropic form and is dropped.
//   - user is metadata.user_id; an image's detail other than "auto" is dropped.

import (
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/llmrouter/llmrouter/internal/anthropic"
	"github.com/llmrouter/llmrouter/internal/wire"
)

func init() {
	register(wire.OpenAIResponses, wire.AnthropicMessages, func(o Options) Translator {
		t := &responsesToAnthropic{opt: o}
		t.init(&t.dec, &t.enc)
		return t
	})
}

// responsesToAnthropic serves a Responses client from an Anthropic upstream.
type responsesToAnthropic struct {
	answer
	opt     Options
	dropped drops
	dec     anthropicDecoder
	enc     responsesEncoder
}

// Dropped implements Translator.
func (t *responsesToAnthropic) Dropped() []string { return t.dropped }

// Fail implements Failer.
func (t *responsesToAnthropic) Fail(dst []byte, code, message string) []byte {
	return respFailer{&t.answer, &t.enc}.Fail(dst, code, message)
}

// Request implements Translator.
func (t *responsesToAnthropic) Request(body []byte) ([]byte, error) {
	t.dropped = nil
	c := respRequest{drops: &t.dropped, upstream: "anthropic"}
	if err := c.read(body); err != nil {
		return nil, err
	}
	a := respAnthropic{c: &c}
	req, err := a.build(t.opt)
	if err != nil {
		return nil, err
	}
	t.enc = responsesEncoder{echo: c.echo, customs: c.customs, carry: c.encrypted}
	return marshal("anthropic request", req)
}

// respAnthropic writes a read Responses request as an Anthropic request.
type respAnthropic struct {
	c      *respRequest
	out    anthropic.Request
	system []string
	turns  []turn
}

func (a *respAnthropic) build(opt Options) (*anthropic.Request, error) {
	c := a.c
	a.out.Model, a.out.Stream = cmpOr(opt.Model, c.model), c.stream
	a.out.Temperature, a.out.TopP = c.temperature, c.topP
	if c.instructions != "" {
		a.system = append(a.system, c.instructions)
	}
	for i := range c.items {
		if err := a.item(&c.items[i]); err != nil {
			return nil, err
		}
	}
	a.out.System = strings.Join(a.system, "\n")
	a.out.Messages = make([]anthropic.MessageParam, 0, len(a.turns))
	for _, t := range a.turns {
		a.out.Messages = append(a.out.Messages, t.message())
	}
	for _, t := range c.tools {
		if t.strict {
			c.drops.add(jsonPath(t.path, "strict"))
		}
		a.out.Tools = append(a.out.Tools, anthropic.Tool{Name: t.name, Description: t.description, InputSchema: t.parameters})
	}
	a.toolChoice()
	a.maxTokens(opt)
	a.format()
	if c.user != "" {
		a.out.Metadata = &anthropic.Metadata{UserID: c.user}
	}
	return &a.out, nil
}

// push appends blocks (or tool results) to the last turn when it has the same
// role, else starts a turn.
func (a *respAnthropic) push(role string, blocks, results []any, plain bool) {
	if n := len(a.turns); n > 0 && a.turns[n-1].role == role {
		t := &a.turns[n-1]
		t.blocks = append(t.blocks, blocks...)
		t.results = append(t.results, results...)
		t.plain = false
		return
	}
	a.turns = append(a.turns, turn{role: role, blocks: blocks, results: results, plain: plain})
}

func (a *respAnthropic) item(it *respItem) error {
	switch it.kind {
	case itemMessage:
		return a.message(it)
	case itemCall:
		a.push("assistant", []any{anthropic.ToolUseBlock{Type: "tool_use", ID: it.callID, Name: it.name,
			Input: []byte(it.args)}}, nil, false)
	case itemOutput:
		a.push("user", nil, []any{anthropic.ToolResultBlock{Type: "tool_result", ToolUseID: it.callID, Content: it.output}}, false)
	case itemReasoning:
		block, ok := carriedThinking(it.encrypted)
		if !ok {
			a.c.drops.add(it.path)
			return nil
		}
		a.push("assistant", []any{block}, nil, false)
	}
	return nil
}

// message converts a message item: system and developer text to the system
// prompt, user and assistant parts to blocks.
func (a *respAnthropic) message(it *respItem) error {
	var blocks []any
	for _, p := range it.parts {
		if p.image == "" {
			if p.text != "" || it.role == "user" {
				blocks = append(blocks, anthropic.TextBlock{Type: "text", Text: p.text})
			}
			continue
		}
		if it.role != "user" {
			return reqErr(p.path, "images are only allowed in user messages")
		}
		b, err := anthropicImage(p.image, jsonPath(p.path, "image_url"))
		if err != nil {
			return err
		}
		if p.detail != "" && p.detail != "auto" {
			a.c.drops.add(jsonPath(p.path, "detail"))
		}
		blocks = append(blocks, b)
	}
	switch it.role {
	case "system", "developer":
		texts := make([]string, 0, len(blocks))
		for _, b := range blocks {
			texts = append(texts, b.(anthropic.TextBlock).Text)
		}
		a.system = append(a.system, joinLines(texts))
	case "assistant":
		if len(blocks) == 0 {
			a.c.drops.add(it.path)
			return nil
		}
		a.push("assistant", blocks, nil, false)
	default:
		a.push("user", blocks, nil, it.plain)
	}
	return nil
}

// anthropicImage is the image block of an image URL: a base64 data: URL (jpeg,
// png, gif or webp) or an http(s) URL (docs/protocols.md §8).
func anthropicImage(u, path string) (any, error) {
	lower := strings.ToLower(u)
	switch {
	case strings.HasPrefix(lower, "data:"):
		mt, data, ok := parseDataURL(u)
		if !ok {
			return nil, reqErr(path, "data URL must be base64 encoded")
		}
		if !anthropicImageTypes[mt] {
			return nil, reqErr(path, "image type %q is not supported (jpeg, png, gif or webp)", mt)
		}
		return anthropic.ImageBlock{Type: "image", Source: anthropic.ImageSource{Type: "base64", MediaType: mt, Data: data}}, nil
	case strings.HasPrefix(lower, "https://"), strings.HasPrefix(lower, "http://"):
		return anthropic.ImageBlock{Type: "image", Source: anthropic.ImageSource{Type: "url", URL: u}}, nil
	}
	return nil, reqErr(path, "must be an http(s) URL or a base64 data URL")
}

// toolChoice maps tool_choice and parallel_tool_calls (docs/protocols.md §7). Without any
// tool to send, a choice that asks for a call is dropped.
func (a *respAnthropic) toolChoice() {
	c := a.c
	var tc *anthropic.ToolChoice
	switch c.choice.mode {
	case "auto":
		tc = &anthropic.ToolChoice{Type: "auto"}
	case "none":
		tc = &anthropic.ToolChoice{Type: "none"}
	case "required":
		tc = &anthropic.ToolChoice{Type: "any"}
	case "tool":
		tc = &anthropic.ToolChoice{Type: "tool", Name: c.choice.name}
	}
	if len(a.out.Tools) == 0 {
		if c.choice.mode == "required" || c.choice.mode == "tool" {
			c.drops.add("tool_choice")
		}
		return
	}
	if c.parallel != nil && !*c.parallel {
		if tc == nil {
			tc = &anthropic.ToolChoice{Type: "auto"}
		}
		tc.DisableParallelToolUse = tc.Type != "none"
	}
	a.out.ToolChoice = tc
}

// maxTokens sets max_tokens (max_output_tokens, else Options.MaxTokens, else
// 4096) and the thinking of reasoning.effort, as for a Chat client's
// reasoning_effort (anthropicThinking).
func (a *respAnthropic) maxTokens(opt Options) {
	c := a.c
	a.out.MaxTokens = defaultAnthropicMaxTokens
	if opt.MaxTokens > 0 {
		a.out.MaxTokens = int64(opt.MaxTokens)
	}
	if c.maxOutput > 0 {
		a.out.MaxTokens = c.maxOutput
	}
	anthropicThinking(&a.out, c.effort, "reasoning.effort", c.maxOutput > 0, c.drops)
}

// format maps text.format (docs/protocols.md §15.1) to output_config.format.
func (a *respAnthropic) format() {
	f := a.c.format
	if !f.Exists() {
		return
	}
	if f.Get("type").String() != "json_schema" {
		a.c.drops.add("text.format")
		return
	}
	if d := f.Get("description"); d.Exists() && d.Type != gjson.Null {
		a.c.drops.add("text.format.description")
	}
	a.out.OutputConfig = &anthropic.OutputConfig{Format: &anthropic.OutputFormat{Type: "json_schema",
		Schema: []byte(f.Get("schema").Raw)}}
}

// Anthropic's signed thinking through a Responses client, and back.
//
// Anthropic wants the thinking blocks of a tool loop's last assistant turn sent
// back unchanged, signature included (docs/protocols.md §10, §14 item 6). A Responses client
// keeps reasoning across turns only as reasoning items, whose encrypted_content it
// sends back verbatim when it asked for it (include reasoning.encrypted_content;
// Codex always does, docs/protocols.md §15.5). So on a route to Anthropic the encoder puts
// each thinking block, signature and all, in its reasoning item's
// encrypted_content, marked as ours; the next request's converter turns a marked
// item back into the block. Anything else found there (OpenAI's own encrypted
// reasoning, or ours on a route to another provider) means nothing to the
// upstream and is dropped and recorded: a signature is never made up.

// carryPrefix marks encrypted_content made by carryThinking: a thinking block of
// an Anthropic upstream, as base64 (URL alphabet, no padding) of its JSON.
const carryPrefix = "llmrouter.anthropic.thinking.v1:"

// carriedBlock is a thinking or redacted_thinking block, as carried.
type carriedBlock struct {
	Type      string `json:"type"`
	Thinking  string `json:"thinking,omitempty"`
	Signature string `json:"signature,omitempty"`
	Data      string `json:"data,omitempty"`
}

// carryThinking returns the encrypted_content that carries a thinking block
// (redacted false: text and signature) or a redacted_thinking block (redacted
// true: text is its data).
func carryThinking(text, signature string, redacted bool) string {
	b := carriedBlock{Type: "thinking", Thinking: text, Signature: signature}
	if redacted {
		b = carriedBlock{Type: "redacted_thinking", Data: text}
	}
	j, _ := json.Marshal(b) // strings always encode
	return carryPrefix + base64.RawURLEncoding.EncodeToString(j)
}

// carriedThinking returns the Anthropic block an encrypted_content carries, and
// false when it is not one of ours (or is damaged).
func carriedThinking(s string) (any, bool) {
	enc, ok := strings.CutPrefix(s, carryPrefix)
	if !ok {
		return nil, false
	}
	j, err := base64.RawURLEncoding.DecodeString(enc)
	var b carriedBlock
	if err != nil || json.Unmarshal(j, &b) != nil {
		return nil, false
	}
	switch {
	case b.Type == "thinking" && b.Signature != "":
		return anthropic.ThinkingBlock{Type: b.Type, Thinking: b.Thinking, Signature: b.Signature}, true
	case b.Type == "redacted_thinking" && b.Data != "":
		return anthropic.RedactedThinkingBlock{Type: b.Type, Data: b.Data}, true
	}
	return nil, false
}
