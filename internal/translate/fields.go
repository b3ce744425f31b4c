package translate

// Reading client request fields, for every request converter: typed readers that
// turn a value of the wrong type into a RequestError naming the field, the JSON
// paths of Dropped and RequestError.Param, and data: URLs.

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
)

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

// cmpOr returns a unless it is empty, else b.
func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
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
