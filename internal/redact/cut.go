package redact

import (
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A body cut to a size (an upstream error cut at 1 MiB, a logged body cut to
// max_body_bytes) must not split a key in two: a whole secret is masked, but the
// kept half of one is no longer that secret, and 12 to 20 characters of a key
// would show. So cuts here scrub first, reading far enough past the cut to see
// every secret that crosses it, and then cut:
//
//   - a secret that crosses the cut is dropped whole (its mask is not shown: the
//     text it stood in is gone too);
//   - a cut that falls inside a token (a run of the characters keys are made of,
//     escapes included) drops the token's kept part, so that a key the router does
//     not know (another client's, another service's) is not shown in part either.

// MaxLookahead bounds how far past a cut the scrubber reads to see a secret that
// crosses it: six bytes per character of the longest secret (`\u002d` is the
// longest spelling of one), at most this.
const MaxLookahead = 16 << 10

// lookahead is how far past a cut the secrets may reach.
func lookahead(secrets []string) int {
	n := 0
	for _, s := range secrets {
		n = max(n, len(s))
	}
	return min(6*n, MaxLookahead)
}

// Truncate returns b as a string for a log line: secrets masked as Scrub does, then
// cut to at most limit bytes, on a UTF-8 boundary, never inside a secret or a token
// (see above), and followed by "…(truncated N bytes)" when anything was cut, N
// counting the bytes of b not shown. limit <= 0 keeps nothing.
func Truncate(b []byte, limit int64, secrets ...string) string {
	return TruncateStart(b, int64(len(b)), limit, secrets...)
}

// TruncateStart is Truncate for a body of total bytes of which only the start is
// held: all of it, or at least limit + MaxLookahead bytes.
func TruncateStart(start []byte, total, limit int64, secrets ...string) string {
	limit = max(limit, 0)
	if total <= limit && int64(len(start)) >= total {
		return Scrub(string(start), secrets...)
	}
	sec := usable(secrets)
	// One byte past the cut at least, to see whether it falls inside a token.
	window := start[:limit+min(int64(len(start))-limit, int64(lookahead(sec)+1))]
	more := total > int64(len(window))
	n := int(min(limit, int64(len(window))))
	if !mayHoldBytes(window, sec) { // the common case: nothing to mask, one copy
		c := cutAt(window, n, nil, more)
		tail := note(total - int64(c))
		var b strings.Builder
		b.Grow(c + len(tail))
		b.Write(window[:c])
		b.WriteString(tail)
		return b.String()
	}
	s := string(window)
	ms := find(s, sec)
	c := cutAt(s, n, ms, more)
	return masked(s[:c], kept(ms, c)) + note(total-int64(c))
}

func note(cut int64) string { return "…(truncated " + strconv.FormatInt(cut, 10) + " bytes)" }

// ReadScrubbed reads at most limit bytes of r with secrets masked as Scrub does. When
// r holds more, it reads on far enough to mask a secret that crosses the limit, and
// cuts as Truncate does, without a note: what comes back is the start of the body.
// The error is io.ReadAll's.
func ReadScrubbed(r io.Reader, limit int64, secrets ...string) ([]byte, error) {
	limit = max(limit, 0)
	sec := usable(secrets)
	b, err := io.ReadAll(io.LimitReader(r, limit+int64(lookahead(sec)+1)))
	if int64(len(b)) <= limit {
		return ScrubBytes(b, secrets...), err
	}
	s := string(b)
	ms := find(s, sec)
	c := cutAt(s, int(limit), ms, true)
	return []byte(masked(s[:c], kept(ms, c))), err
}

// cutAt returns where to cut s at most n bytes in: n, or earlier to keep a UTF-8
// sequence, a secret (ms) or a token whole. more says s is itself the start of a
// longer text, so that a cut at its end may split a token.
func cutAt[T string | []byte](s T, n int, ms []match, more bool) int {
	c := utf8Cut(s, n)
	for _, m := range ms {
		if m.start < c && c < m.end {
			c = m.start
			break
		}
	}
	if c < len(s) && tokenish(s[c]) || c == len(s) && more {
		for c > 0 && tokenish(s[c-1]) {
			c--
		}
	}
	return c
}

// kept returns the matches that end at or before c.
func kept(ms []match, c int) []match {
	for i, m := range ms {
		if m.end > c {
			return ms[:i]
		}
	}
	return ms
}

// tokenish reports whether c may be part of a key as it is written: the bytes of
// tokenEnd, and those of the escapes unescape reads.
func tokenish(c byte) bool {
	return isTokenByte(c) || c == '\\' || c == '&' || c == '#' || c == ';'
}

// AppendCut appends s to dst, or as much of it as limit bytes allow, for a log that
// gathers a text from pieces (a stream's deltas): cut on a UTF-8 boundary, and when
// the cut falls inside a token, before the token, whose start already in dst is
// dropped as well (a key split across pieces shows no more than one cut whole).
// cut counts the bytes left out, of s and of dst; once it is positive the text is
// over, and nothing more should be appended.
func AppendCut(dst []byte, s string, limit int) (out []byte, cut int) {
	if len(s) <= limit {
		return append(dst, s...), 0
	}
	n := utf8Cut(s, max(limit, 0))
	out, dropped := trimToken(append(dst, s[:n]...), s[n])
	return out, len(s) - n + dropped
}

// trimToken returns b without the part of a token that b ends with, and how many
// bytes that was: b is being cut, and next is the first byte cut off.
func trimToken(b []byte, next byte) ([]byte, int) {
	if !tokenish(next) {
		return b, 0
	}
	n := len(b)
	for n > 0 && tokenish(b[n-1]) {
		n--
	}
	return b[:n], len(b) - n
}

// utf8Cut returns the largest length <= n that does not split a UTF-8 sequence of b:
// n itself, or the start of the sequence that b[n] continues. Invalid UTF-8 is cut at n.
func utf8Cut[T string | []byte](b T, n int) int {
	if n >= len(b) {
		return len(b)
	}
	for i := n; i >= 0 && i > n-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if i+seqLen(b[i]) > n {
				return i
			}
			return n
		}
	}
	return n
}

// seqLen is the length of the UTF-8 sequence that starts with c.
func seqLen(c byte) int {
	switch {
	case c >= 0xF0:
		return 4
	case c >= 0xE0:
		return 3
	case c >= 0xC0:
		return 2
	}
	return 1
}
