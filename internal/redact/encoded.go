package redact

import (
	"strings"

	"github.com/llmrouter/llmrouter/internal/config"
)

// An upstream does not always echo a key as it received it. JSON encoders write
// '/' as `\/` and any character as `\u00XX` (PHP, .NET), HTML error pages write
// '-' as `&#45;` or `&#x2d;`, URL-encoding proxies write it as `%2D`; and a text
// that quotes such a document escapes it once more (`\\u002d` in a JSON string
// holding JSON, `&amp;#45;`, `%252D`). A secret is found in any mix of these
// spellings, character by character, through up to maxLevels levels of escaping:
// an escape counts when it decodes to printable ASCII (which every key is made
// of), and the whole spelling is masked.

// maxLevels bounds the levels of escaping decoded.
const maxLevels = 3

// match is one occurrence of a secret in a text: the bytes [start, end) spell it.
type match struct {
	start, end int
	secret     string
}

// find returns the occurrences of secrets (usable: at least minSecret bytes,
// longest first) in s, literal or escaped, sorted by start and not overlapping:
// where two overlap, the longer secret (or else the earlier) is kept. It costs
// time linear in s for each secret and level of escaping, however many times a
// secret occurs.
func find(s string, secrets []string) []match {
	var ms []match
	for _, sec := range secrets {
		ms = claim(ms, occurrences(s, sec, nil))
	}
	if hasEscape(s) {
		ms = findDecoded(s, secrets, ms)
	}
	return ms
}

// occurrences returns where sec occurs in s, sorted, overlapping ones included;
// at maps a position of s to one of the text s was decoded from (nil: s itself).
func occurrences(s, sec string, at []int32) []match {
	var out []match
	for k := 0; ; {
		j := strings.Index(s[k:], sec)
		if j < 0 {
			return out
		}
		m := match{k + j, k + j + len(sec), sec}
		if at != nil {
			m.start, m.end = int(at[m.start]), int(at[m.end])
		}
		out = append(out, m)
		k += j + 1
	}
}

// claim merges found (sorted) into ms (sorted, not overlapping), keeping only the
// matches of found that overlap neither ms nor the match of found kept before.
func claim(ms, found []match) []match {
	if len(found) == 0 {
		return ms
	}
	out := make([]match, 0, len(ms)+len(found))
	i, lastEnd := 0, -1
	for _, f := range found {
		for i < len(ms) && ms[i].end <= f.start {
			out = append(out, ms[i])
			i++
		}
		if f.start < lastEnd || i < len(ms) && ms[i].start < f.end {
			continue
		}
		out = append(out, f)
		lastEnd = f.end
	}
	return append(out, ms[i:]...)
}

// findDecoded adds the escaped occurrences of secrets: it searches decoded copies
// of s, one per level of escaping, whose every byte remembers where its spelling
// starts in s.
func findDecoded(s string, secrets []string, ms []match) []match {
	cur := s
	var at []int32 // at[k]: where the spelling of cur[k] starts in s; nil while cur is s
	for level := 0; level < maxLevels && hasEscape(cur); level++ {
		dec, pos := decodeOnce(cur)
		if at != nil {
			for k, p := range pos {
				pos[k] = at[p]
			}
		}
		cur, at = dec, pos
		for _, sec := range secrets {
			ms = claim(ms, occurrences(cur, sec, at))
		}
	}
	return ms
}

// decodeOnce decodes one level of escapes in s. pos[k] is where the spelling of
// dec[k] starts in s; pos[len(dec)] is len(s).
func decodeOnce(s string) (string, []int32) {
	dec := make([]byte, 0, len(s))
	pos := make([]int32, 0, len(s)+1)
	for i := 0; i < len(s); {
		c, n := unescape(s, i)
		dec = append(dec, c)
		pos = append(pos, int32(i))
		i += n
	}
	return string(dec), append(pos, int32(len(s)))
}

// hasEscape reports whether s holds an escape that unescape decodes.
func hasEscape(s string) bool { return hasEscapeIn(s, strings.IndexByte) }

