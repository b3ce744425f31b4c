package redact

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Wherever a cut falls in a key, in whatever spelling, nothing of it is shown by
// Truncate, TruncateStart or ReadScrubbed; a key that fits is masked whole; and the
// note counts the bytes not shown.
func TestCutsNeverSplitASecret(t *testing.T) {
	for name, how := range map[string]uint64{"literal": 0, "json": 0x1249249249249249, "percent": 0x2492492492492492, "html": 0x36db6db6db6db6db, "mixed": 0x0123456789abcdef} {
		spelled := spell(dashed, how)
		text := `{"error":{"message":"invalid key ` + spelled + ` for this org"}}`
		start := strings.Index(text, spelled)
		for limit := start - 3; limit <= start+len(spelled)+3; limit++ {
			where := fmt.Sprintf("%s, cut at %d of the key", name, limit-start)
			got := Truncate([]byte(text), int64(limit), dashed)
			shown, note, _ := strings.Cut(got, "…(truncated ")
			if p := part(shown, dashed); p != "" {
				t.Errorf("%s: Truncate shows %q: %s", where, p, got)
			}
			if len(shown) > limit || !strings.HasPrefix(text, strings.Replace(shown, "****4tY6", spelled, 1)) {
				t.Errorf("%s: Truncate shows %q", where, shown)
			}
			var n int
			if _, err := fmt.Sscanf(note, "%d bytes)", &n); err != nil || n < len(text)-limit {
				t.Errorf("%s: note %q, want at least %d bytes cut", where, note, len(text)-limit)
			}
			held := []byte(text)[:min(len(text), limit+MaxLookahead)]
			if got2 := TruncateStart(held, int64(len(text)), int64(limit), dashed); got2 != got {
				t.Errorf("%s: TruncateStart = %q, Truncate = %q", where, got2, got)
			}
			read, err := ReadScrubbed(strings.NewReader(text), int64(limit), dashed)
			if err != nil || part(string(read), dashed) != "" || len(read) > limit {
				t.Errorf("%s: ReadScrubbed = %q, %v", where, read, err)
			}
		}
		if got := Truncate([]byte(text), int64(len(text)), dashed); got != `{"error":{"message":"invalid key ****4tY6 for this org"}}` {
			t.Errorf("%s: uncut: %s", name, got)
		}
	}
}

func TestTruncateDropsCutToken(t *testing.T) {
	tests := []struct {
		name string
		in   string
		max  int64
		want string
	}{
		{"between words", "hello world", 6, "hello …(truncated 5 bytes)"},
		{"inside a word", "hello world", 8, "hello …(truncated 5 bytes)"},
		{"inside an unknown key", `{"k":"sk-other-0123456789abcdef"}`, 20, `{"k":"…(truncated 27 bytes)`},
		{"inside escapes", `{"k":"sk&#45;ab"}`, 12, `{"k":"…(truncated 11 bytes)`},
		{"after a token", `{"k":"ab","l":1}`, 8, `{"k":"ab…(truncated 8 bytes)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d := cmp.Diff(tt.want, Truncate([]byte(tt.in), tt.max)); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

// ReadScrubbed returns the start of a longer body, exactly limit bytes when the
// cut falls between tokens, and reads only so far past the limit.
func TestReadScrubbedReadsBounded(t *testing.T) {
	body := strings.Repeat("word ", 1000)
	r := &countingReader{r: strings.NewReader(body)}
	got, err := ReadScrubbed(r, 100, dashed)
	if err != nil || string(got) != body[:100] {
		t.Errorf("ReadScrubbed = %q, %v", got, err)
	}
	if max := 100 + lookahead([]string{dashed}) + 1; r.n > max {
		t.Errorf("read %d bytes, want at most %d", r.n, max)
	}
	failing := io.MultiReader(strings.NewReader("key "+dashed), errReader{})
	if got, err := ReadScrubbed(failing, 1<<20, dashed); err == nil || string(got) != "key ****4tY6" {
		t.Errorf("on a read error: %q, %v", got, err)
	}
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }
