package translate

// OpenAI Chat Completions client, Responses upstream (docs/protocols.md §15.6): for an
// openai endpoint that serves only the Responses API (a model with apis:
// [responses]). The translator and the request conversion; its answers go
// through the hub (decode_responses.go, encode_openai.go).
//
// Request decisions where the digest is silent:
//   - Messages become input items in order: system and developer messages stay
//     messages of their role (Responses takes them anywhere), text parts
//     input_text, images input_image (detail kept), files input_file; assistant
//     text a message with string content, its tool_calls function_call items;
//     tool messages function_call_output items.
//   - max_completion_tokens (else max_tokens) is max_output_tokens, raised to the
//     API's minimum of 16 (docs/protocols.md §15.1) rather than refused.
//   - store is the client's (Chat's default is false; the Responses API's, true,
//     is never left to apply): a Chat client never expects a stored response.
//   - Function tools are sent flat with strict as the client set it (false
//     otherwise: Responses' default is true). Other tool kinds are a RequestError,
//     as towards Anthropic.
//   - response_format json_schema is text.format, its members lifted out of
//     json_schema; reasoning_effort is reasoning.effort; verbosity text.verbosity.
//   - stop, n>1, logprobs, logit_bias, seed and penalties have no Responses form:
//     stop and the others are dropped and recorded, n>1 is a RequestError.

import (
	"encoding/json"

	"github.com/tidwall/gjson"

	"github.com/llmrouter/llmrouter/internal/responses"
	"github.com/llmrouter/llmrouter/internal/wire"
)

func init() {
	register(wire.OpenAIChat, wire.OpenAIResponses, func(o Options) Translator {
		t := &openAIToResponses{opt: o}
		t.init(&t.dec, &t.enc)
		return t
	})
}

// minOutputTokens is the smallest max_output_tokens the Responses API accepts.
const minOutputTokens = 16

// openAIToResponses serves an OpenAI Chat client from a Responses upstream.
type openAIToResponses struct {
	answer
	opt     Options
	dropped drops
	dec     responsesDecoder
	enc     chatEncoder
}

// Dropped implements Translator.
func (t *openAIToResponses) Dropped() []string { return t.dropped }

// Request implements Translator.
func (t *openAIToResponses) Request(body []byte) ([]byte, error) {
	t.dropped = nil
	r, err := parseObject(body)
	if err != nil {
		return nil, err
	}
	c := chatResponses{opt: t.opt, drops: &t.dropped}
	if err := eachKey(r, c.field); err != nil {
		return nil, err
	}
	req, err := c.finish()
	if err != nil {
		return nil, err
	}
	t.enc.includeUsage = c.includeUsage
	return marshal("responses request", req)
}

// chatResponses converts one Chat request to a Responses request.
type chatResponses struct {
	opt          Options
	drops        *drops
	out          responses.Request
	clientModel  string
	maxTokens    [2]int64 // max_completion_tokens, max_tokens; 0 when absent
	sawMessages  bool
	includeUsage bool
}

// finish assembles the request from the fields read.
func (c *chatResponses) finish() (*responses.Request, error) {
	if !c.sawMessages {
		return nil, reqErr("messages", "is required")
	}
	c.out.Model = cmpOr(c.opt.Model, c.clientModel)
	for _, n := range []int64{c.maxTokens[1], c.maxTokens[0]} {
		if n > 0 {
			c.out.MaxOutputTokens = max(n, minOutputTokens)
		}
	}
	if c.out.Input == nil {
		c.out.Input = []any{}
	}
	if c.out.ToolChoice != nil && len(c.out.Tools) == 0 {
		c.out.ToolChoice = nil
		c.drops.add("tool_choice")
	}
	return &c.out, nil
}

// field handles one top-level member of the request.
func (c *chatResponses) field(key string, v gjson.Result) error {
	var err error
	switch key {
	case "model":
		c.clientModel, err = wantString(v, key)
	case "messages":
		c.sawMessages = true
		if err = wantArray(v, key); err == nil {
			err = eachElem(v, c.message)
		}
	case "max_completion_tokens":
		c.maxTokens[0], err = wantPositive(v, key)
	case "max_tokens":
		c.maxTokens[1], err = wantPositive(v, key)
	case "temperature":
		c.out.Temperature, err = wantNumber(v, key)
	case "top_p":
		c.out.TopP, err = wantNumber(v, key)
	case "stream":
		c.out.Stream, err = wantBool(v, key)
	case "stream_options":
		err = wantObject(v, key)
		c.includeUsage = v.Get("include_usage").Bool()
	case "tools":
		err = c.tools(v)
	case "tool_choice":
		err = c.toolChoice(v)
	case "parallel_tool_calls":
		var b bool
		b, err = wantBool(v, key)
		c.out.ParallelToolCalls = &b
	case "n":
		var n int64
		if n, err = wantInt(v, key); err == nil && n != 1 {
			err = reqErr(key, "n must be 1: a Responses upstream returns one answer")
		}
	default:
		err = c.option(key, v)
	}
	return err
}

