package translate

// OpenAI Chat Completions client, Anthropic Messages upstream: the messages of the
// request (openai_anthropic.go has the rest). Consecutive messages of one role
// become one Anthropic turn; tool messages become tool_result blocks.

import (
	"encoding/json"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/llmrouter/llmrouter/internal/anthropic"
)

// turn is one Anthropic message being assembled from consecutive same-role OpenAI
// messages. Tool results are kept apart because Anthropic wants them first.
type turn struct {
	role    string
	results []any
	blocks  []any
	plain   bool // a single string-content message: sent as a string
}

// push appends blocks to the last turn when it has the same role, else starts a turn.
func (c *chatConv) push(role string, blocks, results []any, plain bool) {
	if n := len(c.turns); n > 0 && c.turns[n-1].role == role {
		t := &c.turns[n-1]
		t.blocks = append(t.blocks, blocks...)
		t.results = append(t.results, results...)
		t.plain = false
		return
	}
	c.turns = append(c.turns, turn{role: role, blocks: blocks, results: results, plain: plain})
}

func (t turn) message() anthropic.MessageParam {
	if t.plain && len(t.blocks) == 1 && len(t.results) == 0 {
		if b, ok := t.blocks[0].(anthropic.TextBlock); ok {
			return anthropic.MessageParam{Role: t.role, Content: b.Text}
		}
	}
	content := make([]any, 0, len(t.results)+len(t.blocks))
	content = append(content, t.results...)
	return anthropic.MessageParam{Role: t.role, Content: append(content, t.blocks...)}
}

// textOnly reads content that may only be text: a string or an array of text parts,
// joined with "\n".
func (c *chatConv) textOnly(path string, v gjson.Result) (string, error) {
	return joinedText(path, v, "text parts", func(path string, p gjson.Result) (*string, error) {
		s, err := c.textPart(path, p)
		return &s, err
	})
}

func (c *chatConv) textPart(path string, p gjson.Result) (string, error) {
	if p.Get("type").String() != "text" {
		return "", reqErr(jsonPath(path, "type"), "only text parts are allowed here")
	}
	c.drops.unknown(path, p, "type", "text")
	return wantString(p.Get("text"), jsonPath(path, "text"))
}

func (c *chatConv) userMessage(path string, m gjson.Result) error {
	c.drops.unknown(path, m, "role", "content")
	cpath := jsonPath(path, "content")
	content := m.Get("content")
	if content.Type == gjson.String {
		c.push("user", []any{anthropic.TextBlock{Type: "text", Text: content.Str}}, nil, true)
		return nil
	}
	if !content.IsArray() {
		return reqErr(cpath, "must be a string or an array of content parts")
	}
	blocks := []any{}
	err := eachElem(content, func(j int, p gjson.Result) error {
		b, err := c.userPart(jsonPath(cpath, j), p)
		blocks = append(blocks, b)
		return err
	})
	c.push("user", blocks, nil, false)
	return err
}

func (c *chatConv) userPart(path string, p gjson.Result) (any, error) {
	switch typ := p.Get("type").String(); typ {
	case "text":
		s, err := c.textPart(path, p)
		return anthropic.TextBlock{Type: "text", Text: s}, err
	case "image_url":
		return c.imagePart(path, p)
	case "input_audio", "file":
		return nil, reqErr(path, "%s content parts cannot be sent to an Anthropic upstream", typ)
	default:
		return nil, reqErr(jsonPath(path, "type"), "unsupported content part type %q", typ)
	}
}

func (c *chatConv) imagePart(path string, p gjson.Result) (any, error) {
	ipath := jsonPath(path, "image_url")
	iu := p.Get("image_url")
	if err := wantObject(iu, ipath); err != nil {
		return nil, err
	}
	c.drops.unknown(path, p, "type", "image_url")
	c.drops.unknown(ipath, iu, "url") // detail: Anthropic has no equivalent
	upath := jsonPath(ipath, "url")
	u, err := wantString(iu.Get("url"), upath)
	if err != nil {
		return nil, err
	}
	lower := strings.ToLower(u)
	switch {
	case strings.HasPrefix(lower, "data:"):
		mt, data, ok := parseDataURL(u)
		if !ok {
			return nil, reqErr(upath, "data URL must be base64 encoded")
		}
		if !anthropicImageTypes[mt] {
			return nil, reqErr(upath, "image type %q is not supported (jpeg, png, gif or webp)", mt)
		}
		return anthropic.ImageBlock{Type: "image", Source: anthropic.ImageSource{Type: "base64", MediaType: mt, Data: data}}, nil
	case strings.HasPrefix(lower, "https://"), strings.HasPrefix(lower, "http://"):
		return anthropic.ImageBlock{Type: "image", Source: anthropic.ImageSource{Type: "url", URL: u}}, nil
	}
	return nil, reqErr(upath, "must be an http(s) URL or a base64 data URL")
}

func (c *chatConv) assistantMessage(path string, m gjson.Result) error {
	c.drops.unknown(path, m, "role", "content", "tool_calls", "refusal", "function_call")
	if m.Get("function_call").IsObject() {
		return reqErr(jsonPath(path, "function_call"), "deprecated function_call is not supported; use tool_calls")
	}
	content := m.Get("content")
	blocks, err := c.assistantText(jsonPath(path, "content"), content)
	if err != nil {
		return err
	}
	if r := m.Get("refusal"); r.Type == gjson.String && r.Str != "" {
		if len(blocks) == 0 {
			blocks = append(blocks, anthropic.TextBlock{Type: "text", Text: r.Str})
		} else {
			c.drops.add(jsonPath(path, "refusal"))
		}
	}
	calls, err := c.toolCalls(jsonPath(path, "tool_calls"), m.Get("tool_calls"))
	if err != nil {
		return err
	}
	if len(blocks)+len(calls) == 0 {
		c.drops.add(path)
		return nil
	}
	plain := content.Type == gjson.String && len(blocks) == 1 && len(calls) == 0
	c.push("assistant", append(blocks, calls...), nil, plain)
	return nil
}

// assistantText reads assistant content: a string, text/refusal parts, or null.
// Empty text is left out.
func (c *chatConv) assistantText(path string, v gjson.Result) ([]any, error) {
	var blocks []any
	add := func(s string) {
		if s != "" {
			blocks = append(blocks, anthropic.TextBlock{Type: "text", Text: s})
		}
	}
	switch {
	case !v.Exists() || v.Type == gjson.Null:
	case v.Type == gjson.String:
		add(v.Str)
	case v.IsArray():
		err := eachElem(v, func(j int, p gjson.Result) error {
			ppath := jsonPath(path, j)
			typ := p.Get("type").String()
			if typ != "text" && typ != "refusal" {
				return reqErr(jsonPath(ppath, "type"), "only text and refusal parts are allowed in assistant messages")
			}
			c.drops.unknown(ppath, p, "type", typ)
			s, err := wantString(p.Get(typ), jsonPath(ppath, typ))
			add(s)
			return err
		})
		return blocks, err
	default:
		return nil, reqErr(path, "must be a string, an array of parts or null")
	}
	return blocks, nil
}

func (c *chatConv) toolCalls(path string, v gjson.Result) ([]any, error) {
	if !v.Exists() || v.Type == gjson.Null {
		return nil, nil
	}
	if err := wantArray(v, path); err != nil {
		return nil, err
	}
	var calls []any
	err := eachElem(v, func(k int, tc gjson.Result) error {
		b, err := c.toolCall(jsonPath(path, k), tc)
		calls = append(calls, b)
		return err
	})
	return calls, err
}

func (c *chatConv) toolCall(path string, tc gjson.Result) (any, error) {
	if err := wantObject(tc, path); err != nil {
		return nil, err
	}
	if typ := tc.Get("type"); typ.Exists() && typ.String() != "function" {
		return nil, reqErr(jsonPath(path, "type"), "only function tool calls can be sent to Anthropic")
	}
	c.drops.unknown(path, tc, "id", "type", "function")
	id, err := wantString(tc.Get("id"), jsonPath(path, "id"))
	if err != nil {
		return nil, err
	}
	fpath := jsonPath(path, "function")
	fn := tc.Get("function")
	if err := wantObject(fn, fpath); err != nil {
		return nil, err
	}
	c.drops.unknown(fpath, fn, "name", "arguments")
	name, err := wantString(fn.Get("name"), jsonPath(fpath, "name"))
	if err != nil {
		return nil, err
	}
	input, err := argumentsObject(fn.Get("arguments"), jsonPath(fpath, "arguments"))
	return anthropic.ToolUseBlock{Type: "tool_use", ID: id, Name: name, Input: input}, err
}

// argumentsObject parses an OpenAI arguments JSON string into an Anthropic input
// object. Empty (or absent) arguments are {}.
func argumentsObject(v gjson.Result, path string) (json.RawMessage, error) {
	if !v.Exists() {
		return json.RawMessage("{}"), nil
	}
	s, err := wantString(v, path)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(s) == "" {
		return json.RawMessage("{}"), nil
	}
	if !json.Valid([]byte(s)) || !gjson.Parse(s).IsObject() {
		return nil, reqErr(path, "must be a JSON object encoded as a string")
	}
	return json.RawMessage(s), nil
}

func (c *chatConv) toolMessage(path string, m gjson.Result) error {
	c.drops.unknown(path, m, "role", "content", "tool_call_id")
	id, err := wantString(m.Get("tool_call_id"), jsonPath(path, "tool_call_id"))
	if err != nil {
		return err
	}
	cpath := jsonPath(path, "content")
	var content any
	switch v := m.Get("content"); {
	case v.Type == gjson.String:
		content = v.Str
	case v.IsArray():
		parts := []anthropic.TextBlock{}
		err = eachElem(v, func(j int, p gjson.Result) error {
			s, err := c.textPart(jsonPath(cpath, j), p)
			parts = append(parts, anthropic.TextBlock{Type: "text", Text: s})
			return err
		})
		content = parts
	default:
		err = reqErr(cpath, "must be a string or an array of text parts")
	}
	res := anthropic.ToolResultBlock{Type: "tool_result", ToolUseID: id, Content: content}
	c.push("user", nil, []any{res}, false)
	return err
}
