package translate

import (
	"encoding/json"
	"testing"
)

// customInput reads the value of "input" as encoding/json does, however the
// arguments are cut: escapes, surrogate pairs and lone surrogates included.
func TestCustomInputMatchesJSON(t *testing.T) {
	args := []string{
		`{"input":"plain"}`,
		` { "input" : "a\"b\\c\/d\b\f\n\r\t e" , "other": 1}`,
		`{"input":"caf\u00e9 \ud83d\ude00 \u0000 end"}`,
		`{"input":"lone \ud800 high, lone \udc00 low, high then char \ud83dx"}`,
		`{"input":"high at the end \ud83d"}`,
		`{"input":"\ud83d\ud83d\ude00"}`,
		`{"input":"é日本😀 raw"}`,
	}
	for _, a := range args {
		var want struct{ Input string }
		if err := json.Unmarshal([]byte(a), &want); err != nil {
			t.Fatal(err)
		}
		for cut := 0; cut <= len(a); cut++ {
			var c customInput
			got := c.feed(a[:cut]) + c.feed(a[cut:])
			if got != want.Input || !c.streamed() {
				t.Fatalf("%s cut at %d: %q (streamed %v), want %q", a, cut, got, c.streamed(), want.Input)
			}
		}
		var c customInput
		got := ""
		for i := range len(a) {
			got += c.feed(a[i : i+1])
		}
		if got != want.Input {
			t.Errorf("%s byte by byte: %q, want %q", a, got, want.Input)
		}
	}
}

// Arguments of another shape stream nothing and are read whole at the end.
func TestCustomInputOtherShapes(t *testing.T) {
	tests := []struct{ args, want string }{
		{`{"query":"SELECT 1"}`, "SELECT 1"},
		{`{"input":5}`, `{"input":5}`},
		{`{"a":1,"input":"late"}`, "late"},
		{`{}`, ""},
		{`*** Begin Patch`, `*** Begin Patch`},
		{`["input"]`, `["input"]`},
		{`{"inputs":"x"}`, "x"},
	}
	for _, tt := range tests {
		var c customInput
		if s := c.feed(tt.args); s != "" || c.streamed() {
			t.Errorf("%s streamed %q", tt.args, s)
		}
		if got := customInputOf(tt.args); got != tt.want {
			t.Errorf("customInputOf(%s) = %q, want %q", tt.args, got, tt.want)
		}
	}
}
