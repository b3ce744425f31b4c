package translate

// Reading a Responses API request (docs/protocols.md §15.1), for every conversion from a
// Responses client (responses_anthropic.go, responses_ollama.go,
// responses_openai.go): one pass over the members into respRequest, which each
// conversion then writes in its upstream's terms.
//
// Decisions where the digest is silent, common to every upstream:
//   - Translated routes are stateless: previous_response_id, conversation, a
//     stored prompt, an item_reference and background:true are a RequestError
//     that says so; the client must send the whole conversation (Codex does).
//   - store:false, stream_options, truncation:"disabled", tool_choice:"auto",
//     parallel_tool_calls:true and the include entry reasoning.encrypted_content
//     (honoured where the upstream can give something back) are consumed; ids and
//     statuses of input items mean nothing to another provider and are consumed
//     too. store:true is dropped and recorded: nothing is stored.
//   - prompt_cache_key, prompt_cache_retention (OpenAI's prompt cache) and
//     client_metadata (Codex's ids, for OpenAI's telemetry) are consumed: no
//     answer depends on them. safety_identifier, service_tier, metadata and
//     text.verbosity are dropped and recorded: they change what OpenAI does.
//   - Tools other than function and custom (web_search*, file_search, mcp,
//     namespace, tool_search, ...) exist only at OpenAI: dropped and recorded.
//   - A custom (freeform) tool becomes a function with one string parameter,
//     "input" (customParam), whose description carries the tool's grammar; its
//     calls come back as custom_tool_call items (encode_responses.go).
//   - Input items of hosted tools (web_search_call, ...) are dropped and recorded.

import (
	"encoding/json"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/llmrouter/llmrouter/internal/responses"
)

// respRequest is a Responses request read member by member.
type respRequest struct {
	drops        *drops
	upstream     string // the upstream's name, for error messages
	model        string
	instructions string
	items        []respItem
	sawInput     bool
	tools        []respTool
	customs      map[string]bool // names of the custom tools
	choice       respChoice
	parallel     *bool
	maxOutput    int64
	temperature  json.RawMessage
	topP         json.RawMessage
	effort       string // reasoning.effort
	format       gjson.Result
	stream       bool
	user         string
	encrypted    bool // include asks for reasoning.encrypted_content
	echo         respEcho
}

// itemKind is what an input item is, as far as a conversion cares.
type itemKind uint8

const (
	itemMessage   itemKind = iota + 1
	itemCall               // function_call, and custom_tool_call with its input wrapped as {"input": …}
	itemOutput             // function_call_output, custom_tool_call_output
	itemReasoning          // reasoning
)

// respItem is one input item.
type respItem struct {
	kind      itemKind
	path      string
	role      string     // message: user, assistant, system or developer
	plain     bool       // message: its content was a string
	parts     []respPart // message
	callID    string     // call, output
	name      string     // call
	args      string     // call: a JSON object
	output    string     // output: its text
	summary   string     // reasoning: the summary texts (or reasoning texts), joined with "\n"
	encrypted string     // reasoning: encrypted_content
}

// respPart is one part of a message: text, or an image URL.
type respPart struct {
	path   string
	text   string
	image  string // the image's URL, for an input_image part
	detail string
}

// respTool is a function declaration; a custom tool's is made by customFunction.
type respTool struct {
	path        string
	name        string
	description string
	parameters  json.RawMessage
	strict      bool
	custom      bool
}

// respChoice is tool_choice: mode "auto", "none", "required", or "tool" (name).
type respChoice struct {
	mode, name string
}

// read reads body, a Responses request.
func (c *respRequest) read(body []byte) error {
	r, err := parseObject(body)
	if err != nil {
		return err
	}
	c.echo.parallel = true
	if err := eachKey(r, c.field); err != nil {
		return err
	}
	if !c.sawInput {
		return reqErr("input", "is required")
	}
	return nil
}

// stateless is the error for a member that needs state kept at OpenAI.
func (c *respRequest) stateless(path string) error {
	return reqErr(path, "this route is stateless (its %s upstream keeps no responses): %s cannot be used; "+
		"send the whole conversation in input, with store:false", c.upstream, path)
}

