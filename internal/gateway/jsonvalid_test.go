package gateway

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// validJSONCases are bodies on both sides of every rule of the grammar, and of
// the eight-byte steps of validString.
var validJSONCases = []string{
	`{}`, `[]`, ` {"a":1} `, "\t\r\n{}\n", ``, ` `, `{`, `}`, `{"a":1}x`, `{"a":1},`, `{"a" 1}`, `{"a":}`,
	`{"a":1,}`, `{,}`, `[1,]`, `[,1]`, `[1 2]`, `{"a":1 "b":2}`, `{1:2}`, `{'a':1}`, `[[[[]]]]`, `[{}]`,
	`"abc"`, `"abc`, `"a\"b"`, `"a\\"`, `"a\\\"`, `"\/\b\f\n\r\t"`, `"\x"`, `"\u00e9"`, `"\u00E"`, `"\u00eg"`,
	`"\u"`, `"\`, "\"a\x01b\"", "\"a\x1fb\"", "\"a\x7fb\"", "\"é\xff\"", `"0123456789abcdef"`,
	"\"0123456\x00789abcdef\"", `"01234567\"89abcdef"`, `"0123456789abcde\\"`, `"01234567`,
	`0`, `-0`, `-`, `01`, `1.`, `1.5`, `.5`, `1e5`, `1E+5`, `1e-5`, `1e`, `1e+`, `-1.5e10`, `0.0e0`, `00`,
	`1.5.5`, `+1`, `true`, `false`, `null`, `tru`, `nul`, `truex`, `[true,false,null]`, `nulll`, `True`,
	`{"model":"gpt-4o","messages":[{"role":"user","content":"hi there, how are you today?"}],"stream":false}`,
	strings.Repeat("[", maxNesting) + strings.Repeat("]", maxNesting),
	strings.Repeat("[", maxNesting+1) + strings.Repeat("]", maxNesting+1),
}

// sameAsGjson fails when validJSON and gjson.ValidBytes disagree on b, within
// the nesting depth checkShape lets validate see.
func sameAsGjson(t *testing.T, b []byte) {
	t.Helper()
	if got, want := validNested(b, math.MaxInt), gjson.ValidBytes(b); got != want {
		t.Fatalf("%q: validNested without a limit %v, gjson.ValidBytes %v", b, got, want)
	}
	if errors.Is(checkShape(b), errTooDeep) {
		if validJSON(b) && gjson.ValidBytes(b) {
			t.Fatalf("%q: too deep, yet valid", b)
		}
		return
	}
	if got, want := validJSON(b), gjson.ValidBytes(b); got != want {
		t.Fatalf("%q: validJSON %v, gjson.ValidBytes %v", b, got, want)
	}
}

func TestValidJSONAsGjson(t *testing.T) {
	for _, s := range validJSONCases {
		sameAsGjson(t, []byte(s))
		for cut := range len(s) { // every prefix: each ends inside some rule
			sameAsGjson(t, []byte(s[:cut]))
		}
	}
	if !validJSON([]byte(strings.Repeat("[", maxNesting) + strings.Repeat("]", maxNesting))) {
		t.Fatal("a body nested maxNesting deep is valid")
	}
}

// FuzzValidJSON: validJSON says what gjson.ValidBytes says (run with
// -fuzz FuzzValidJSON -fuzztime=20000x).
func FuzzValidJSON(f *testing.F) {
	for _, s := range validJSONCases {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { sameAsGjson(t, b) })
}

// BenchmarkValidJSON compares validJSON with gjson.ValidBytes on a 1 KB chat
// request.
func BenchmarkValidJSON(b *testing.B) {
	body := []byte(`{"model":"gpt-4o","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"` +
		strings.Repeat("lorem ipsum dolor sit amet, ", 32) + `"}],"max_tokens":64,"stream":false}`)
	for _, v := range []struct {
		name  string
		valid func([]byte) bool
	}{{"validJSON", validJSON}, {"gjson", gjson.ValidBytes}} {
		b.Run(v.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if !v.valid(body) {
					b.Fatal("invalid")
				}
			}
		})
	}
}
