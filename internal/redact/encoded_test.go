package redact

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const dashed = "sk-ant-api03-Zq8xW2pL-9vK3mN7bR4tY6"

func TestScrubEscapedSpellings(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"literal", "key " + dashed + ".", "key ****4tY6."},
		{"HTML decimal", "key " + strings.ReplaceAll(dashed, "-", "&#45;") + ".", "key ****4tY6."},
		{"HTML decimal, zeros", "key " + strings.ReplaceAll(dashed, "-", "&#00045;") + ".", "key ****4tY6."},
		{"HTML decimal without ;", "key " + strings.Replace(dashed, "-", "&#45", 1) + ".", "key ****4tY6."},
		{"HTML hex", "key " + strings.ReplaceAll(dashed, "-", "&#x2D;") + "!", "key ****4tY6!"},
		{"HTML hex lower", "key " + strings.ReplaceAll(dashed, "-", "&#x2d;"), "key ****4tY6"},
		{"percent", "/v1?x=" + strings.ReplaceAll(dashed, "-", "%2D") + "&y", "/v1?x=****4tY6&y"},
		{"percent lower", strings.ReplaceAll(dashed, "-", "%2d"), "****4tY6"},
		{"JSON", `{"m":"` + strings.ReplaceAll(dashed, "-", `\u002d`) + `"}`, `{"m":"****4tY6"}`},
		{"JSON in JSON", `{"m":"{\"k\":\"` + strings.ReplaceAll(dashed, "-", `\\u002D`) + `\"}"}`, `{"m":"{\"k\":\"****4tY6\"}"}`},
		{"HTML in HTML", strings.ReplaceAll(dashed, "-", "&amp;#45;"), "****4tY6"},
		{"percent in percent", strings.ReplaceAll(dashed, "-", "%252D"), "****4tY6"},
		{"mixed", "sk&#45;ant%2Dapi03\\u002dZq8xW2pL-9vK3mN7bR4tY6", "****4tY6"},
		{"every character", entities(dashed), "****4tY6"},
		{"twice, two spellings", dashed + " " + strings.ReplaceAll(dashed, "-", "&#45;"), "****4tY6 ****4tY6"},
		{"broken escape kept", strings.Replace(dashed, "-", "&#4", 1), strings.Replace(dashed, "-", "&#4", 1)},
		{"other escapes kept", `a\/b %41 &#65; \u0041 &lt;`, `a\/b %41 &#65; \u0041 &lt;`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d := cmp.Diff(tt.want, Scrub(tt.in, dashed)); d != "" {
				t.Errorf("Scrub (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tt.want, string(ScrubBytes([]byte(tt.in), dashed))); d != "" {
				t.Errorf("ScrubBytes (-want +got):\n%s", d)
			}
			if got, _ := NewSet([]string{dashed}).Scrub(tt.in); got != tt.want {
				t.Errorf("Set (the log sink's): %q, want %q", got, tt.want)
			}
		})
	}
}

// entities writes every character of s as an HTML decimal reference.
func entities(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		b.WriteString("&#" + strconv.Itoa(int(c)) + ";")
	}
	return b.String()
}

// refEscape matches the one-character escapes the tests write, for refDecode.
var refEscape = regexp.MustCompile(`\\u00([0-9a-fA-F]{2})|%([0-9a-fA-F]{2})|&#[xX]([0-9a-fA-F]+);?|&#([0-9]+);?`)

// refDecode decodes one level of the escapes the tests write, independently of
// unescape, so that the invariants below do not take the code's word for it.
func refDecode(s string) string {
	return refEscape.ReplaceAllStringFunc(s, func(m string) string {
		sub := refEscape.FindStringSubmatch(m)
		for i, base := range []int{16, 16, 16, 10} {
			if sub[i+1] != "" {
				v, err := strconv.ParseInt(sub[i+1], base, 32)
				if err == nil && v > ' ' && v < 0x7f {
					return string(rune(v))
				}
			}
		}
		return m
	})
}

