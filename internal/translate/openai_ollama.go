package translate

// OpenAI Chat Completions client → Ollama /api/chat upstream (docs/protocols.md §1, §4, §7-14):
// the translator and the request conversion; its answers go through the hub
// (decode_ollama.go, encode_chat.go).

import (
	"encoding/json"
	"strings"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/llmrouter/llmrouter/internal/ollama"
	"github.com/llmrouter/llmrouter/internal/wire"
)

func init() {
	register(wire.OpenAIChat, wire.OllamaChat, func(o Options) Translator {
		t := &openAIToOllama{ollamaBase: ollamaBase{opt: o}, dec: newOllamaChatDecoder(o.Model)}
		t.init(&t.dec, &t.enc)
		return t
	})
}

// openAIToOllama translates one OpenAI Chat request to /api/chat and its answer back.
type openAIToOllama struct {
	answer
	ollamaBase
	dec ollamaChatDecoder
	enc chatEncoder
}

// oaiOllReq is the state of one request conversion.
type oaiOllReq struct {
	t         *openAIToOllama
	out       ollama.ChatRequest
	opts      ollama.Options
	maxTokens json.RawMessage // max_tokens, used when max_completion_tokens is absent
	maxCompl  json.RawMessage
	noTools   bool              // tool_choice "none": Ollama has no switch, so send no tools
	names     map[string]string // tool_call_id → function name, from assistant turns
}

// Request converts an OpenAI Chat body to an Ollama /api/chat body.
func (t *openAIToOllama) Request(body []byte) ([]byte, error) {
	out, err := t.request(body)
	t.enc.includeUsage = t.includeUsage
	return out, err
}

func (t *openAIToOllama) request(body []byte) ([]byte, error) {
	t.dropped, t.includeUsage = nil, false
	req, err := parseObject(body)
	if err != nil {
		return nil, err
	}
	c := &oaiOllReq{t: t, names: map[string]string{}}
	c.out.Model = t.model(req.Get("model"))
	c.out.Messages = []ollama.Message{}
	if err := eachKey(req, c.field); err != nil {
		return nil, err
	}
	c.opts.NumPredict = c.maxTokens
	if c.maxCompl != nil {
		c.opts.NumPredict = c.maxCompl
	}
	c.out.Options = ollamaOptionsOrNil(&c.opts)
	if c.noTools {
		c.out.Tools = nil
	}
	return marshal("ollama request", c.out)
}

// field converts one top-level member of the client request.
func (c *oaiOllReq) field(key string, v gjson.Result) error {
	var err error
	switch key {
	case "model": // replaced by the route's upstream model
	case "messages":
		err = c.messages(v)
	case "stream":
		c.out.Stream, err = wantBool(v, key)
	case "stream_options":
		err = c.t.streamOptions(v)
	case "max_tokens":
		c.maxTokens, err = wantNumber(v, key)
	case "max_completion_tokens":
		c.maxCompl, err = wantNumber(v, key)
	case "temperature", "top_p", "seed", "frequency_penalty", "presence_penalty":
		err = setOllamaNumber(&c.opts, key, v, key)
	case "stop":
		c.opts.Stop, err = stringList(v, key)
	case "n":
		err = ollamaN(v, key)
	case "tools":
		err = c.tools(v)
	case "tool_choice":
		c.toolChoice(v)
	case "parallel_tool_calls":
		if v.Type == gjson.False { // Ollama may always call several tools
			c.t.dropped.add(key)
		}
	case "response_format":
		err = c.responseFormat(v)
	case "reasoning_effort":
		err = c.reasoningEffort(v)
	case "logprobs":
		err = c.logprobs(v)
	case "top_logprobs":
		c.out.TopLogprobs, err = wantNumber(v, key)
	default: // logit_bias, user, metadata, store, service_tier, modalities, audio, …
		c.t.dropped.add(jsonPath(key))
	}
	return err
}

// toolChoice: "auto" is what Ollama does anyway; "none" is honoured by sending no
// tools; "required" and a named function cannot be expressed and are dropped.
func (c *oaiOllReq) toolChoice(v gjson.Result) {
	switch {
	case v.Type == gjson.String && v.Str == "auto":
	case v.Type == gjson.String && v.Str == "none":
		c.noTools = true
	default:
		c.t.dropped.add("tool_choice")
	}
}

