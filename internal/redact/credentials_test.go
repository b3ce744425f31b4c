package redact

import (
	"net/http"
	"slices"
	"strings"
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

// ScrubBytes masks a secret in a JSON document however its strings escape it
// (`\/` for '/', `\u002B` for '+', as PHP's and .NET's encoders write them), and the
// document stays valid JSON, the same value apart from the masks.
func TestScrubBytesKeepsJSON(t *testing.T) {
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
		if got := string(ScrubBytes([]byte(tc.in), key)); got != tc.want {
			t.Errorf("ScrubBytes(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestSecretHeader(t *testing.T) {
	for _, name := range []string{
		"Authorization", "x-api-key", "Api-Key", "X-Goog-Api-Key", "Cookie", "Proxy-Authorization",
		"X-Portkey-Api-Key", "Ocp-Apim-Subscription-Key", "X-Auth-Token", "X-Amz-Security-Token",
		"X-Client-Secret", "X-Db-Password", "X-Hub-Signature", "X-Apikey", "X-Credentials",
		"X-" + strings.Repeat("Long-", 20) + "Api-Key",
	} {
		if !SecretHeader(name) {
			t.Errorf("SecretHeader(%q) = false", name)
		}
	}
	for _, name := range []string{
		"Content-Type", "Anthropic-Version", "Anthropic-Beta", "X-Request-Id", "OpenAI-Organization",
		"X-Ratelimit-Remaining-Tokens", "Anthropic-Ratelimit-Tokens-Remaining", "Keep-Alive", "X-Team",
		"Retry-After", "X-Stainless-Lang", "X-" + strings.Repeat("Long-", 20) + "Name",
	} {
		if SecretHeader(name) {
			t.Errorf("SecretHeader(%q) = true", name)
		}
	}
}

// TestCommonHeaders: the names SecretHeader answers for at once are no secret
// by the rules either.
func TestCommonHeaders(t *testing.T) {
	for _, name := range []string{
		"Accept", "Accept-Encoding", "Anthropic-Version", "Cache-Control", "Connection",
		"Content-Encoding", "Content-Length", "Content-Type", "Date", "Host", "Openai-Organization",
		"Openai-Processing-Ms", "Openai-Version", "Server", "Transfer-Encoding", "User-Agent", "Vary",
		"X-Request-Id",
	} {
		if !commonHeader(name) || secretName(name) {
			t.Errorf("%q: commonHeader %v, secretName %v", name, commonHeader(name), secretName(name))
		}
	}
}

func TestSecretHeaderAllocs(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { SecretHeader("X-Portkey-Api-Key"); SecretHeader("Content-Type") }); n != 0 {
		t.Errorf("SecretHeader allocates %v times", n)
	}
}
