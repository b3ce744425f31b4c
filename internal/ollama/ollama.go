// Package ollama holds Ollama's native API wire format: the /api/chat and
// /api/generate requests, responses and NDJSON lines, their token counters and
// the error object, and the facts llmrouter needs to call Ollama as an upstream:
// paths, what a line is, where a request's texts are, how usage is read (the
// methods of API), and which think values a model accepts (think.go). It imports
// only the standard library, gjson, sjson and package wire.
package ollama

import (
	"errors"
	"net/http"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/llmrouter/llmrouter/internal/wire"
)

// API is one of Ollama's two native APIs as the router calls it. Chat and
// Generate are its values. No client speaks it to the router.
type API struct{ generate bool }

// The APIs.
var (
	Chat     = API{}               // POST /api/chat
	Generate = API{generate: true} // POST /api/generate
)

// Upstream paths, relative to an endpoint such as http://127.0.0.1:11434.
const (
	ChatPath     = "/api/chat"
	GeneratePath = "/api/generate"
	EmbedPath    = "/api/embed"
)

// ParseError reads an Ollama error body or NDJSON error line, {"error":"message"};
// ok is false when it is not one.
func ParseError(body []byte) (message string, ok bool) {
	e := gjson.GetBytes(body, "error")
	if !e.Exists() {
		return "", false
	}
	if e.Type == gjson.String {
		return e.String(), true
	}
	return e.Raw, true
}

// Path returns the upstream path of an operation, whatever the model and
// streaming: generation at the API's path, embeddings at /api/embed. Ollama has
// no token count.
func (a API) Path(op wire.Operation, _ string, _ bool) (string, bool) {
	switch {
	case op == wire.Embed:
		return EmbedPath, true
	case op != wire.Generate:
		return "", false
	case a.generate:
		return GeneratePath, true
	}
	return ChatPath, true
}

// SetAuth sends key as Authorization: Bearer. Ollama itself takes no key; the
// proxies that front it for remote use (and ollama.com) read a Bearer token.
func (API) SetAuth(h http.Header, key string) {
	if key != "" {
		h.Set("Authorization", "Bearer "+key)
	}
}

// Texts says where a request keeps its texts: chat messages' content (strings
// only), or generate's prompt and system.
func (a API) Texts() wire.Texts {
	if a.generate {
		return wire.Texts{Prompt: true, System: wire.String}
	}
	return wire.Texts{Messages: wire.String}
}

// Answer has no kind marker to check: an Ollama answer is only recognised by its
// members, which the translators read.
func (API) Answer(wire.Operation) (marker, want, member string) { return "", "", "" }

// Content reports whether an NDJSON line is real output (docs/protocols.md §4.4):
// text, thinking, tool calls, or the final done:true line.
func (API) Content(_ string, data []byte) bool {
	r := gjson.GetManyBytes(data, "message.content", "message.thinking", "message.tool_calls", "response", "thinking", "done")
	return r[0].String() != "" || r[1].String() != "" || r[2].Exists() || r[3].String() != "" || r[4].String() != "" || r[5].Bool()
}

// Terminal reports whether a line ends the stream: done:true.
func (API) Terminal(_ string, data []byte) bool { return gjson.GetBytes(data, "done").Bool() }

// StreamError reads an in-band error line, {"error":"message"}. Ollama's errors
// have no type.
func (API) StreamError(_ string, data []byte) (typ, message string, ok bool) {
	message, ok = ParseError(data)
	return "", message, ok
}

// ParseError reads an Ollama error body.
func (API) ParseError(body []byte) (typ, message string, ok bool) {
	message, ok = ParseError(body)
	return "", message, ok
}

// NewMeter returns a meter of an answer's counters: those of the done:true body
// or line.
func (API) NewMeter() wire.Meter { return new(Metrics) }

// Read keeps the counters data carries, if any (readUsage).
func (m *Metrics) Read(data []byte) bool {
	v, ok := readUsage(data)
	if ok {
		*m = v
	}
	return ok
}

var usageMembers = []string{"done", "prompt_eval_count", "eval_count"}

// UsageMembers names the top-level members of an answer that carry its counters.
func (API) UsageMembers() []string { return usageMembers }

// TagsPath lists the models an Ollama server has (GET /api/tags).
const TagsPath = "/api/tags"

// ModelsPath is where an Ollama server lists its models: /api/tags.
func (API) ModelsPath() string { return TagsPath }

// ParseModels reads the names of an /api/tags body, {"models":[{"name","model"}]}
// (captured: ollama-real/api_tags): each model's name, tag included
// ("tiny:latest").
func (API) ParseModels(body []byte) ([]string, error) {
	models := gjson.GetBytes(body, "models")
	if !models.IsArray() {
		return nil, errors.New("not an Ollama model list: no models array")
	}
	var names []string
	models.ForEach(func(_, m gjson.Result) bool {
		name := m.Get("name").Str
		if name == "" {
			name = m.Get("model").Str
		}
		if name != "" {
			names = append(names, name)
		}
		return true
	})
	return names, nil
}

// SameModel reports whether a model name a client asks for is the listed one:
// Ollama serves "tiny:latest" as "tiny" too (a name without a tag has the tag
// latest).
func (API) SameModel(listed, asked string) bool {
	return listed == asked || (!strings.Contains(asked, ":") && listed == asked+":latest")
}
