package policy

import (
	"encoding/json"
	"iter"
	"unicode/utf8"
)

// This file is a minimal JSON scanner over a body already checked by json.Valid.
// It finds the byte spans of values so that rules can patch a body in place:
// everything a rule does not touch (key order, spacing, number spelling, escapes)
// reaches the upstream byte for byte, as the client sent it.

// span is the half-open byte range [start, end) of one JSON value in a body.
type span struct{ start, end int }

// entry is one object member or array element of a container.
type entry struct {
	key   span // the quoted key of an object member; zero for array elements
	value span
}

// skipSpace returns the index of the first non-whitespace byte at or after i.
func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// stringEnd returns the index just past the string starting at b[i] == '"'.
func stringEnd(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// valueEnd returns the index just past the value starting at b[i].
// Containers are walked iteratively, so nesting depth costs no stack.
func valueEnd(b []byte, i int) int {
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = stringEnd(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return len(b)
	}
	for i < len(b) {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
		i++
	}
	return i
}

// entries iterates over the members of the object, or the elements of the
// array, that starts at b[open].
func entries(b []byte, open int) iter.Seq[entry] {
	return func(yield func(entry) bool) {
		isObject := b[open] == '{'
		i := skipSpace(b, open+1)
		if b[i] == '}' || b[i] == ']' {
			return
		}
		for {
			var e entry
			if isObject {
				e.key = span{i, stringEnd(b, i)}
				i = skipSpace(b, e.key.end) // at ':'
				i = skipSpace(b, i+1)
			}
			e.value = span{i, valueEnd(b, i)}
			if !yield(e) {
				return
			}
			i = skipSpace(b, e.value.end)
			if b[i] != ',' {
				return
			}
			i = skipSpace(b, i+1)
		}
	}
}

// field returns the value of the member name in the object at b[obj]. Like
// encoding/json, the last of duplicate keys wins. ok is false when b[obj] is
// not an object or has no such member.
func field(b []byte, obj int, name string) (v span, ok bool) {
	if b[obj] != '{' {
		return span{}, false
	}
	for e := range entries(b, obj) {
		if keyIs(b, e.key, name) {
			v, ok = e.value, true
		}
	}
	return v, ok
}

// fields2 looks up two members of the object at b[obj] in one pass, last of
// duplicates winning; a zero span means the member is absent (or b[obj] is no
// object).
func fields2(b []byte, obj int, name1, name2 string) (v1, v2 span) {
	if b[obj] != '{' {
		return
	}
	for e := range entries(b, obj) {
		k, _ := stringAt(b, e.key)
		switch string(k) {
		case name1:
			v1 = e.value
		case name2:
			v2 = e.value
		}
	}
	return v1, v2
}

// keyIs reports whether the quoted key at k spells name.
func keyIs(b []byte, k span, name string) bool {
	s, ok := stringAt(b, k)
	return ok && string(s) == name
}

// stringAt returns the text of the JSON string at sp, decoded as encoding/json
// does. A literal string is returned as a sub-slice of b, without allocating.
// ok is false when the value at sp is not a string.
func stringAt(b []byte, sp span) ([]byte, bool) {
	if b[sp.start] != '"' {
		return nil, false
	}
	raw := b[sp.start+1 : sp.end-1]
	if literal(raw) {
		return raw, true
	}
	var s string
	if err := json.Unmarshal(b[sp.start:sp.end], &s); err != nil {
		return nil, false
	}
	return []byte(s), true
}

// literal reports whether the JSON string contents raw mean exactly those bytes:
// no escapes, and valid UTF-8 (a decoder turns invalid bytes into U+FFFD).
func literal(raw []byte) bool {
	ascii := true
	for _, c := range raw {
		if c == '\\' {
			return false
		}
		ascii = ascii && c < utf8.RuneSelf
	}
	return ascii || utf8.Valid(raw)
}

// appendString appends s to dst as a JSON string. Unlike encoding/json it
// leaves <, > and & alone (bodies are not HTML); invalid UTF-8 becomes U+FFFD,
// as encoding/json does.
func appendString(dst, s []byte) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRune(s[i:])
			if r == utf8.RuneError && n == 1 {
				dst = append(dst, `\ufffd`...)
			} else {
				dst = append(dst, s[i:i+n]...)
			}
			i += n
			continue
		}
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '\r':
			dst = append(dst, '\\', 'r')
		case c == '\t':
			dst = append(dst, '\\', 't')
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			dst = append(dst, c)
		}
		i++
	}
	return append(dst, '"')
}
