package logging

import (
	"log/slog"
	"net/http"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCredentialValues(t *testing.T) {
	h := http.Header{
		"Authorization":     {"Basic dXNlcjpwYXNzd29yZA=="},
		"X-Api-Key":         {"sk-ant-second"},
		"X-Portkey-Api-Key": {" pk-rule "},
		"Content-Type":      {"application/json"},
		"Anthropic-Version": {"2023-06-01"},
	}
	got := CredentialValues(h, "beta=true&key=AIzaQuery&API_KEY=k2&model=x&bad=%zz")
	slices.Sort(got)
	want := []string{"AIzaQuery", "Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA==", "k2", "pk-rule", "sk-ant-second"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("CredentialValues (-want +got):\n%s", d)
	}
	if got := CredentialValues(http.Header{"Accept": {"*/*"}}, ""); got != nil {
		t.Errorf("no credentials: got %q", got)
	}
}

func TestScrubJSON(t *testing.T) {
	const key = "sk-ab/cd+ef-0123456789"
	for _, tc := range []struct{ in, want string }{
		// Plain, escaped '/', \u escapes in either case: the secret is found.
		{`{"m":"bad sk-ab/cd+ef-0123456789"}`, `{"m":"bad ****6789"}`},
		{`{"m":"bad sk-ab\/cd+ef-0123456789"}`, `{"m":"bad ****6789"}`},
		{`{"m":"bad sk-ab\/cd\u002Bef-0123456789 \"q\" \n"}`, `{"m":"bad ****6789 \"q\" \n"}`},
		{`{"m":"bad sk-ab\u002fcd\u002bef-0123456789"}`, `{"m":"bad ****6789"}`},
		// No secret: the bytes stay as written, escapes included.
		{`{"m":"a\/b \u0041 \\u0041"}`, `{"m":"a\/b \u0041 \\u0041"}`},
		// JSON quoted in a JSON string escapes its escapes: found as well.
		{`{"m":"sk-ab/cd\\u002Bef-0123456789"}`, `{"m":"****6789"}`},
		{`{"m":"{\"k\":\"sk-ab\\/cd\\u002bef-0123456789\"}"}`, `{"m":"{\"k\":\"****6789\"}"}`},
	} {
		if got := string(ScrubJSON([]byte(tc.in), key)); got != tc.want {
			t.Errorf("ScrubJSON(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestScrubAttrs(t *testing.T) {
	const key = "sk-request-0123456789"
	in := []slog.Attr{
		slog.String("request_body", `{"api_key":"`+key+`"}`),
		slog.Int("n", 3),
		slog.Group("upstream", slog.String("echo", "got "+key)),
	}
	out := ScrubAttrs(in, key)
	want := `[request_body={"api_key":"****6789"} n=3 upstream=[echo=got ****6789]]`
	if got := slogString(out); got != want {
		t.Errorf("ScrubAttrs = %s, want %s", got, want)
	}
	if in[0].Value.String() == out[0].Value.String() {
		t.Error("nothing scrubbed")
	}
	if slogString(in) == want {
		t.Error("ScrubAttrs modified its input")
	}
	if got := ScrubAttrs(in); &got[0] != &in[0] {
		t.Error("no secrets: want the input back")
	}
}

func slogString(as []slog.Attr) string {
	s := "["
	for i, a := range as {
		if i > 0 {
			s += " "
		}
		s += a.String()
	}
	return s + "]"
}

func TestSecretHeaderAllocs(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { SecretHeader("X-Portkey-Api-Key"); SecretHeader("Content-Type") }); n != 0 {
		t.Errorf("SecretHeader allocates %v times", n)
	}
}