// field reads one top-level member.
func (c *respRequest) field(key string, v gjson.Result) error {
	var err error
	switch key {
	case "model":
		c.model, err = wantString(v, key)
	case "input":
		c.sawInput = true
		err = c.input(v)
	case "instructions":
		c.instructions, err = wantString(v, key)
		c.echo.instructions = raw(v)
	case "tools":
		c.echo.tools = raw(v)
		err = c.readTools(v)
	case "tool_choice":
		c.echo.toolChoice = raw(v)
		c.choice, err = c.readChoice(v)
	case "parallel_tool_calls":
		var b bool
		b, err = wantBool(v, key)
		c.parallel, c.echo.parallel = &b, b
	case "max_output_tokens":
		c.maxOutput, err = wantPositive(v, key)
		c.echo.maxOutputTokens = raw(v)
	case "temperature", "top_p":
		var n json.RawMessage
		n, err = wantNumber(v, key)
		c.sampling(key, n)
	case "reasoning":
		c.echo.reasoning = raw(v)
		err = c.reasoning(v)
	case "text":
		c.echo.text = raw(v)
		err = c.text(v)
	default:
		err = c.other(key, v)
	}
	return err
}

// sampling keeps temperature or top_p.
func (c *respRequest) sampling(key string, n json.RawMessage) {
	if key == "temperature" {
		c.temperature, c.echo.temperature = n, n
		return
	}
	c.topP, c.echo.topP = n, n
}

// other reads the members that do not shape the conversation.
func (c *respRequest) other(key string, v gjson.Result) error {
	var err error
	switch key {
	case "stream":
		c.stream, err = wantBool(v, key)
	case "store":
		var b bool
		if b, err = wantBool(v, key); b {
			c.drops.add(key)
		}
	case "include":
		err = c.include(v)
	case "user":
		c.user, err = wantString(v, key)
		c.echo.user = raw(v)
	case "metadata":
		c.echo.metadata = raw(v)
		c.drops.add(key)
	case "previous_response_id", "conversation", "prompt":
		err = c.stateless(key)
	case "background":
		var b bool
		if b, err = wantBool(v, key); b {
			err = c.stateless(key)
		}
	case "truncation":
		if v.String() != "disabled" {
			c.drops.add(key)
		}
	case "stream_options": // include_obfuscation: translated streams have no obfuscation
	case "prompt_cache_key", "prompt_cache_retention", "client_metadata":
		// Hints to OpenAI's prompt cache, and Codex's ids for OpenAI's telemetry:
		// what a model answers never depends on them, and Codex sends them with
		// every request (strict_translation must not refuse it for them).
	default: // safety_identifier, service_tier, max_tool_calls, top_logprobs, …
		c.drops.add(jsonPath("", key))
	}
	return err
}

// raw is v's JSON text, to echo in the response object.
func raw(v gjson.Result) json.RawMessage { return json.RawMessage(v.Raw) }

func (c *respRequest) include(v gjson.Result) error {
	if err := wantArray(v, "include"); err != nil {
		return err
	}
	return eachElem(v, func(i int, e gjson.Result) error {
		s, err := wantString(e, jsonPath("include", i))
		switch {
		case s == responses.IncludeEncryptedReasoning:
			c.encrypted = true
		case err == nil:
			c.drops.add(jsonPath("include", i))
		}
		return err
	})
}

// reasoningEfforts are the values of reasoning.effort (docs/protocols.md §15.1).
var reasoningEfforts = map[string]bool{"none": true, "minimal": true, "low": true, "medium": true, "high": true,
	"xhigh": true, "max": true}

func (c *respRequest) reasoning(v gjson.Result) error {
	if err := wantObject(v, "reasoning"); err != nil {
		return err
	}
	return eachKey(v, func(k string, f gjson.Result) error {
		var err error
		switch k {
		case "effort":
			if c.effort, err = wantString(f, "reasoning.effort"); err == nil && !reasoningEfforts[c.effort] {
				err = reqErr("reasoning.effort", "unsupported reasoning effort %q", c.effort)
			}
		case "summary", "generate_summary": // thinking always comes back as the summary
			_, err = wantString(f, jsonPath("reasoning", k))
		default:
			c.drops.add(jsonPath("reasoning", k))
		}
		return err
	})
}

func (c *respRequest) text(v gjson.Result) error {
	if err := wantObject(v, "text"); err != nil {
		return err
	}
	return eachKey(v, func(k string, f gjson.Result) error {
		if k != "format" {
			c.drops.add(jsonPath("text", k)) // verbosity
			return nil
		}
		if err := wantObject(f, "text.format"); err != nil {
			return err
		}
		switch typ := f.Get("type").String(); typ {
		case "text":
		case "json_object":
			c.format = f
		case "json_schema":
			if !f.Get("schema").IsObject() {
				return reqErr("text.format.schema", "must be an object")
			}
			c.format = f
		default:
			return reqErr("text.format.type", "unsupported format %q", typ)
		}
		return nil
	})
}

