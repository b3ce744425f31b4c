package translate

// Reading the input items of a Responses request (docs/protocols.md §15.1) into respItems.

import (
	"github.com/tidwall/gjson"

	"github.com/llmrouter/llmrouter/internal/responses"
)

// input reads input: a string (one user message) or an array of items.
func (c *respRequest) input(v gjson.Result) error {
	if v.Type == gjson.String {
		c.items = append(c.items, respItem{kind: itemMessage, path: "input", role: "user", plain: true,
			parts: []respPart{{path: "input", text: v.Str}}})
		return nil
	}
	if err := wantArray(v, "input"); err != nil {
		return err
	}
	return eachElem(v, func(i int, it gjson.Result) error {
		path := jsonPath("input", i)
		if err := wantObject(it, path); err != nil {
			return err
		}
		return c.item(path, it)
	})
}

// item reads one input item; a message may leave out its type.
func (c *respRequest) item(path string, it gjson.Result) error {
	typ := it.Get("type").String()
	if typ == "" && it.Get("role").Exists() {
		typ = responses.ItemMessage
	}
	switch typ {
	case responses.ItemMessage:
		return c.message(path, it)
	case responses.ItemFunctionCall, responses.ItemCustomToolCall:
		return c.call(path, typ, it)
	case responses.ItemFunctionCallOutput, responses.ItemCustomToolCallOutput:
		return c.callOutput(path, it)
	case responses.ItemReasoning:
		return c.reasoningItem(path, it)
	case responses.ItemReference:
		return c.stateless(path)
	case "":
		return reqErr(jsonPath(path, "type"), "is required")
	}
	c.drops.add(path) // a hosted tool's call or output: web_search_call, computer_call, …
	return nil
}

func (c *respRequest) message(path string, m gjson.Result) error {
	c.drops.unknown(path, m, "type", "id", "status", "role", "content")
	role := m.Get("role").String()
	switch role {
	case "user", "assistant", "system", "developer":
	default:
		return reqErr(jsonPath(path, "role"), "unsupported role %q", role)
	}
	item := respItem{kind: itemMessage, path: path, role: role}
	cpath := jsonPath(path, "content")
	content := m.Get("content")
	if content.Type == gjson.String {
		item.parts, item.plain = []respPart{{path: cpath, text: content.Str}}, true
		c.items = append(c.items, item)
		return nil
	}
	if err := wantArray(content, cpath); err != nil {
		return reqErr(cpath, "must be a string or an array of content parts")
	}
	err := eachElem(content, func(j int, p gjson.Result) error {
		part, err := c.part(jsonPath(cpath, j), p)
		item.parts = append(item.parts, part)
		return err
	})
	c.items = append(c.items, item)
	return err
}

// part reads one content part: input_text, output_text and refusal are text;
// input_image with an image_url an image. A file (input_file, or an image by
// file_id) is stored at OpenAI, out of any other provider's reach.
func (c *respRequest) part(path string, p gjson.Result) (respPart, error) {
	if err := wantObject(p, path); err != nil {
		return respPart{}, err
	}
	switch typ := p.Get("type").String(); typ {
	case responses.PartInputText, responses.PartOutputText:
		c.drops.unknown(path, p, "type", "text", "annotations", "logprobs")
		s, err := wantString(p.Get("text"), jsonPath(path, "text"))
		return respPart{path: path, text: s}, err
	case responses.PartRefusal:
		c.drops.unknown(path, p, "type", "refusal")
		s, err := wantString(p.Get("refusal"), jsonPath(path, "refusal"))
		return respPart{path: path, text: s}, err
	case responses.PartInputImage:
		c.drops.unknown(path, p, "type", "image_url", "detail", "file_id")
		u := p.Get("image_url")
		if u.Type != gjson.String {
			return respPart{}, reqErr(jsonPath(path, "image_url"), "is required: an image stored at OpenAI (file_id) cannot reach a %s upstream", c.upstream)
		}
		return respPart{path: path, image: u.Str, detail: p.Get("detail").String()}, nil
	case responses.PartInputFile:
		return respPart{}, reqErr(path, "input_file parts cannot be sent to a %s upstream", c.upstream)
	default:
		return respPart{}, reqErr(jsonPath(path, "type"), "unsupported content part type %q", typ)
	}
}

