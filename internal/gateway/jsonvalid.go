package gateway

import "encoding/binary"

// validJSON reports whether b is one JSON value with nothing but whitespace
// around it, nested at most maxNesting deep (deeper is invalid): validate calls
// it only on a body checkShape found within that depth.
func validJSON(b []byte) bool { return validNested(b, maxNesting) }

// validNested reports whether b is one JSON value with nothing but whitespace
// around it, nested at most limit deep: with no limit (math.MaxInt) what
// gjson.ValidBytes reports (the grammar of RFC 8259, strings not checked for
// valid UTF-8), shown by FuzzValidJSON, but faster: a string's plain bytes, most
// of a request, are skipped eight at a time. Like gjson's, it recurses once per
// level.
func validNested(b []byte, limit int) bool {
	i, ok := validValue(b, skipSpace(b, 0), limit)
	return ok && skipSpace(b, i) == len(b)
}

// skipSpace returns the index of the first byte at or after i that is not JSON
// whitespace.
func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// validValue checks the value at b[i] (no whitespace before it), in which
// containers may nest levels deep, and returns the index after it.
func validValue(b []byte, i, levels int) (int, bool) {
	if i >= len(b) {
		return i, false
	}
	switch c := b[i]; {
	case c == '{', c == '[':
		if levels == 0 {
			return i, false
		}
		return validContainer(b, i, levels-1)
	case c == '"':
		return validString(b, i+1)
	case c == '-' || c >= '0' && c <= '9':
		return validNumber(b, i)
	case c == 't':
		return validWord(b, i, "true")
	case c == 'f':
		return validWord(b, i, "false")
	case c == 'n':
		return validWord(b, i, "null")
	}
	return i, false
}

// validContainer checks the object or array opening at b[i], in whose values
// containers may nest levels deep, and returns the index after its closing
// bracket.
func validContainer(b []byte, i, levels int) (int, bool) {
	object := b[i] == '{'
	closing := byte(']')
	if object {
		closing = '}'
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == closing {
		return i + 1, true
	}
	for {
		var ok bool
		if object {
			if i >= len(b) || b[i] != '"' {
				return i, false
			}
			if i, ok = validString(b, i+1); !ok {
				return i, false
			}
			if i = skipSpace(b, i); i >= len(b) || b[i] != ':' {
				return i, false
			}
			i = skipSpace(b, i+1)
		}
		if i, ok = validValue(b, i, levels); !ok {
			return i, false
		}
		switch i = skipSpace(b, i); {
		case i >= len(b):
			return i, false
		case b[i] == closing:
			return i + 1, true
		case b[i] != ',':
			return i, false
		}
		i = skipSpace(b, i+1)
	}
}

// SWAR masks: one bit set in each byte.
const (
	lowBits  = 0x0101010101010101
	highBits = 0x8080808080808080
)

// special has the high bit of some byte set if any of the eight bytes of w is a
// quote, a backslash or a control character (below 0x20), else none: a
// string's contents that need a look. Each test is exact for whether any byte
// matches (not for which).
func special(w uint64) uint64 {
	quote, backslash := w^(lowBits*'"'), w^(lowBits*'\\')
	s := (quote - lowBits) &^ quote // a zero byte: a quote
	s |= (backslash - lowBits) &^ backslash
	s |= (w - lowBits*0x20) &^ w // a byte below 0x20
	return s & highBits
}

// validString checks a string's contents from b[i] (after the opening quote)
// and returns the index after its closing quote: no control character, and
// only JSON's escapes.
func validString(b []byte, i int) (int, bool) {
	for {
		for i+8 <= len(b) && special(binary.LittleEndian.Uint64(b[i:])) == 0 {
			i += 8
		}
		if i >= len(b) {
			return i, false
		}
		switch c := b[i]; {
		case c == '"':
			return i + 1, true
		case c < ' ':
			return i, false
		case c == '\\':
			var ok bool
			if i, ok = validEscape(b, i+1); !ok {
				return i, false
			}
		default:
			i++
		}
	}
}

// validEscape checks the escape whose letter is at b[i] and returns the index
// after it.
func validEscape(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return i, false
	}
	switch b[i] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return i + 1, true
	case 'u':
		for k := 1; k <= 4; k++ {
			if i+k >= len(b) || !isHex(b[i+k]) {
				return i + k, false
			}
		}
		return i + 5, true
	}
	return i, false
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// validNumber checks the number at b[i] and returns the index after it:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func validNumber(b []byte, i int) (int, bool) {
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = digits(b, i)
	default:
		return i, false
	}
	if i < len(b) && b[i] == '.' {
		if i+1 >= len(b) || !isDigit(b[i+1]) {
			return i + 1, false
		}
		i = digits(b, i+1)
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			return i, false
		}
		i = digits(b, i)
	}
	return i, true
}

// digits returns the index of the first byte at or after i that is not a digit.
func digits(b []byte, i int) int {
	for i < len(b) && isDigit(b[i]) {
		i++
	}
	return i
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// validWord checks the literal word (true, false, null) at b[i].
func validWord(b []byte, i int, word string) (int, bool) {
	if len(b)-i >= len(word) && string(b[i:i+len(word)]) == word {
		return i + len(word), true
	}
	return i, false
}
