package translate

// OpenAI Responses client, Ollama /api/chat upstream (docs/protocols.md §15.4, §15.6): the
// translator and the request conversion; its answers go through the hub
// (decode_ollama.go, encode_responses.go).
//
// Request decisions where the digest is silent (responses_request.go has those
// common to every upstream):
//   - instructions become a leading system message, as Ollama's own /v1/responses
//     does; system and developer messages are system messages where they stand.
//   - Text parts of a message are joined with "\n"; images must be base64 data:
//     URLs (docs/protocols.md §8); their detail is dropped unless "auto".
//   - A function call joins the assistant message before it; a reasoning item's
//     summary becomes the next assistant message's thinking, as Ollama does
//     itself; its encrypted_content (OpenAI's, or an Anthropic block we carried)
//     means nothing to Ollama and is dropped. Ollama's own layer reads it as
//     thinking text (docs/protocols.md §15.4); the router does not guess.
//   - reasoning.effort is think as for a Chat client (ollamaThink);
//     max_output_tokens is options.num_predict; text.format is format.
//   - tool_choice "none" sends no tools; "required" or a named tool, and
//     parallel_tool_calls:false, cannot be expressed and are dropped; so is user.

import (
	"encoding/json"

	"github.com/llmrouter/llmrouter/internal/ollama"
	"github.com/llmrouter/llmrouter/internal/openai"
	"github.com/llmrouter/llmrouter/internal/wire"
)

func init() {
	register(wire.OpenAIResponses, wire.OllamaChat, func(o Options) Translator {
		t := &responsesToOllama{opt: o, dec: newOllamaChatDecoder(o.Model)}
		t.init(&t.dec, &t.enc)
		return t
	})
}

// responsesToOllama serves a Responses client from Ollama's /api/chat.
type responsesToOllama struct {
	answer
	opt     Options
	dropped drops
	dec     ollamaChatDecoder
	enc     responsesEncoder
}

// Dropped implements Translator.
func (t *responsesToOllama) Dropped() []string { return t.dropped }

// Fail implements Failer.
func (t *responsesToOllama) Fail(dst []byte, code, message string) []byte {
	return respFailer{&t.answer, &t.enc}.Fail(dst, code, message)
}

// Request implements Translator.
func (t *responsesToOllama) Request(body []byte) ([]byte, error) {
	t.dropped = nil
	c := respRequest{drops: &t.dropped, upstream: "ollama"}
	if err := c.read(body); err != nil {
		return nil, err
	}
	o := respOllama{c: &c, names: map[string]string{}}
	req, err := o.build(t.opt)
	if err != nil {
		return nil, err
	}
	t.enc = responsesEncoder{echo: c.echo, customs: c.customs}
	return marshal("ollama request", req)
}

// respOllama writes a read Responses request as an /api/chat request.
type respOllama struct {
	c        *respRequest
	out      ollama.ChatRequest
	names    map[string]string // call_id → function name, for the tool messages
	thinking *respItem         // a reasoning item waiting for its assistant message
}

func (b *respOllama) build(opt Options) (*ollama.ChatRequest, error) {
	c := b.c
	b.out.Model, b.out.Stream = cmpOr(opt.Model, c.model), c.stream
	b.out.Messages = []ollama.Message{}
	if c.instructions != "" {
		b.out.Messages = append(b.out.Messages, ollama.Message{Role: "system", Content: c.instructions})
	}
	for i := range c.items {
		if err := b.item(&c.items[i]); err != nil {
			return nil, err
		}
	}
	if b.thinking != nil {
		c.drops.add(b.thinking.path) // no assistant message followed it
	}
	b.tools()
	opts := ollama.Options{Temperature: c.temperature, TopP: c.topP}
	if c.maxOutput > 0 {
		opts.NumPredict = json.RawMessage(jsonInt(c.maxOutput))
	}
	b.out.Options = ollamaOptionsOrNil(&opts)
	if c.effort != "" {
		b.out.Think, _ = ollamaThink(c.effort, b.out.Model) // every effort the reader accepts maps
	}
	if f := c.format; f.Exists() {
		b.out.Format = json.RawMessage(`"json"`)
		if s := f.Get("schema"); s.IsObject() {
			b.out.Format = json.RawMessage(s.Raw)
		}
	}
	if c.user != "" {
		c.drops.add("user")
	}
	return &b.out, nil
}

