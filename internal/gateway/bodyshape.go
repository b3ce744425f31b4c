package gateway

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// maxNesting bounds how deep a request's arrays and objects may nest. gjson's
// validator recurses once per level: unbounded, a body of a few MB of `[` would
// exhaust the goroutine stack, which is fatal to the process, not a panic.
const maxNesting = 512

var (
	errTooDeep = errors.New("request body nests too deep") // deeper than maxNesting
	errTooLong = errors.New("request body over 2 GiB")     // key offsets are 32-bit
)

// duplicateKeyError: an object of the body has the same key twice. JSON parsers
// disagree on which one counts (gjson, and so routing, reads the first; Go,
// Python and JavaScript keep the last), so a body with two `model` keys would be
// routed and billed as one model and answered by another, and a transform that
// rewrites one of two `content` keys would leave the other to be read.
type duplicateKeyError struct {
	first, second []byte // the two keys as written, escapes and case included
}

func (e *duplicateKeyError) Error() string {
	q := func(k []byte) string {
		if len(k) > 64 {
			return fmt.Sprintf("%q…", k[:64])
		}
		return fmt.Sprintf("%q", k)
	}
	if bytes.Equal(e.first, e.second) {
		return "request body has a duplicate key: " + q(e.first)
	}
	return fmt.Sprintf("request body has a duplicate key: %s and %s are the same key to some JSON parsers", q(e.first), q(e.second))
}

// keySpan is one object key: the raw bytes between its quotes in the body, and
// whether they are plain (ASCII without escapes, comparable byte for byte).
type keySpan struct {
	start, end uint32
	plain      bool
}

// smallObject: up to this many keys, an object's keys are compared pairwise as
// they come; a larger object is sorted once when it closes (n log n, not n²).
const smallObject = 16

// checkShape makes one pass over a JSON body (string contents skipped with
// IndexByte) and reports errTooDeep when it nests deeper than maxNesting, or a
// *duplicateKeyError when an object has two keys a JSON parser reads as the same:
// equal once escapes are decoded (invalid UTF-8 and lone surrogates read as
// U+FFFD, as Go does) and, in the top-level object, equal ignoring case too, as
// Go's encoding/json matches fields (`"MODEL"` sets Model on a Go upstream).
// Nested keys may differ only in case: tool schemas and metadata are free-form.
//
// It assumes valid JSON and says nothing about invalid input (the validator
// does). Ordinary bodies cost no allocation: the open containers and the keys of
// the open objects live in arrays on the stack. Only nesting deeper than 64, an
// object of more than smallObject keys, or more than 64 keys open at once
// allocates: 12 bytes per key, at most about twice the body.
func checkShape(b []byte) error {
	if len(b) > math.MaxInt32 {
		return errTooLong
	}
	var keyArr [64]keySpan
	var openArr [64]int32 // per open container: its first key's index in keys, or -1 for an array
	keys, open := keyArr[:0], openArr[:0]
	wantKey := false
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '"':
			end := stringEnd(b, i+1)
			if end < 0 {
				return nil // unterminated: the validator reports it
			}
			if wantKey {
				k := newKeySpan(b, i+1, end)
				top := len(open) == 1
				if j := int(open[len(open)-1]); len(keys)-j < smallObject {
					if err := pairwise(b, keys[j:], k, top); err != nil {
						return err
					}
				}
				keys, wantKey = append(keys, k), false
			}
			i = end
		case '{', '[':
			if len(open) == maxNesting {
				return errTooDeep
			}
			first := int32(-1)
			if b[i] == '{' {
				first = int32(len(keys)) // at most len(b)/4 keys: fits
			}
			open, wantKey = append(open, first), b[i] == '{'
		case ',':
			wantKey = len(open) > 0 && open[len(open)-1] >= 0
		case '}', ']':
			if len(open) == 0 {
				return nil // unbalanced: the validator reports it
			}
			if j := int(open[len(open)-1]); j >= 0 {
				if err := sortedCheck(b, keys[j:], len(open) == 1); err != nil {
					return err
				}
				keys = keys[:j]
			}
			open, wantKey = open[:len(open)-1], false
		}
	}
	return nil
}

func newKeySpan(b []byte, start, end int) keySpan {
	plain := true
	for _, c := range b[start:end] {
		if c == '\\' || c >= utf8.RuneSelf {
			plain = false
			break
		}
	}
	return keySpan{start: uint32(start), end: uint32(end), plain: plain}
}