// call reads a function_call, or a custom_tool_call whose raw input becomes the
// arguments of the function that stands for the custom tool.
func (c *respRequest) call(path, typ string, it gjson.Result) error {
	field := "arguments"
	if typ == responses.ItemCustomToolCall {
		field = "input"
	}
	c.drops.unknown(path, it, "type", "id", "status", "call_id", "name", field)
	item := respItem{kind: itemCall, path: path}
	var err error
	if item.callID, err = wantString(it.Get("call_id"), jsonPath(path, "call_id")); err != nil {
		return err
	}
	if item.name, err = wantString(it.Get("name"), jsonPath(path, "name")); err != nil {
		return err
	}
	v := it.Get(field)
	if !v.Exists() || v.Type == gjson.Null {
		v = gjson.Result{Type: gjson.String}
	}
	s, err := wantString(v, jsonPath(path, field))
	if err != nil {
		return err
	}
	if typ == responses.ItemCustomToolCall {
		item.args = customArgs(s)
	} else if item.args, err = argumentsText(s, jsonPath(path, field)); err != nil {
		return err
	}
	c.items = append(c.items, item)
	return nil
}

// argumentsText checks a call's arguments: a JSON object as a string; "" is {}.
func argumentsText(s, path string) (string, error) {
	raw, err := argumentsObject(gjson.Result{Type: gjson.String, Str: s}, path)
	return string(raw), err
}

// callOutput reads a function_call_output or custom_tool_call_output: output is
// a string or parts, whose text is joined; images and files in it are dropped.
func (c *respRequest) callOutput(path string, it gjson.Result) error {
	c.drops.unknown(path, it, "type", "id", "status", "call_id", "output")
	item := respItem{kind: itemOutput, path: path}
	var err error
	if item.callID, err = wantString(it.Get("call_id"), jsonPath(path, "call_id")); err != nil {
		return err
	}
	opath := jsonPath(path, "output")
	item.output, err = joinedText(opath, it.Get("output"), "content parts", func(ppath string, p gjson.Result) (*string, error) {
		if p.Get("type").String() != responses.PartInputText {
			c.drops.add(ppath)
			return nil, nil
		}
		c.drops.unknown(ppath, p, "type", "text")
		s, err := wantString(p.Get("text"), jsonPath(ppath, "text"))
		return &s, err
	})
	c.items = append(c.items, item)
	return err
}

// reasoningItem reads a reasoning item: its summary (or reasoning) texts and
// its encrypted_content, which only a conversion that knows its origin uses.
func (c *respRequest) reasoningItem(path string, it gjson.Result) error {
	c.drops.unknown(path, it, "type", "id", "status", "summary", "content", "encrypted_content")
	item := respItem{kind: itemReasoning, path: path}
	var texts []string
	for _, key := range []string{"summary", "content"} { // the reasoning text only when there is no summary
		v := it.Get(key)
		if !v.Exists() || v.Type == gjson.Null || len(texts) > 0 {
			continue
		}
		if err := wantArray(v, jsonPath(path, key)); err != nil {
			return err
		}
		err := eachElem(v, func(j int, p gjson.Result) error {
			s, err := wantString(p.Get("text"), jsonPath(path, key, j, "text"))
			if s != "" {
				texts = append(texts, s)
			}
			return err
		})
		if err != nil {
			return err
		}
	}
	item.summary = joinLines(texts)
	if e := it.Get("encrypted_content"); e.Exists() && e.Type != gjson.Null {
		var err error
		if item.encrypted, err = wantString(e, jsonPath(path, "encrypted_content")); err != nil {
			return err
		}
	}
	c.items = append(c.items, item)
	return nil
}