func (c *oaiOllReq) responseFormat(v gjson.Result) error {
	if err := wantObject(v, "response_format"); err != nil {
		return err
	}
	switch typ := v.Get("type").String(); typ {
	case "text":
	case "json_object":
		c.out.Format = json.RawMessage(`"json"`)
	case "json_schema":
		c.out.Format = json.RawMessage(`"json"`)
		if s := v.Get("json_schema.schema"); s.IsObject() {
			c.out.Format = json.RawMessage(s.Raw)
		}
	default:
		return reqErr("response_format.type", "unsupported response format %q", typ)
	}
	return nil
}

func (c *oaiOllReq) reasoningEffort(v gjson.Result) error {
	s, err := wantString(v, "reasoning_effort")
	if err != nil {
		return err
	}
	think, ok := ollamaThink(s, c.out.Model)
	if !ok {
		return reqErr("reasoning_effort", "unsupported reasoning effort %q", s)
	}
	c.out.Think = think
	return nil
}

func (c *oaiOllReq) logprobs(v gjson.Result) error {
	on, err := wantBool(v, "logprobs")
	if on {
		c.out.Logprobs = json.RawMessage(`true`)
	}
	return err
}

func (c *oaiOllReq) tools(v gjson.Result) error {
	if err := wantArray(v, "tools"); err != nil {
		return err
	}
	return eachElem(v, func(i int, tool gjson.Result) error {
		path := jsonPath("tools", i)
		if tool.Get("type").String() != "function" { // custom tools have no Ollama form
			c.t.dropped.add(path)
			return nil
		}
		fn := tool.Get("function")
		if err := wantObject(fn, jsonPath(path, "function")); err != nil {
			return err
		}
		raw := fn.Raw
		if s := fn.Get("strict"); s.Exists() {
			if s.Type == gjson.True {
				c.t.dropped.add(jsonPath(path, "function", "strict"))
			}
			raw, _ = sjson.Delete(raw, "strict") // a valid object always deletes cleanly
		}
		c.out.Tools = append(c.out.Tools, ollama.Tool{Type: "function", Function: json.RawMessage(raw)})
		return nil
	})
}

func (c *oaiOllReq) messages(v gjson.Result) error {
	if err := wantArray(v, "messages"); err != nil {
		return err
	}
	return eachElem(v, func(i int, m gjson.Result) error {
		return c.message(jsonPath("messages", i), m)
	})
}

// oaiOllMsgKeys are the message members each role carries to Ollama; others are
// dropped ("name" on non-tool roles, "refusal", "audio", "function_call", …).
var oaiOllMsgKeys = map[string][]string{
	"system":    {"role", "content"},
	"developer": {"role", "content"},
	"user":      {"role", "content"},
	"assistant": {"role", "content", "tool_calls", "reasoning_content", "reasoning"},
	"tool":      {"role", "content", "tool_call_id", "name"},
	"function":  {"role", "content", "name"},
}

func (c *oaiOllReq) message(path string, m gjson.Result) error {
	if err := wantObject(m, path); err != nil {
		return err
	}
	role := m.Get("role").String()
	keys, ok := oaiOllMsgKeys[role]
	if !ok {
		return reqErr(jsonPath(path, "role"), "unsupported role %q", role)
	}
	msg := ollama.Message{Role: role}
	var err error
	switch role {
	case "system", "developer":
		msg.Role = "system"
		msg.Content, err = c.content(path, m.Get("content"), nil)
	case "user":
		msg.Content, err = c.content(path, m.Get("content"), &msg.Images)
	case "assistant":
		err = c.assistant(path, m, &msg)
	case "tool", "function":
		c.toolResult(m, &msg)
		msg.Content, err = c.content(path, m.Get("content"), nil)
	}
	c.t.dropOthers(path, m, keys...)
	c.out.Messages = append(c.out.Messages, msg)
	return err
}

