package translate

// A custom (freeform) tool reaches a provider without them as a function whose
// one parameter, "input", holds the raw input (responses_request.go). Its calls
// come back as arguments JSON, {"input":"*** Begin Patch\n…"}, streamed in
// fragments that may cut anywhere, an escape sequence included. customInput reads
// the string value of "input" as the fragments arrive, so that a Responses client
// gets custom_tool_call_input.delta events while the model writes, not one blob
// at the end. Arguments of another shape stop the stream of deltas; the whole
// arguments are read at the end instead (customInputOf).

import (
	"encoding/json"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/tidwall/gjson"
)

// customInput is the reading state; the zero value is ready.
type customInput struct {
	state   inputState
	key     []byte // the first key, while it is read
	pending []byte // an escape sequence not yet complete
	high    rune   // a UTF-16 high surrogate waiting for its low half
	out     []byte // scratch for one feed
}

type inputState uint8

const (
	inStart  inputState = iota // before {
	inKey                      // before the first key's opening quote
	inKeyStr                   // inside the first key
	inColon                    // after the key
	inValue                    // before the value
	inString                   // inside the value string: streaming
	inDone                     // after the value's closing quote: the input is whole
	inFailed                   // not {"input": "…": nothing streamed, read at the end
)

// maxKey bounds the first key read (it must be "input").
const maxKey = 16

// feed reads one fragment of the arguments and returns the input text it adds.
func (c *customInput) feed(frag string) string {
	c.out = c.out[:0]
	for i := 0; i < len(frag) && c.state < inDone; i++ {
		c.byte(frag[i])
	}
	return string(c.out)
}

// streamed reports whether the arguments were read as {"input": "…"} so far:
// the input is what feed returned.
func (c *customInput) streamed() bool { return c.state == inString || c.state == inDone }

func (c *customInput) byte(b byte) {
	switch c.state {
	case inString:
		c.stringByte(b)
	case inStart, inKey, inColon, inValue:
		c.structural(b)
	case inKeyStr:
		switch {
		case b == '"' && string(c.key) == customParam:
			c.state = inColon
		case b == '"' || b == '\\' || len(c.key) >= maxKey:
			c.state = inFailed
		default:
			c.key = append(c.key, b)
		}
	}
}

// structural reads the bytes outside strings: { "input" : "
func (c *customInput) structural(b byte) {
	if b == ' ' || b == '\t' || b == '\n' || b == '\r' {
		return
	}
	want := [...]byte{inStart: '{', inKey: '"', inColon: ':', inValue: '"'}[c.state]
	if b != want {
		c.state = inFailed
		return
	}
	c.state = [...]inputState{inStart: inKey, inKey: inKeyStr, inColon: inValue, inValue: inString}[c.state]
}

// stringByte reads one byte of the value. Fragments are whole UTF-8 strings, so
// only an escape sequence can be cut between two of them: it is kept until whole.
func (c *customInput) stringByte(b byte) {
	switch {
	case len(c.pending) > 0:
		c.pending = append(c.pending, b)
		c.escape()
	case b == '\\':
		c.pending = append(c.pending, b)
	case b == '"':
		c.flushHigh()
		c.state = inDone
	default:
		c.flushHigh()
		c.out = append(c.out, b)
	}
}

// jsonEscapes are JSON's one-letter escapes and what they stand for.
var jsonEscapes = map[byte]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

// escape decodes the pending escape sequence once it is whole.
func (c *customInput) escape() {
	p := c.pending
	if p[1] == 'u' {
		if len(p) < 6 {
			return
		}
		n, err := strconv.ParseUint(string(p[2:6]), 16, 16)
		c.pending = c.pending[:0]
		if err != nil {
			c.state = inFailed
			return
		}
		c.unit(rune(n))
		return
	}
	c.pending = c.pending[:0]
	r, ok := jsonEscapes[p[1]]
	if !ok {
		c.state = inFailed
		return
	}
	c.flushHigh()
	c.out = append(c.out, r)
}

// unit writes one UTF-16 code unit, pairing surrogates as encoding/json does
// (a lone surrogate is U+FFFD).
func (c *customInput) unit(r rune) {
	if c.high != 0 {
		high := c.high
		c.high = 0
		if pair := utf16.DecodeRune(high, r); pair != utf8.RuneError {
			c.out = utf8.AppendRune(c.out, pair)
			return
		}
		c.out = utf8.AppendRune(c.out, utf8.RuneError)
	}
	if utf16.IsSurrogate(r) && r < 0xdc00 {
		c.high = r
		return
	}
	if utf16.IsSurrogate(r) {
		r = utf8.RuneError
	}
	c.out = utf8.AppendRune(c.out, r)
}

// flushHigh writes a high surrogate that no low one followed.
func (c *customInput) flushHigh() {
	if c.high != 0 {
		c.high = 0
		c.out = utf8.AppendRune(c.out, utf8.RuneError)
	}
}

// customInputOf reads a custom tool's input from whole arguments: the string
// "input", else the only member of an object when it is a string ("" for {}),
// else the arguments as they are (a model that wrote the raw input where JSON
// was asked for).
func customInputOf(args string) string {
	if !json.Valid([]byte(args)) { // iterative, unlike gjson's (see parseObject)
		return args
	}
	r := gjson.Parse(args)
	if !r.IsObject() {
		return args
	}
	if v := r.Get(customParam); v.Type == gjson.String {
		return v.Str
	}
	n := 0
	var only gjson.Result
	r.ForEach(func(_, v gjson.Result) bool {
		n, only = n+1, v
		return n < 2
	})
	switch {
	case n == 0:
		return ""
	case n == 1 && only.Type == gjson.String:
		return only.Str
	}
	return args
}