// readChoice reads tool_choice. Forms no other provider has (allowed_tools, a
// hosted tool) are dropped and recorded, leaving the default.
func (c *respRequest) readChoice(v gjson.Result) (respChoice, error) {
	if v.Type == gjson.String {
		switch v.Str {
		case "auto", "none", "required":
			return respChoice{mode: v.Str}, nil
		}
		return respChoice{}, reqErr("tool_choice", "unsupported value %q", v.Str)
	}
	if err := wantObject(v, "tool_choice"); err != nil {
		return respChoice{}, err
	}
	switch v.Get("type").String() {
	case responses.ToolFunction, responses.ToolCustom:
		name, err := wantString(v.Get("name"), "tool_choice.name")
		return respChoice{mode: "tool", name: name}, err
	}
	c.drops.add("tool_choice")
	return respChoice{}, nil
}

// customParam is the one parameter of the function a custom tool becomes.
const customParam = "input"

// readTools reads the function and custom tools; other kinds are dropped.
func (c *respRequest) readTools(v gjson.Result) error {
	if err := wantArray(v, "tools"); err != nil {
		return err
	}
	return eachElem(v, func(i int, tool gjson.Result) error {
		path := jsonPath("tools", i)
		if err := wantObject(tool, path); err != nil {
			return err
		}
		switch tool.Get("type").String() {
		case responses.ToolFunction:
			return c.functionTool(path, tool)
		case responses.ToolCustom:
			return c.customTool(path, tool)
		}
		c.drops.add(path)
		return nil
	})
}

func (c *respRequest) functionTool(path string, tool gjson.Result) error {
	c.drops.unknown(path, tool, "type", "name", "description", "parameters", "strict")
	t := respTool{path: path, parameters: json.RawMessage(`{"type":"object"}`)}
	var err error
	if t.name, err = wantString(tool.Get("name"), jsonPath(path, "name")); err != nil {
		return err
	}
	if d := tool.Get("description"); d.Exists() && d.Type != gjson.Null {
		if t.description, err = wantString(d, jsonPath(path, "description")); err != nil {
			return err
		}
	}
	if p := tool.Get("parameters"); p.Exists() && p.Type != gjson.Null {
		if err := wantObject(p, jsonPath(path, "parameters")); err != nil {
			return err
		}
		t.parameters = json.RawMessage(p.Raw)
	}
	t.strict = tool.Get("strict").Type == gjson.True
	c.tools = append(c.tools, t)
	return nil
}

// customTool reads a custom tool as the function that stands for it.
func (c *respRequest) customTool(path string, tool gjson.Result) error {
	c.drops.unknown(path, tool, "type", "name", "description", "format")
	t := respTool{path: path, custom: true}
	var err error
	if t.name, err = wantString(tool.Get("name"), jsonPath(path, "name")); err != nil {
		return err
	}
	if d := tool.Get("description"); d.Exists() && d.Type != gjson.Null {
		if t.description, err = wantString(d, jsonPath(path, "description")); err != nil {
			return err
		}
	}
	if t.parameters, err = customParameters(jsonPath(path, "format"), tool.Get("format")); err != nil {
		return err
	}
	if c.customs == nil {
		c.customs = map[string]bool{}
	}
	c.customs[t.name] = true
	c.tools = append(c.tools, t)
	return nil
}

// customParameters is the JSON Schema of a custom tool's function: one required
// string, "input", described so that the model writes the tool's raw input there,
// matching the tool's grammar when it has one.
func customParameters(path string, format gjson.Result) (json.RawMessage, error) {
	desc := "The tool's whole input, as plain text (not JSON)."
	switch typ := format.Get("type").String(); {
	case !format.Exists() || format.Type == gjson.Null || typ == "text":
	case typ == "grammar":
		syntax, def := format.Get("syntax").String(), format.Get("definition")
		if def.Type != gjson.String {
			return nil, reqErr(jsonPath(path, "definition"), "must be a string")
		}
		desc += " It must match this " + syntax + " grammar:\n" + def.Str
	default:
		return nil, reqErr(jsonPath(path, "type"), "unsupported custom tool format %q", typ)
	}
	d, err := marshal("custom tool description", desc)
	if err != nil {
		return nil, err
	}
	return json.RawMessage(`{"type":"object","properties":{"` + customParam + `":{"type":"string","description":` +
		string(d) + `}},"required":["` + customParam + `"],"additionalProperties":false}`), nil
}

// customArgs wraps a custom tool call's raw input as the arguments of the
// function that stands for it: {"input": …}.
func customArgs(input string) string {
	b, _ := marshal("custom tool input", map[string]string{customParam: input}) // a string always encodes
	return string(b)
}

// joinLines joins non-empty texts with "\n".
func joinLines(texts []string) string {
	return strings.Join(texts, "\n")
}
