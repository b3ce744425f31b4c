package translate

// Helpers shared by the converters of this package: JSON paths for Dropped and
// RequestError, typed field readers that turn a wrong type into a RequestError,
// the finish/stop reason and usage maps of README §11-12, id generation and
// data-URL parsing. They hold no state; any converter may reuse them.

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/gjson"
)

// clock returns the time written into "created" fields. Tests replace it to get
// deterministic output; nothing else should.
var clock = time.Now

// newID returns prefix followed by 24 random hex digits, for ids an upstream did not
// send (e.g. a tool call without "id" from an OpenAI-compatible server). Ids are free
// strings on every protocol, so only uniqueness matters.
func newID(prefix string) string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return prefix + hex.EncodeToString(b[:])
}

// jsonPath appends elements to a JSON path in the syntax of Translator.Dropped:
// string elements are keys (".key", or `["key"]` when the key is not a plain
// identifier), int elements are array indexes ("[i]").
// jsonPath("messages", 2, "content", 0, "image_url", "detail") is
// "messages[2].content[0].image_url.detail".
func jsonPath(base string, elems ...any) string {
	var b strings.Builder
	b.WriteString(base)
	for _, e := range elems {
		switch v := e.(type) {
		case int:
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(v))
			b.WriteByte(']')
		case string:
			if !plainKey(v) {
				b.WriteByte('[')
				b.WriteString(strconv.Quote(v))
				b.WriteByte(']')
				continue
			}
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(v)
		}
	}
	return b.String()
}