// jsonInt is n as JSON text.
func jsonInt(n int64) []byte {
	b, _ := json.Marshal(n)
	return b
}

func (b *respOllama) item(it *respItem) error {
	switch it.kind {
	case itemMessage:
		return b.message(it)
	case itemCall:
		b.names[it.callID] = it.name
		msg := b.assistant()
		msg.ToolCalls = append(msg.ToolCalls, ollama.ToolCall{ID: it.callID,
			Function: ollama.ToolCallFunction{Index: len(msg.ToolCalls), Name: it.name, Arguments: json.RawMessage(it.args)}})
	case itemOutput:
		b.out.Messages = append(b.out.Messages, ollama.Message{Role: "tool", Content: it.output,
			ToolName: b.names[it.callID], ToolCallID: it.callID})
	case itemReasoning:
		if it.encrypted != "" {
			b.c.drops.add(jsonPath(it.path, "encrypted_content"))
		}
		if it.summary != "" {
			b.thinking = it
		}
	}
	return nil
}

// assistant returns the assistant message a call joins: the last message when
// it is one with no text after its calls, else a new one that takes any
// waiting thinking.
func (b *respOllama) assistant() *ollama.Message {
	n := len(b.out.Messages)
	if n > 0 && b.out.Messages[n-1].Role == "assistant" && b.thinking == nil {
		return &b.out.Messages[n-1]
	}
	b.out.Messages = append(b.out.Messages, b.withThinking(ollama.Message{Role: "assistant"}))
	return &b.out.Messages[n]
}

// withThinking gives m the waiting reasoning as its thinking.
func (b *respOllama) withThinking(m ollama.Message) ollama.Message {
	if b.thinking != nil {
		m.Thinking, b.thinking = b.thinking.summary, nil
	}
	return m
}

func (b *respOllama) message(it *respItem) error {
	msg := ollama.Message{Role: it.role}
	var texts []string
	for _, p := range it.parts {
		if p.image == "" {
			texts = append(texts, p.text)
			continue
		}
		if it.role != "user" {
			return reqErr(p.path, "images are only allowed in user messages")
		}
		data, err := ollamaImage(p.image, jsonPath(p.path, "image_url"))
		if err != nil {
			return err
		}
		if p.detail != "" && p.detail != "auto" {
			b.c.drops.add(jsonPath(p.path, "detail"))
		}
		msg.Images = append(msg.Images, data)
	}
	msg.Content = joinLines(texts)
	switch it.role {
	case "developer":
		msg.Role = "system"
	case "assistant":
		msg = b.withThinking(msg)
	}
	b.out.Messages = append(b.out.Messages, msg)
	return nil
}

// tools declares the functions, unless tool_choice is "none".
func (b *respOllama) tools() {
	c := b.c
	switch c.choice.mode {
	case "none":
		return
	case "required", "tool":
		c.drops.add("tool_choice")
	}
	if c.parallel != nil && !*c.parallel {
		c.drops.add("parallel_tool_calls")
	}
	for _, t := range c.tools {
		if t.strict {
			c.drops.add(jsonPath(t.path, "strict"))
		}
		fn, err := marshal("ollama function", openai.FunctionDefinition{Name: t.name, Description: t.description,
			Parameters: t.parameters})
		if err == nil {
			b.out.Tools = append(b.out.Tools, ollama.Tool{Type: "function", Function: fn})
		}
	}
}
