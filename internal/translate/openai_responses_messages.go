package translate

// OpenAI Chat Completions client, Responses upstream: the messages of the
// request, as input items (openai_responses.go has the rest).

import (
	"github.com/tidwall/gjson"

	"github.com/llmrouter/llmrouter/internal/responses"
)

// add appends an input item.
func (c *chatResponses) add(item any) { c.out.Input = append(c.out.Input, item) }

func (c *chatResponses) message(i int, m gjson.Result) error {
	path := jsonPath("messages", i)
	if err := wantObject(m, path); err != nil {
		return err
	}
	switch role := m.Get("role").String(); role {
	case "system", "developer", "user":
		c.drops.unknown(path, m, "role", "content") // name
		content, err := c.content(jsonPath(path, "content"), m.Get("content"), role == "user")
		c.add(responses.Message{Type: responses.ItemMessage, Role: role, Content: content})
		return err
	case "assistant":
		return c.assistant(path, m)
	case "tool":
		return c.toolOutput(path, m)
	case "function":
		return reqErr(jsonPath(path, "role"), "deprecated function messages are not supported; use tool messages")
	default:
		return reqErr(jsonPath(path, "role"), "unsupported role %q", role)
	}
}

// content reads a message's content: a string stays one; parts become input
// parts (images and files only where media is allowed).
func (c *chatResponses) content(path string, v gjson.Result, media bool) (any, error) {
	if v.Type == gjson.String {
		return v.Str, nil
	}
	if !v.IsArray() {
		return nil, reqErr(path, "must be a string or an array of content parts")
	}
	parts := []any{}
	err := eachElem(v, func(j int, p gjson.Result) error {
		part, err := c.part(jsonPath(path, j), p, media)
		parts = append(parts, part)
		return err
	})
	return parts, err
}

func (c *chatResponses) part(path string, p gjson.Result, media bool) (any, error) {
	typ := p.Get("type").String()
	switch {
	case typ == "text":
		c.drops.unknown(path, p, "type", "text")
		s, err := wantString(p.Get("text"), jsonPath(path, "text"))
		return responses.InputText{Type: responses.PartInputText, Text: s}, err
	case typ == "image_url" && media:
		iu := p.Get("image_url")
		if err := wantObject(iu, jsonPath(path, "image_url")); err != nil {
			return nil, err
		}
		c.drops.unknown(jsonPath(path, "image_url"), iu, "url", "detail")
		u, err := wantString(iu.Get("url"), jsonPath(path, "image_url", "url"))
		return responses.InputImage{Type: responses.PartInputImage, ImageURL: u, Detail: iu.Get("detail").String()}, err
	case typ == "file" && media:
		f := p.Get("file")
		if err := wantObject(f, jsonPath(path, "file")); err != nil {
			return nil, err
		}
		c.drops.unknown(jsonPath(path, "file"), f, "file_id", "file_data", "filename")
		return responses.InputFile{Type: responses.PartInputFile, FileID: f.Get("file_id").String(),
			FileData: f.Get("file_data").String(), Filename: f.Get("filename").String()}, nil
	case typ == "input_audio":
		return nil, reqErr(path, "input_audio content parts cannot be sent to a Responses upstream")
	}
	return nil, reqErr(jsonPath(path, "type"), "unsupported content part type %q here", typ)
}

// assistant converts an assistant message: its text (or refusal) as a message
// with string content, then one function_call item per tool call.
func (c *chatResponses) assistant(path string, m gjson.Result) error {
	c.drops.unknown(path, m, "role", "content", "tool_calls", "refusal", "function_call")
	if m.Get("function_call").IsObject() {
		return reqErr(jsonPath(path, "function_call"), "deprecated function_call is not supported; use tool_calls")
	}
	texts, err := assistantTexts(jsonPath(path, "content"), m.Get("content"))
	if err != nil {
		return err
	}
	if r := m.Get("refusal"); r.Type == gjson.String && r.Str != "" {
		texts = append(texts, r.Str)
	}
	if len(texts) > 0 {
		c.add(responses.Message{Type: responses.ItemMessage, Role: "assistant", Content: joinLines(texts)})
	}
	calls := m.Get("tool_calls")
	if !calls.Exists() || calls.Type == gjson.Null {
		if len(texts) == 0 {
			c.drops.add(path)
		}
		return nil
	}
	if err := wantArray(calls, jsonPath(path, "tool_calls")); err != nil {
		return err
	}
	return eachElem(calls, func(k int, tc gjson.Result) error {
		return c.toolCall(jsonPath(path, "tool_calls", k), tc)
	})
}

// assistantTexts reads assistant content: a string, text/refusal parts, or
// null; empty texts are left out.
func assistantTexts(path string, v gjson.Result) ([]string, error) {
	var texts []string
	add := func(s string) {
		if s != "" {
			texts = append(texts, s)
		}
	}
	switch {
	case !v.Exists() || v.Type == gjson.Null:
	case v.Type == gjson.String:
		add(v.Str)
	case v.IsArray():
		err := eachElem(v, func(j int, p gjson.Result) error {
			typ := p.Get("type").String()
			if typ != "text" && typ != "refusal" {
				return reqErr(jsonPath(path, j, "type"), "only text and refusal parts are allowed in assistant messages")
			}
			s, err := wantString(p.Get(typ), jsonPath(path, j, typ))
			add(s)
			return err
		})
		return texts, err
	default:
		return nil, reqErr(path, "must be a string, an array of parts or null")
	}
	return texts, nil
}

func (c *chatResponses) toolCall(path string, tc gjson.Result) error {
	if err := wantObject(tc, path); err != nil {
		return err
	}
	if typ := tc.Get("type"); typ.Exists() && typ.String() != "function" {
		return reqErr(jsonPath(path, "type"), "only function tool calls can be sent to a Responses upstream")
	}
	c.drops.unknown(path, tc, "id", "type", "function")
	id, err := wantString(tc.Get("id"), jsonPath(path, "id"))
	if err != nil {
		return err
	}
	fpath := jsonPath(path, "function")
	fn := tc.Get("function")
	if err := wantObject(fn, fpath); err != nil {
		return err
	}
	c.drops.unknown(fpath, fn, "name", "arguments")
	name, err := wantString(fn.Get("name"), jsonPath(fpath, "name"))
	if err != nil {
		return err
	}
	args, err := argumentsObject(fn.Get("arguments"), jsonPath(fpath, "arguments"))
	c.add(responses.FunctionCall{Type: responses.ItemFunctionCall, CallID: id, Name: name, Arguments: string(args)})
	return err
}

func (c *chatResponses) toolOutput(path string, m gjson.Result) error {
	c.drops.unknown(path, m, "role", "content", "tool_call_id")
	id, err := wantString(m.Get("tool_call_id"), jsonPath(path, "tool_call_id"))
	if err != nil {
		return err
	}
	cpath := jsonPath(path, "content")
	text, err := joinedText(cpath, m.Get("content"), "text parts", func(ppath string, p gjson.Result) (*string, error) {
		if p.Get("type").String() != "text" {
			return nil, reqErr(jsonPath(ppath, "type"), "only text parts are allowed here")
		}
		c.drops.unknown(ppath, p, "type", "text")
		s, err := wantString(p.Get("text"), jsonPath(ppath, "text"))
		return &s, err
	})
	c.add(responses.FunctionCallOutput{Type: responses.ItemFunctionCallOutput, CallID: id, Output: text})
	return err
}