// pairwise reports k's duplicate among the keys its object already has.
func pairwise(b []byte, keys []keySpan, k keySpan, fold bool) error {
	for _, o := range keys {
		if compareKeys(b, o, k, fold) == 0 {
			return &duplicateKeyError{first: b[o.start:o.end], second: b[k.start:k.end]}
		}
	}
	return nil
}

// sortedCheck finds a duplicate among the keys of an object larger than
// smallObject, whose later keys pairwise did not look at. It reorders keys.
func sortedCheck(b []byte, keys []keySpan, fold bool) error {
	if len(keys) <= smallObject {
		return nil
	}
	slices.SortFunc(keys, func(x, y keySpan) int { return compareKeys(b, x, y, fold) })
	for i := 1; i < len(keys); i++ {
		if compareKeys(b, keys[i-1], keys[i], fold) == 0 {
			return &duplicateKeyError{first: b[keys[i-1].start:keys[i-1].end], second: b[keys[i].start:keys[i].end]}
		}
	}
	return nil
}

// compareKeys orders two keys by their decoded runes (case-folded when fold).
// Plain keys compare as bytes, which is the same order.
func compareKeys(b []byte, x, y keySpan, fold bool) int {
	xs, ys := b[x.start:x.end], b[y.start:y.end]
	if x.plain && y.plain && !fold {
		return bytes.Compare(xs, ys)
	}
	i, j := 0, 0
	for i < len(xs) && j < len(ys) {
		var rx, ry rune
		rx, i = keyRune(xs, i)
		ry, j = keyRune(ys, j)
		if fold {
			rx, ry = foldRune(rx), foldRune(ry)
		}
		if rx != ry {
			if rx < ry {
				return -1
			}
			return 1
		}
	}
	switch {
	case i < len(xs):
		return 1
	case j < len(ys):
		return -1
	}
	return 0
}

// keyRune decodes the rune of a raw JSON string's contents at s[i] as Go's
// decoder does, and returns it with the index after it: escapes resolved,
// surrogate pairs joined, lone surrogates and invalid UTF-8 bytes as U+FFFD.
func keyRune(s []byte, i int) (rune, int) {
	c := s[i]
	if c < utf8.RuneSelf && c != '\\' {
		return rune(c), i + 1
	}
	if c != '\\' {
		r, n := utf8.DecodeRune(s[i:])
		return r, i + n
	}
	if i+1 >= len(s) {
		return utf8.RuneError, len(s)
	}
	switch e := s[i+1]; e {
	case 'b':
		return '\b', i + 2
	case 'f':
		return '\f', i + 2
	case 'n':
		return '\n', i + 2
	case 'r':
		return '\r', i + 2
	case 't':
		return '\t', i + 2
	case 'u':
		r, ok := hex4(s, i+2)
		if !ok {
			return utf8.RuneError, i + 2 // invalid: the validator reports it
		}
		if !utf16.IsSurrogate(r) {
			return r, i + 6
		}
		if r2, ok := hex4(s, i+8); ok && r < 0xdc00 && s[i+6] == '\\' && s[i+7] == 'u' {
			if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
				return d, i + 12
			}
		}
		return utf8.RuneError, i + 6
	default: // \" \\ \/
		return rune(e), i + 2
	}
}

// hex4 reads the 4 hex digits of a \u escape at s[i:].
func hex4(s []byte, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range s[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// foldRune maps r to the smallest rune of its case-folding orbit, so that two
// runes bytes.EqualFold finds equal map to the same rune ('s', 'S' and 'ſ' to 'S').
func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'a' <= r && r <= 'z' {
			r -= 'a' - 'A'
		}
		return r
	}
	m := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		m = min(m, f)
	}
	return m
}

// stringEnd returns the index of the quote closing a JSON string whose contents
// start at i, or -1: a quote preceded by an odd run of backslashes is escaped.
func stringEnd(b []byte, i int) int {
	for {
		q := bytes.IndexByte(b[i:], '"')
		if q < 0 {
			return -1
		}
		q += i
		n := 0
		for k := q - 1; k >= i && b[k] == '\\'; k-- {
			n++
		}
		if n%2 == 0 {
			return q
		}
		i = q + 1
	}
}
