package translate

// What the converters of Anthropic Messages requests to other upstreams share
// (anthropic_openai.go, anthropic_ollama.go, anthropic_responses*.go): tool
// declarations, the structured output format, text, image and tool_result
// blocks, and the fields that no other upstream can serve.

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/llmrouter/llmrouter/internal/anthropic"
	"github.com/llmrouter/llmrouter/internal/openai"
)

// threadUnsupported is the answer to a request with "thread" (server-held
// conversation state, beta message-threads-2026-08-12): no other upstream keeps
// a conversation, and dropping thread would send a turn without its history
// (Ollama answers it anyway). The details make the SDKs send the turn again
// with the whole history and no thread (issue 9 item 5).
func threadUnsupported() error {
	return &RequestError{Param: "thread",
		Message: "thread (server-held conversation state) is not supported on this route: send the whole conversation without thread",
		Details: &anthropic.ErrorDetails{ErrorCode: anthropic.ErrorCodeThreadUnsupported, Unsupported: []string{"thread"}}}
}

// anthropicFunction reads one Anthropic tool {name, description, input_schema} as the
// function declaration OpenAI and Ollama share. A server tool (a type other than
// "custom": web_search_…, bash_…) has nothing to call on those upstreams, and a
// tool with defer_loading is shown to the model only once Anthropic's tool search
// loads it, which those upstreams cannot do (Claude Code's DeferredToolPlaceholder,
// with an empty schema, is one): either is dropped and recorded, and ok is false.
func anthropicFunction(path string, tool gjson.Result, d *drops) (fn openai.FunctionDefinition, ok bool, err error) {
	if err := wantObject(tool, path); err != nil {
		return fn, false, err
	}
	if typ := tool.Get("type"); typ.Exists() && typ.Type != gjson.Null && typ.String() != "custom" {
		d.add(path)
		return fn, false, nil
	}
	if tool.Get("defer_loading").Type == gjson.True {
		d.add(path)
		return fn, false, nil
	}
	d.unknown(path, tool, "type", "name", "description", "input_schema")
	if fn.Name, err = wantString(tool.Get("name"), jsonPath(path, "name")); err != nil {
		return fn, false, err
	}
	fn.Parameters = json.RawMessage(`{"type":"object"}`)
	if desc := tool.Get("description"); desc.Exists() && desc.Type != gjson.Null {
		if fn.Description, err = wantString(desc, jsonPath(path, "description")); err != nil {
			return fn, false, err
		}
	}
	if schema := tool.Get("input_schema"); schema.Exists() && schema.Type != gjson.Null {
		if err := wantObject(schema, jsonPath(path, "input_schema")); err != nil {
			return fn, false, err
		}
		fn.Parameters = json.RawMessage(schema.Raw)
	}
	return fn, true, nil
}

// formatSchema reads output_config.format, {"type":"json_schema","schema"}
// (anthropic-sdk-go JSONOutputFormatParam), and returns its schema; members
// besides type and schema are recorded as dropped.
func formatSchema(f gjson.Result, d *drops) (json.RawMessage, error) {
	const path = "output_config.format"
	if err := wantObject(f, path); err != nil {
		return nil, err
	}
	s := f.Get("schema")
	if f.Get("type").String() != "json_schema" || !s.IsObject() {
		return nil, reqErr(path, "must be a json_schema format with a schema")
	}
	d.unknown(path, f, "type", "schema")
	return json.RawMessage(s.Raw), nil
}

// outputFormat reads output_config: the schema of its json_schema format, and
// whether it has one; effort (which other upstreams' models could refuse) and
// anything else are dropped.
func outputFormat(v gjson.Result, d *drops) (schema json.RawMessage, ok bool, err error) {
	if err := wantObject(v, "output_config"); err != nil {
		return nil, false, err
	}
	err = eachKey(v, func(k string, f gjson.Result) error {
		if k != "format" {
			d.add(jsonPath("output_config", k))
			return nil
		}
		ok = true
		schema, err = formatSchema(f, d)
		return err
	})
	return schema, ok, err
}

// anthropicText reads a text block's text; its other members (cache_control,
// citations) are dropped. Every Anthropic request converter reads text so.
func anthropicText(d *drops, path string, b gjson.Result) (string, error) {
	d.unknown(path, b, "type", "text")
	return wantString(b.Get("text"), jsonPath(path, "text"))
}

// anthropicImageURL reads an image block's source as a URL: base64 data as a
// data: URL, a url source as it is. Any other source is a RequestError saying
// it cannot be sent to upstream (as "an OpenAI upstream").
func anthropicImageURL(d *drops, path string, b gjson.Result, upstream string) (string, error) {
	spath := jsonPath(path, "source")
	src := b.Get("source")
	if err := wantObject(src, spath); err != nil {
		return "", err
	}
	d.unknown(path, b, "type", "source") // cache_control
	switch typ := src.Get("type").String(); typ {
	case "base64":
		d.unknown(spath, src, "type", "media_type", "data")
		mt, err := wantString(src.Get("media_type"), jsonPath(spath, "media_type"))
		if err != nil {
			return "", err
		}
		data, err := wantString(src.Get("data"), jsonPath(spath, "data"))
		return "data:" + mt + ";base64," + data, err
	case "url":
		d.unknown(spath, src, "type", "url")
		return wantString(src.Get("url"), jsonPath(spath, "url"))
	default:
		return "", reqErr(jsonPath(spath, "type"), "image source %q cannot be sent to %s", typ, upstream)
	}
}

// anthropicToolResult reads a tool_result block: the tool_use id it answers, and
// its content flattened into one text (non-text blocks dropped and recorded),
// prefixed "Error: " when is_error is set.
func anthropicToolResult(d *drops, path string, b gjson.Result) (id, text string, err error) {
	d.unknown(path, b, "type", "tool_use_id", "content", "is_error")
	if id, err = wantString(b.Get("tool_use_id"), jsonPath(path, "tool_use_id")); err != nil {
		return "", "", err
	}
	if v := b.Get("content"); v.Exists() && v.Type != gjson.Null {
		text, err = joinedText(jsonPath(path, "content"), v, "blocks", func(bpath string, blk gjson.Result) (*string, error) {
			if blk.Get("type").String() != "text" {
				d.add(bpath)
				return nil, nil
			}
			s, err := anthropicText(d, bpath, blk)
			return &s, err
		})
		if err != nil {
			return "", "", err
		}
	}
	if b.Get("is_error").Bool() {
		text = strings.TrimSpace("Error: " + text)
	}
	return id, text, nil
}

// maxUserLen bounds the user id sent to OpenAI: OpenAI asks for a short stable
// id, hashed rather than identifying (safety_identifier: at most 128
// characters), and clients send longer ones (Claude Code's metadata.user_id is
// a JSON object of device, account and session ids).
const maxUserLen = 64

// openAIUser is metadata.user_id as OpenAI's user: unchanged when short, else
// its SHA-256 in hex (64 characters), which stays stable per id and does not
// pass on what the id holds.
func openAIUser(id string) string {
	if len(id) <= maxUserLen {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}