// plainKey reports whether k can be written after a dot in a path.
func plainKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c != '_' && c != '-' && (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// drops collects the paths of client request fields that a conversion did not send.
type drops []string

// add records one dropped path.
func (d *drops) add(path string) { *d = append(*d, path) }

// unknown records, under path, every non-null member of obj whose key is not in
// known: fields the conversion does not carry.
func (d *drops) unknown(path string, obj gjson.Result, known ...string) {
	obj.ForEach(func(k, v gjson.Result) bool {
		if v.Type != gjson.Null && !slices.Contains(known, k.Str) {
			d.add(jsonPath(path, k.Str))
		}
		return true
	})
}

// reqErr returns a *RequestError for the field at path.
func reqErr(path, format string, args ...any) error {
	return &RequestError{Param: path, Message: fmt.Sprintf(format, args...)}
}

// parseObject checks that body is one JSON object and returns it parsed.
//
// Every body and event is validated with encoding/json before gjson reads it:
// json.Valid is iterative and refuses nesting deeper than 10000, while
// gjson.Valid recurses once per level, so a few MB of "[" would take seconds and
// could exhaust the goroutine stack limit (a fatal error, not a panic).
func parseObject(body []byte) (gjson.Result, error) {
	if !json.Valid(body) {
		return gjson.Result{}, reqErr("", "request body is not valid JSON")
	}
	r := gjson.ParseBytes(body)
	if !r.IsObject() {
		return gjson.Result{}, reqErr("", "request body must be a JSON object")
	}
	return r, nil
}

// eachKey calls fn for each member of obj in document order, skipping members whose
// value is null: on both OpenAI and Anthropic an explicit null means "default", the
// same as an absent field. It stops at the first error.
func eachKey(obj gjson.Result, fn func(key string, v gjson.Result) error) error {
	var err error
	obj.ForEach(func(k, v gjson.Result) bool {
		if v.Type == gjson.Null {
			return true
		}
		err = fn(k.String(), v)
		return err == nil
	})
	return err
}

// eachElem calls fn for each element of the array arr, stopping at the first error.
func eachElem(arr gjson.Result, fn func(i int, v gjson.Result) error) error {
	var err error
	i := 0
	arr.ForEach(func(_, v gjson.Result) bool {
		err = fn(i, v)
		i++
		return err == nil
	})
	return err
}

// joinedText reads content that is a string, or an array whose elements part turns
// into text (nil: the element adds none), joined with "\n". Anything else is a
// RequestError saying the array holds what.
func joinedText(path string, v gjson.Result, what string, part func(path string, v gjson.Result) (*string, error)) (string, error) {
	if v.Type == gjson.String {
		return v.Str, nil
	}
	if !v.IsArray() {
		return "", reqErr(path, "must be a string or an array of %s", what)
	}
	var texts []string
	err := eachElem(v, func(j int, p gjson.Result) error {
		text, err := part(jsonPath(path, j), p)
		if text != nil {
			texts = append(texts, *text)
		}
		return err
	})
	return strings.Join(texts, "\n"), err
}

// wantString returns v as a string, or a RequestError naming path.
func wantString(v gjson.Result, path string) (string, error) {
	if v.Type != gjson.String {
		return "", reqErr(path, "must be a string")
	}
	return v.Str, nil
}

// wantNumber returns the JSON text of a number, to pass on unchanged.
func wantNumber(v gjson.Result, path string) (json.RawMessage, error) {
	if v.Type != gjson.Number {
		return nil, reqErr(path, "must be a number")
	}
	return json.RawMessage(v.Raw), nil
}

// wantInt returns v as an integer.
func wantInt(v gjson.Result, path string) (int64, error) {
	n, err := strconv.ParseInt(v.Raw, 10, 64)
	if v.Type != gjson.Number || err != nil {
		return 0, reqErr(path, "must be an integer")
	}
	return n, nil
}

// wantPositive returns v as an integer of at least 1 (a token limit).
func wantPositive(v gjson.Result, path string) (int64, error) {
	n, err := wantInt(v, path)
	if err == nil && n < 1 {
		err = reqErr(path, "must be at least 1")
	}
	return n, err
}

// wantBool returns v as a bool.
func wantBool(v gjson.Result, path string) (bool, error) {
	if !v.IsBool() {
		return false, reqErr(path, "must be a boolean")
	}
	return v.Bool(), nil
}

// wantObject checks that v is a JSON object.
func wantObject(v gjson.Result, path string) error {
	if !v.IsObject() {
		return reqErr(path, "must be an object")
	}
	return nil
}

// wantArray checks that v is a JSON array.
func wantArray(v gjson.Result, path string) error {
	if !v.IsArray() {
		return reqErr(path, "must be an array")
	}
	return nil
}

// stringList reads a string or an array of strings (OpenAI "stop", Anthropic
// "stop_sequences") as a list.
func stringList(v gjson.Result, path string) ([]string, error) {
	if v.Type == gjson.String {
		return []string{v.Str}, nil
	}
	if err := wantArray(v, path); err != nil {
		return nil, err
	}
	out := []string{}
	err := eachElem(v, func(i int, e gjson.Result) error {
		s, err := wantString(e, jsonPath(path, i))
		out = append(out, s)
		return err
	})
	return out, err
}

// anthropicToOpenAIFinish maps an Anthropic stop_reason to an OpenAI finish_reason
// (README §11). stop_sequence and pause_turn have no own value and become "stop";
// model_context_window_exceeded becomes "length". Unknown or empty values map to
// "stop" so that a client always sees a valid enum member.
func anthropicToOpenAIFinish(stop string) string {
	switch stop {
	case "max_tokens", "model_context_window_exceeded":
		return "length"
	case "tool_use":
		return "tool_calls"
	case "refusal":
		return "content_filter"
	}
	return "stop"
}

// openAIToAnthropicStop maps an OpenAI finish_reason to an Anthropic stop_reason
// (README §11). "stop" cannot tell a natural end from a stop-sequence hit and becomes
// end_turn; unknown or empty values also become end_turn.
func openAIToAnthropicStop(finish string) string {
	switch finish {
	case "length":
		return "max_tokens"
	case "tool_calls", "function_call":
		return "tool_use"
	case "content_filter":
		return "refusal"
	}
	return "end_turn"
}

// anthropicUsage is Anthropic's usage object. InputTokens excludes the cache reads
// and writes (README §12).
type anthropicUsage struct {
	InputTokens              int64 `json:"input_tokens"`
	CacheCreationInputTokens int64 `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int64 `json:"cache_read_input_tokens"`
	OutputTokens             int64 `json:"output_tokens"`
}

// openAIUsage is OpenAI's usage object. PromptTokens includes cached tokens.
type openAIUsage struct {
	PromptTokens        int64                `json:"prompt_tokens"`
	CompletionTokens    int64                `json:"completion_tokens"`
	TotalTokens         int64                `json:"total_tokens"`
	PromptTokensDetails *openAIPromptDetails `json:"prompt_tokens_details,omitempty"`
}

// openAIPromptDetails is usage.prompt_tokens_details.
type openAIPromptDetails struct {
	CachedTokens     int64 `json:"cached_tokens"`
	CacheWriteTokens int64 `json:"cache_write_tokens,omitempty"`
}

// readAnthropicUsage reads the counts present in an Anthropic usage object into u,
// leaving absent ones unchanged: message_delta usage is cumulative and may repeat
// or omit the input counts of message_start.
func readAnthropicUsage(u *anthropicUsage, v gjson.Result) {
	set := func(dst *int64, key string) {
		if f := v.Get(key); f.Type == gjson.Number {
			*dst = f.Int()
		}
	}
	set(&u.InputTokens, "input_tokens")
	set(&u.CacheCreationInputTokens, "cache_creation_input_tokens")
	set(&u.CacheReadInputTokens, "cache_read_input_tokens")
	set(&u.OutputTokens, "output_tokens")
}

// toOpenAI converts Anthropic usage: prompt_tokens is input plus both cache counts,
// cached_tokens the cache reads, cache_write_tokens the cache writes (when any).
// details adds prompt_tokens_details, which legacy completions do not have.
func (u anthropicUsage) toOpenAI(details bool) *openAIUsage {
	prompt := u.InputTokens + u.CacheCreationInputTokens + u.CacheReadInputTokens
	o := &openAIUsage{PromptTokens: prompt, CompletionTokens: u.OutputTokens, TotalTokens: prompt + u.OutputTokens}
	if details {
		o.PromptTokensDetails = &openAIPromptDetails{
			CachedTokens:     u.CacheReadInputTokens,
			CacheWriteTokens: u.CacheCreationInputTokens,
		}
	}
	return o
}

// readOpenAIUsage converts an OpenAI usage object: input_tokens is prompt_tokens less
// cached_tokens and cache_write_tokens (never below zero), cache reads and writes go
// to their Anthropic fields.
func readOpenAIUsage(v gjson.Result) anthropicUsage {
	read := v.Get("prompt_tokens_details.cached_tokens").Int()
	write := v.Get("prompt_tokens_details.cache_write_tokens").Int()
	return anthropicUsage{
		InputTokens:              max(0, v.Get("prompt_tokens").Int()-read-write),
		CacheCreationInputTokens: write,
		CacheReadInputTokens:     read,
		OutputTokens:             v.Get("completion_tokens").Int(),
	}
}

// anthropicImageTypes are the media types Anthropic accepts in an image block.
var anthropicImageTypes = map[string]bool{
	"image/jpeg": true, "image/png": true, "image/gif": true, "image/webp": true,
}

// parseDataURL splits "data:<media type>;base64,<data>" (RFC 2397). ok is false for
// anything else, including data URLs that are not base64. The media type is
// lower-cased and stripped of parameters other than base64.
func parseDataURL(u string) (mediaType, data string, ok bool) {
	rest, found := strings.CutPrefix(u, "data:")
	if !found {
		rest, found = strings.CutPrefix(u, "DATA:")
	}
	meta, data, found2 := strings.Cut(rest, ",")
	if !found || !found2 {
		return "", "", false
	}
	params := strings.Split(meta, ";")
	if len(params) < 2 || !strings.EqualFold(params[len(params)-1], "base64") {
		return "", "", false
	}
	return strings.ToLower(strings.TrimSpace(params[0])), data, true
}

// marshal encodes v without HTML escaping (so "<" in generated code stays "<", as
// the providers write it), wrapping the (unexpected) error with what was encoded.
func marshal(what string, v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encoding %s: %w", what, err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// cmpOr returns a unless it is empty, else b.
func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
