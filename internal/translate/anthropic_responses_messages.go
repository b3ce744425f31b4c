package translate

// Anthropic Messages client, Responses upstream: the messages of the request,
// as input items (anthropic_responses.go has the rest).

import (
	"github.com/tidwall/gjson"

	"github.com/llmrouter/llmrouter/internal/responses"
)

func (c *messagesResponses) message(i int, m gjson.Result) error {
	path := jsonPath("messages", i)
	if err := wantObject(m, path); err != nil {
		return err
	}
	c.drops.unknown(path, m, "role", "content")
	role := m.Get("role").String()
	if role != "user" && role != "assistant" && role != "system" {
		return reqErr(jsonPath(path, "role"), "unsupported role %q", role)
	}
	cpath := jsonPath(path, "content")
	content := m.Get("content")
	if content.Type == gjson.String {
		c.add(responses.Message{Type: responses.ItemMessage, Role: role, Content: content.Str})
		return nil
	}
	switch role {
	case "user":
		return c.userBlocks(cpath, content)
	case "assistant":
		return c.assistantBlocks(path, content)
	}
	parts, err := c.inputTexts(cpath, content)
	c.add(responses.Message{Type: responses.ItemMessage, Role: "system", Content: parts})
	return err
}

// userBlocks adds one function_call_output per tool_result block, then the rest
// of the turn as one user message.
func (c *messagesResponses) userBlocks(path string, content gjson.Result) error {
	if err := wantArray(content, path); err != nil {
		return err
	}
	parts := []any{}
	tools := 0
	err := eachElem(content, func(j int, b gjson.Result) error {
		bpath := jsonPath(path, j)
		switch typ := b.Get("type").String(); typ {
		case "text":
			s, err := c.text(bpath, b)
			parts = append(parts, responses.InputText{Type: responses.PartInputText, Text: s})
			return err
		case "image":
			p, err := c.image(bpath, b)
			parts = append(parts, p)
			return err
		case "tool_result":
			tools++
			return c.toolResult(bpath, b)
		case "document":
			return reqErr(bpath, "document blocks cannot be sent to a Responses upstream")
		default:
			return reqErr(jsonPath(bpath, "type"), "unsupported block type %q in a user message", typ)
		}
	})
	if len(parts) > 0 || tools == 0 {
		c.add(responses.Message{Type: responses.ItemMessage, Role: "user", Content: parts})
	}
	return err
}

// image converts an image block to an input_image with a data: or http(s) URL.
func (c *messagesResponses) image(path string, b gjson.Result) (any, error) {
	u, err := anthropicImageURL(c.drops, path, b, "a Responses upstream")
	if err != nil {
		return nil, err
	}
	return responses.InputImage{Type: responses.PartInputImage, ImageURL: u}, nil
}

func (c *messagesResponses) toolResult(path string, b gjson.Result) error {
	id, text, err := anthropicToolResult(c.drops, path, b)
	if err != nil {
		return err
	}
	c.add(responses.FunctionCallOutput{Type: responses.ItemFunctionCallOutput, CallID: id, Output: text})
	return nil
}

// assistantBlocks adds the turn's text runs as assistant messages and its
// tool_use blocks as function_call items, in order.
func (c *messagesResponses) assistantBlocks(path string, content gjson.Result) error {
	cpath := jsonPath(path, "content")
	if err := wantArray(content, cpath); err != nil {
		return err
	}
	var texts []string
	flush := func() {
		if len(texts) > 0 {
			c.add(responses.Message{Type: responses.ItemMessage, Role: "assistant", Content: joinLines(texts)})
			texts = nil
		}
	}
	added := len(c.out.Input)
	err := eachElem(content, func(j int, b gjson.Result) error {
		bpath := jsonPath(cpath, j)
		switch typ := b.Get("type").String(); typ {
		case "text":
			s, err := c.text(bpath, b)
			if s != "" {
				texts = append(texts, s)
			}
			return err
		case "tool_use":
			flush()
			return c.toolUse(bpath, b)
		case "thinking", "redacted_thinking":
			c.drops.add(bpath) // the signature is Anthropic's alone
			return nil
		default:
			return reqErr(jsonPath(bpath, "type"), "unsupported block type %q in an assistant message", typ)
		}
	})
	flush()
	if err == nil && len(c.out.Input) == added && len(content.Array()) == 0 {
		c.drops.add(path)
	}
	return err
}

func (c *messagesResponses) toolUse(path string, b gjson.Result) error {
	c.drops.unknown(path, b, "type", "id", "name", "input") // caller, cache_control
	id, err := wantString(b.Get("id"), jsonPath(path, "id"))
	if err != nil {
		return err
	}
	name, err := wantString(b.Get("name"), jsonPath(path, "name"))
	if err != nil {
		return err
	}
	in := b.Get("input")
	if in.Exists() && !in.IsObject() {
		return reqErr(jsonPath(path, "input"), "must be an object")
	}
	c.add(responses.FunctionCall{Type: responses.ItemFunctionCall, CallID: id, Name: name, Arguments: inputArguments(in)})
	return nil
}