// option handles the members that do not shape the conversation.
func (c *chatResponses) option(key string, v gjson.Result) error {
	var err error
	switch key {
	case "response_format":
		err = c.responseFormat(v)
	case "reasoning_effort":
		var s string
		if s, err = wantString(v, key); err == nil {
			c.out.Reasoning = &responses.Reasoning{Effort: s}
		}
	case "verbosity":
		c.text().Verbosity, err = wantString(v, key)
	case "store":
		c.out.Store, err = wantBool(v, key)
	case "user":
		c.out.User, err = wantString(v, key)
	case "safety_identifier":
		c.out.SafetyIdentifier, err = wantString(v, key)
	case "prompt_cache_key":
		c.out.PromptCacheKey, err = wantString(v, key)
	case "service_tier":
		c.out.ServiceTier, err = wantString(v, key)
	case "metadata":
		if err = wantObject(v, key); err == nil {
			c.out.Metadata = json.RawMessage(v.Raw)
		}
	default: // stop, logprobs, top_logprobs, logit_bias, seed, penalties, modalities, audio, functions, …
		c.drops.add(jsonPath("", key))
	}
	return err
}

// text is the request's text member, made when first needed.
func (c *chatResponses) text() *responses.Text {
	if c.out.Text == nil {
		c.out.Text = &responses.Text{}
	}
	return c.out.Text
}

func (c *chatResponses) responseFormat(v gjson.Result) error {
	if err := wantObject(v, "response_format"); err != nil {
		return err
	}
	switch typ := v.Get("type").String(); typ {
	case "text":
	case "json_object":
		c.text().Format = &responses.Format{Type: typ}
	case "json_schema":
		js := v.Get("json_schema")
		if err := wantObject(js, "response_format.json_schema"); err != nil {
			return err
		}
		c.drops.unknown("response_format.json_schema", js, "name", "schema", "strict", "description")
		f := &responses.Format{Type: typ, Name: js.Get("name").String(), Description: js.Get("description").String(),
			Schema: json.RawMessage(cmpOr(js.Get("schema").Raw, `{"type":"object"}`))}
		if s := js.Get("strict"); s.IsBool() {
			b := s.Bool()
			f.Strict = &b
		}
		c.text().Format = f
	default:
		return reqErr("response_format.type", "unsupported response format %q", typ)
	}
	return nil
}

func (c *chatResponses) tools(v gjson.Result) error {
	if err := wantArray(v, "tools"); err != nil {
		return err
	}
	return eachElem(v, func(i int, tool gjson.Result) error {
		path := jsonPath("tools", i)
		if err := wantObject(tool, path); err != nil {
			return err
		}
		if tool.Get("type").String() != "function" {
			return reqErr(jsonPath(path, "type"), "only function tools can be sent to a Responses upstream")
		}
		c.drops.unknown(path, tool, "type", "function")
		fpath := jsonPath(path, "function")
		fn := tool.Get("function")
		if err := wantObject(fn, fpath); err != nil {
			return err
		}
		c.drops.unknown(fpath, fn, "name", "description", "parameters", "strict")
		def, err := functionTool(fpath, fn)
		c.out.Tools = append(c.out.Tools, responses.FunctionTool{Type: responses.ToolFunction, Name: def.Name,
			Description: def.Description, Parameters: def.InputSchema, Strict: fn.Get("strict").Type == gjson.True})
		return err
	})
}

// toolChoice maps tool_choice; forms the Responses API has no equivalent of
// here (allowed_tools, custom) are dropped.
func (c *chatResponses) toolChoice(v gjson.Result) error {
	switch {
	case v.Type == gjson.String:
		switch v.Str {
		case "auto", "none", "required":
			c.out.ToolChoice = v.Str
			return nil
		}
		return reqErr("tool_choice", "unsupported value %q", v.Str)
	case v.IsObject() && v.Get("type").String() == "function":
		c.drops.unknown("tool_choice", v, "type", "function")
		name, err := wantString(v.Get("function.name"), "tool_choice.function.name")
		c.out.ToolChoice = responses.NamedToolChoice{Type: responses.ToolFunction, Name: name}
		return err
	}
	c.drops.add("tool_choice")
	return nil
}