// part returns the first 6-byte window of secret found in s or in s decoded.
func part(s, secret string) string {
	for _, text := range []string{s, refDecode(s)} {
		for i := 0; i+6 <= len(secret); i++ {
			if strings.Contains(text, secret[i:i+6]) {
				return secret[i : i+6]
			}
		}
	}
	return ""
}

// spell writes secret with each character spelled as the bits of how say:
// literal, \u00XX, %XX, &#NN; or &#xHH;.
func spell(secret string, how uint64) string {
	var b strings.Builder
	for i, c := range []byte(secret) {
		switch (how >> (3 * (i % 21))) & 7 {
		case 1:
			b.WriteString(`\u00` + strconv.FormatInt(int64(c), 16))
		case 2:
			b.WriteString("%" + strings.ToUpper(strconv.FormatInt(int64(c), 16)))
		case 3:
			b.WriteString("&#" + strconv.Itoa(int(c)) + ";")
		case 4:
			b.WriteString("&#x" + strconv.FormatInt(int64(c), 16) + ";")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// filler maps fuzz bytes to text that can neither spell an escape nor a part of
// fuzzKey: lower-case letters, spaces and JSON punctuation.
func filler(b []byte) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz \"{}:,.\n"
	out := make([]byte, len(b))
	for i, c := range b {
		out[i] = alphabet[int(c)%len(alphabet)]
	}
	return string(out)
}

const fuzzKey = "SK9Z-QWERTY_7788-ABCD.UVXY"

// FuzzScrubAndCut spells a key in random escapes inside random text and checks
// the scrubbing and cutting functions: no 6 characters of the key survive, in any
// spelling, wherever a cut falls; a key the cutter is not told about is shown
// whole or not at all.
func FuzzScrubAndCut(f *testing.F) {
	f.Add([]byte("error: "), []byte(" was rejected"), uint64(0), uint16(10))
	f.Add([]byte(`{"message":"`), []byte(`"}`), uint64(0x1249249249249249), uint16(30))
	f.Add([]byte("x"), []byte(""), uint64(0x0db6db6db6db6db6), uint16(3))
	f.Fuzz(func(t *testing.T, before, after []byte, how uint64, limit uint16) {
		spelled := spell(fuzzKey, how)
		text := filler(before) + spelled + filler(after)
		if p := part(Scrub(text, fuzzKey), fuzzKey); p != "" {
			t.Fatalf("Scrub left %q of %q", p, text)
		}
		got := Truncate([]byte(text), int64(limit), fuzzKey)
		shown, _, cut := strings.Cut(got, "…(truncated ")
		if p := part(shown, fuzzKey); p != "" {
			t.Fatalf("Truncate(%d) left %q: %q", limit, p, got)
		}
		if len(shown) > int(limit) && cut {
			t.Fatalf("Truncate(%d) kept %d bytes", limit, len(shown))
		}
		read, err := ReadScrubbed(strings.NewReader(text), int64(limit), fuzzKey)
		if err != nil || part(string(read), fuzzKey) != "" || len(read) > int(limit) {
			t.Fatalf("ReadScrubbed(%d) = %q, %v", limit, read, err)
		}
		unknown, _, _ := strings.Cut(Truncate([]byte(text), int64(limit)), "…(truncated ")
		if p := part(unknown, fuzzKey); p != "" && !strings.Contains(unknown, spelled) {
			t.Fatalf("Truncate(%d) without the key kept part of it, %q: %q", limit, p, unknown)
		}
	})
}

// An upstream that echoes a key thousands of times, literally and escaped, has
// every occurrence masked (the matching is linear in the text, not in the square
// of the occurrences: see BenchmarkScrub/json-1MB-key-30000-times).
func TestScrubManyOccurrences(t *testing.T) {
	for _, spelled := range []string{dashed, strings.ReplaceAll(dashed, "-", "&#45;"), dashed + dashed} {
		body := strings.Repeat("key "+spelled+" ", 30_000)
		out := Scrub(body, dashed, dashed[:20])
		if n := strings.Count(out, "****"); n != 30_000*strings.Count(spelled, "sk") || part(out, dashed) != "" {
			t.Errorf("%.20s…: %d masks, %q left", spelled, n, part(out, dashed))
		}
	}
}