func (c *oaiOllReq) assistant(path string, m gjson.Result, msg *ollama.Message) error {
	var err error
	if msg.Content, err = c.content(path, m.Get("content"), nil); err != nil {
		return err
	}
	// reasoning_content is what openAIToOllama returns for Ollama's thinking: take it
	// back, or reasoning, the name Ollama's own /v1 and others use (openAIReasoning).
	msg.Thinking = openAIReasoning(m)
	calls := m.Get("tool_calls")
	if !calls.Exists() || calls.Type == gjson.Null {
		return nil
	}
	if err := wantArray(calls, jsonPath(path, "tool_calls")); err != nil {
		return err
	}
	return eachElem(calls, func(j int, tc gjson.Result) error {
		call, err := c.toolCall(jsonPath(path, "tool_calls", j), j, tc)
		msg.ToolCalls = append(msg.ToolCalls, call)
		return err
	})
}

// toolCall converts one assistant tool call, parsing the arguments string into the
// object Ollama wants, and remembers its name for the tool messages that follow.
func (c *oaiOllReq) toolCall(path string, j int, tc gjson.Result) (ollama.ToolCall, error) {
	if typ := tc.Get("type").String(); typ != "" && typ != "function" {
		return ollama.ToolCall{}, reqErr(jsonPath(path, "type"), "tool call type %q is not supported by ollama upstreams", typ)
	}
	args, err := ollamaArgsObject(tc.Get("function.arguments"), jsonPath(path, "function", "arguments"))
	call := ollama.ToolCall{
		ID:       tc.Get("id").String(),
		Function: ollama.ToolCallFunction{Index: j, Name: tc.Get("function.name").String(), Arguments: args},
	}
	if call.ID != "" {
		c.names[call.ID] = call.Function.Name
	}
	return call, err
}

// ollamaArgsObject parses OpenAI's arguments string into a JSON object; an empty or
// absent string is {}. An object given directly (a lenient client) is kept.
func ollamaArgsObject(v gjson.Result, path string) (json.RawMessage, error) {
	raw := v.Raw
	if v.Type == gjson.String {
		raw = v.Str
	}
	if strings.TrimSpace(raw) == "" || v.Type == gjson.Null {
		return json.RawMessage("{}"), nil
	}
	if !json.Valid([]byte(raw)) || !gjson.Parse(raw).IsObject() { // json.Valid: iterative (see parseObject)
		return nil, reqErr(path, "must be a JSON object")
	}
	return json.RawMessage(raw), nil
}

// toolResult fills tool_name (looked up by tool_call_id, as Ollama's own
// nameFromToolCallID does; else the message's "name") and tool_call_id.
func (c *oaiOllReq) toolResult(m gjson.Result, msg *ollama.Message) {
	msg.Role = "tool"
	msg.ToolCallID = m.Get("tool_call_id").String()
	msg.ToolName = c.names[msg.ToolCallID]
	if msg.ToolName == "" {
		msg.ToolName = m.Get("name").String()
	}
}

// content reads a message content (a string, null, or parts) as one string, text
// parts joined by "\n". Image parts are allowed when images is not nil.
func (c *oaiOllReq) content(path string, v gjson.Result, images *[]string) (string, error) {
	if !v.Exists() || v.Type == gjson.Null {
		return "", nil
	}
	return joinedText(jsonPath(path, "content"), v, "content parts", func(path string, part gjson.Result) (*string, error) {
		return c.part(path, part, images)
	})
}

// part converts one content part: its text, or an image appended to images.
func (c *oaiOllReq) part(path string, part gjson.Result, images *[]string) (*string, error) {
	switch typ := part.Get("type").String(); {
	case typ == "text" || typ == "refusal":
		s, err := wantString(part.Get(typ), jsonPath(path, typ))
		c.t.dropOthers(path, part, "type", typ)
		return &s, err
	case typ == "image_url" && images != nil:
		img := part.Get("image_url")
		url := img.Get("url")
		if img.Type == gjson.String {
			url = img
		}
		data, err := ollamaImage(url.String(), jsonPath(path, "image_url", "url"))
		*images = append(*images, data)
		if img.IsObject() {
			c.t.dropOthers(jsonPath(path, "image_url"), img, "url")
		}
		return nil, err
	default: // input_audio, file, and images outside user turns
		return nil, reqErr(jsonPath(path, "type"), "content part type %q is not supported by ollama upstreams here", typ)
	}
}
