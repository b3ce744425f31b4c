package redact

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// Canary keys: what a test looks for in output that must never hold them.
const (
	canaryA = "sk-canary-AAAA1111BBBB2222"
	canaryB = "ant-canary-CCCC3333DDDD4444"
	short   = "shrt123" // below minSecret: masked only by key
)

var secrets = []string{canaryA, canaryB, short}

func TestScrub(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		secrets []string
		want    string
	}{
		{"no secrets", "invalid key " + canaryA, nil, "invalid key " + canaryA},
		{"one occurrence", `{"error":{"message":"Incorrect API key provided: ` + canaryA + `"}}`, secrets,
			`{"error":{"message":"Incorrect API key provided: ****2222"}}`},
		{"every occurrence", canaryB + " and " + canaryB, secrets, "****4444 and ****4444"},
		{"two secrets", canaryA + canaryB, secrets, "****2222****4444"},
		{"longer secret masked whole", "k=" + canaryA + "-extra", []string{canaryA, canaryA + "-extra"}, "k=****xtra"},
		{"short secret ignored", "token shrt123 here", []string{short}, "token shrt123 here"},
		{"8-byte secret masked", "pw 12345678 ok", []string{"12345678"}, "pw **** ok"},
		{"empty secret ignored", "abc", []string{""}, "abc"},
		{"nothing matched", "all good", secrets, "all good"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Scrub(tt.in, tt.secrets...)); diff != "" {
				t.Errorf("Scrub (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, string(ScrubBytes([]byte(tt.in), tt.secrets...))); diff != "" {
				t.Errorf("ScrubBytes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestScrubBytesIdentity(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		secrets []string
		same    bool
	}{
		{"no match returns b", []byte(`{"error":"overloaded"}`), secrets, true},
		{"short secret ignored returns b", []byte("shrt123"), []string{short}, true},
		{"match returns a copy", []byte("key " + canaryA), secrets, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			orig := string(tt.in)
			got := ScrubBytes(tt.in, tt.secrets...)
			if same := &got[0] == &tt.in[0] && len(got) == len(tt.in); same != tt.same {
				t.Errorf("same slice = %v, want %v", same, tt.same)
			}
			if string(tt.in) != orig {
				t.Errorf("input modified: %q", tt.in)
			}
		})
	}
}

func TestURL(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"key", "https://generativelanguage.googleapis.com/v1beta/models?key=" + canaryA,
			"https://generativelanguage.googleapis.com/v1beta/models?key=****2222"},
		{"api_key among others", "https://h/v1?alt=sse&API_KEY=" + canaryB + "&x=1", "https://h/v1?alt=sse&API_KEY=****4444&x=1"},
		{"token in fragment", "https://h/cb#access_token=abcdefghijklmnop&state=s", "https://h/cb#access_token=****mnop&state=s"},
		{"short value", "https://h/?token=abc", "https://h/?token=****"},
		{"empty value", "https://h/?key=&a=b", "https://h/?key=&a=b"},
		{"similar names kept", "https://h/?monkey=1234567890abc&keys=1234567890abc&key_id=7", "https://h/?monkey=1234567890abc&keys=1234567890abc&key_id=7"},
		{"userinfo password", "https://bob:s3cretpassw0rd@proxy:3128/x", "https://bob:****w0rd@proxy:3128/x"},
		{"userinfo without password", "https://bob@proxy/x", "https://bob@proxy/x"},
		{"userinfo already redacted by url.URL", "redis://app:xxxxx@cache:6379/0", "redis://app:xxxxx@cache:6379/0"},
		{"at in path is not userinfo", "https://h/users/@me:x", "https://h/users/@me:x"},
		{"inside an error", `Post "https://h/v1?key=` + canaryA + `": EOF`, `Post "https://h/v1?key=****2222": EOF`},
		{"clean", "https://api.anthropic.com/v1/messages?beta=true", "https://api.anthropic.com/v1/messages?beta=true"},
		{"not a URL", "plain text", "plain text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, URL(tt.in)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestMaskBearer(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"header dump", "Authorization: Bearer " + canaryA, "Authorization: Bearer ****2222"},
		{"lower case", "authorization: bearer " + canaryB + ", next", "authorization: bearer ****4444, next"},
		{"short word kept", "missing bearer token", "missing bearer token"},
		{"inside a word kept", "unbearer " + canaryA, "unbearer " + canaryA},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := maskBearer(tt.in)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		name string
		in   string
		max  int64
		want string
	}{
		{"fits", "hello", 5, "hello"},
		{"empty", "", 0, ""},
		{"ascii", "hello world", 5, "hello…(truncated 6 bytes)"},
		{"inside a 2-byte rune", "héllo", 2, "h…(truncated 5 bytes)"},
		{"after a 2-byte rune", "héllo", 3, "hé…(truncated 3 bytes)"},
		{"inside a 4-byte rune", "a😀b", 3, "a…(truncated 5 bytes)"},
		{"inside a 3-byte rune", "a€b", 3, "a…(truncated 4 bytes)"},
		{"after a 3-byte rune", "a€b", 4, "a€…(truncated 1 bytes)"},
		{"zero", "abc", 0, "…(truncated 3 bytes)"},
		{"negative", "abc", -1, "…(truncated 3 bytes)"},
		{"invalid UTF-8 cut at max", "ab\x80\x80\x80\x80\x80", 4, "ab\x80\x80…(truncated 3 bytes)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Truncate([]byte(tt.in), tt.max)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestTruncateEveryCut cuts valid UTF-8 at every length: the kept part is always a
// valid prefix at most max bytes long, at most 3 bytes shorter than max.
func TestTruncateEveryCut(t *testing.T) {
	const s = "aé€😀bß文字🎉z"
	for n := range len(s) {
		got := Truncate([]byte(s), int64(n))
		kept, _, _ := strings.Cut(got, "…(truncated ")
		if !utf8.ValidString(kept) || !strings.HasPrefix(s, kept) || len(kept) > n || n-len(kept) > 3 {
			t.Errorf("Truncate(%d) = %q", n, got)
		}
	}
}
