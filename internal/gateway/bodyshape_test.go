package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/iotest"
)

func TestCheckShape(t *testing.T) {
	wide := func(extra string) string {
		var b strings.Builder
		b.WriteString(`{"model":"m","o":{`)
		for i := range 100 {
			fmt.Fprintf(&b, `"key%03d":%d,`, i, i)
		}
		b.WriteString(extra + `"last":0}}`)
		return b.String()
	}
	tests := []struct {
		name, body string
		dup        bool
	}{
		{"plain", `{"model":"m","messages":[{"role":"user","content":"hi"}]}`, false},
		{"same key in sibling objects", `{"a":{"x":1},"b":{"x":2},"c":[{"x":1},{"x":2}]}`, false},
		{"key text inside string values", `{"a":"\"a\":1,","b":"{\"a\":1}"}`, false},
		{"duplicate at top", `{"model":"a","model":"b"}`, true},
		{"duplicate after a nested object", `{"model":"a","x":{"model":"c"},"model":"b"}`, true},
		{"duplicate in an array's object", `{"m":[1,{"content":"a","role":"u","content":"b"}]}`, true},
		{"escaped slash", `{"a/b":1,"a\/b":2}`, true},
		{"unicode escape", `{"model":1,"\u006dodel":2}`, true},
		{"surrogate pair and literal", `{"😀":1,"\ud83d\ude00":2}`, true},
		{"lone surrogates read as U+FFFD", `{"a\ud800":1,"a\udc00":2}`, true},
		{"invalid UTF-8 reads as U+FFFD", "{\"a\xff\":1,\"a\xfe\":2}", true},
		{"top level folds case", `{"model":1,"Model":2}`, true},
		{"top level folds long s", `{"stream":1,"ſtream":2}`, true},
		{"top level folds kelvin", `{"k":1,"K":2}`, true},
		{"nested keys may differ in case", `{"o":{"id":1,"ID":2}}`, false},
		{"large object without duplicate", wide(""), false},
		{"large object with duplicate", wide(`"key042":1,`), true},
		{"large top-level object folds case", topWide(), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkShape([]byte(tt.body))
			var de *duplicateKeyError
			if got := errors.As(err, &de); got != tt.dup {
				t.Errorf("checkShape(%s) = %v, want duplicate %v", tt.body, err, tt.dup)
			}
		})
	}
	deep := strings.Repeat("[", maxNesting) + strings.Repeat("]", maxNesting)
	if err := checkShape([]byte(deep)); err != nil {
		t.Errorf("%d levels: %v", maxNesting, err)
	}
	if err := checkShape([]byte("[" + deep + "]")); !errors.Is(err, errTooDeep) {
		t.Errorf("%d levels: %v, want errTooDeep", maxNesting+1, err)
	}
}

// topWide is a top-level object of 40 keys, two of which differ only in case.
func topWide() string {
	var b strings.Builder
	b.WriteString(`{`)
	for i := range 40 {
		fmt.Fprintf(&b, `"k%02d":0,`, i)
	}
	b.WriteString(`"K17":1}`)
	return b.String()
}

// refDuplicate is what checkShape must find, computed with encoding/json's
// tokenizer: keys decoded by Go, compared exactly, and ignoring case (as
// strings.EqualFold) in the top-level object. It also returns the nesting depth.
func refDuplicate(b []byte) (dup bool, depth int) {
	d := json.NewDecoder(bytes.NewReader(b))
	type frame struct {
		object bool
		keys   []string
		key    bool // the next string token is a key
	}
	var stack []*frame
	for {
		tok, err := d.Token()
		if err != nil {
			return dup, depth
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{', '[':
				if top != nil && top.object {
					top.key = true
				}
				stack = append(stack, &frame{object: v == '{', key: v == '{'})
				depth = max(depth, len(stack))
			default:
				stack = stack[:len(stack)-1]
			}
			continue
		case string:
			if top != nil && top.object && top.key {
				for _, k := range top.keys {
					if k == v || len(stack) == 1 && strings.EqualFold(k, v) {
						dup = true
					}
				}
				top.keys = append(top.keys, v)
				top.key = false
				continue
			}
		}
		if top != nil && top.object {
			top.key = true
		}
	}
}

// FuzzCheckShape compares checkShape with encoding/json on valid JSON.
func FuzzCheckShape(f *testing.F) {
	for _, s := range []string{
		`{"model":"a","model":"b"}`, `{"a":{"b":1,"B":2},"A":3}`, `{"\u00e9":1,"é":2}`,
		`{"ſ":1,"S":2}`, `[{"x":1},{"x":1,"y":{"x":2}}]`, topWide(), `{"a\ud83d":1,"a\ud83d\ude00":2}`,
		`{"k":[[[{"k":{"k":1}}]]],"k2":"\\\"k\":"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		err := checkShape(b)
		if !json.Valid(b) {
			return // checkShape says nothing about invalid JSON
		}
		dup, depth := refDuplicate(b)
		if (depth > maxNesting) != errors.Is(err, errTooDeep) {
			t.Fatalf("depth %d, checkShape %v", depth, err)
		}
		if depth > maxNesting {
			return
		}
		var de *duplicateKeyError
		if errors.As(err, &de) != dup {
			t.Fatalf("%q: encoding/json finds a duplicate: %v; checkShape: %v", b, dup, err)
		}
	})
}

// An ordinary request body is checked without allocating.
func TestCheckShapeAllocations(t *testing.T) {
	body := []byte(`{"model":"gpt-4o","temperature":0.3,"stream":true,"metadata":{"a":"1","b":"2"},` +
		`"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":[{"type":"text","text":"hi"}]}]}`)
	if n := testing.AllocsPerRun(100, func() { _ = checkShape(body) }); n != 0 {
		t.Errorf("checkShape allocates %v times per body", n)
	}
}

// readAll reserves memory as bytes arrive: a body announcing far more than it
// sends holds at most twice what came (or the initial 32 KiB); an honest one
// takes one allocation of its length.
func TestReadAllReservesWhatArrives(t *testing.T) {
	const announced, limit = 32 << 20, 64 << 20
	for _, sent := range []int{1, 10 << 10, 100 << 10, 1 << 20} {
		body := bytes.Repeat([]byte("x"), sent)
		got, err := readAll(iotest.HalfReader(bytes.NewReader(body)), announced, limit)
		if err != nil || len(got) != sent {
			t.Fatalf("sent %d: got %d bytes, %v", sent, len(got), err)
		}
		if c := cap(got); c > max(initialBodyBuffer, 2*sent+1) {
			t.Errorf("sent %d of an announced %d: reserved %d", sent, announced, c)
		}
	}
	body := bytes.Repeat([]byte("x"), 20<<10)
	if got, _ := readAll(bytes.NewReader(body), int64(len(body)), limit); cap(got) != len(body)+1 {
		t.Errorf("an honest %d-byte body reserved %d", len(body), cap(got))
	}
	if _, err := readAll(http.MaxBytesReader(nil, io.NopCloser(bytes.NewReader(body)), 1000), -1, 1000); err == nil {
		t.Error("a body over the limit read without error")
	}
}