// hasEscapeIn is hasEscape for strings and byte slices: it looks for the bytes that
// start an escape with indexByte, which is fast on text that holds few.
func hasEscapeIn[T string | []byte](s T, indexByte func(T, byte) int) bool {
	for _, c := range [...]byte{'\\', '%', '&'} {
		for i := 0; i < len(s); i++ {
			j := indexByte(s[i:], c)
			if j < 0 {
				break
			}
			i += j
			if _, n := unescape(s, i); n > 1 {
				return true
			}
		}
	}
	return false
}

// unescape decodes the character spelled at s[i] and returns it and the length
// of its spelling: a JSON escape `\/`, `\\` or `\u00XX`, a percent-encoding
// `%XX`, an HTML character reference (`&#45;`, `&#x2D;`, `&lowbar;`, `&amp;`, the
// `;` optional after a number as browsers read it) of a printable ASCII
// character; or s[i] itself.
func unescape[T string | []byte](s T, i int) (byte, int) {
	switch s[i] {
	case '\\':
		return jsonEscape(s, i)
	case '%':
		if i+2 < len(s) {
			if v, ok := hexValue(s[i+1 : i+3]); ok && printable(v) {
				return byte(v), 3
			}
		}
	case '&':
		return htmlReference(s, i)
	}
	return s[i], 1
}

func jsonEscape[T string | []byte](s T, i int) (byte, int) {
	if i+1 >= len(s) {
		return s[i], 1
	}
	switch s[i+1] {
	case '/', '\\':
		return s[i+1], 2
	case 'u':
		if i+5 < len(s) {
			if v, ok := hexValue(s[i+2 : i+6]); ok && printable(v) {
				return byte(v), 6
			}
		}
	}
	return s[i], 1
}

// htmlNames are the named character references (HTML5) of the punctuation keys
// are made of ('-' has none), and of '&', which starts another level of escaping.
var htmlNames = map[string]byte{
	"lowbar": '_', "UnderBar": '_', "period": '.', "sol": '/', "plus": '+', "equals": '=', "colon": ':',
	"amp": '&',
}

func htmlReference[T string | []byte](s T, i int) (byte, int) {
	j := i + 1
	if j < len(s) && s[j] == '#' {
		return numericReference(s, i)
	}
	for j < len(s) && j-i <= 9 && isLetter(s[j]) {
		j++
	}
	if j < len(s) && s[j] == ';' {
		if c, ok := htmlNames[string(s[i+1:j])]; ok {
			return c, j + 1 - i
		}
	}
	return s[i], 1
}

// numericReference decodes `&#NN;` or `&#xHH;` at s[i], with any leading zeros.
func numericReference[T string | []byte](s T, i int) (byte, int) {
	j, base := i+2, 10
	if j < len(s) && (s[j] == 'x' || s[j] == 'X') {
		j, base = j+1, 16
	}
	v, digits := 0, j
	for ; j < len(s) && j-digits < 8 && digitValue(s[j], base) >= 0; j++ {
		v = v*base + digitValue(s[j], base)
	}
	if j == digits || !printable(v) {
		return s[i], 1
	}
	if j < len(s) && s[j] == ';' {
		j++
	}
	return byte(v), j - i
}

func hexValue[T string | []byte](h T) (int, bool) {
	v := 0
	for i := 0; i < len(h); i++ {
		d := digitValue(h[i], 16)
		if d < 0 {
			return 0, false
		}
		v = v<<4 | d
	}
	return v, true
}

// digitValue is the value of c as a digit in base 10 or 16, or -1.
func digitValue(c byte, base int) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case base == 16 && 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case base == 16 && 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

func printable(v int) bool { return v > ' ' && v < 0x7f }

// masked returns s with every match replaced by the secret's mask.
func masked(s string, ms []match) string {
	var b strings.Builder
	b.Grow(len(s))
	last := 0
	for _, m := range ms {
		b.WriteString(s[last:m.start])
		b.WriteString(config.Mask(m.secret))
		last = m.end
	}
	b.WriteString(s[last:])
	return b.String()
}
