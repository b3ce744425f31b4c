package gateway_test

import (
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// joinedEnvelope is the error body net/http's own errors are rewritten to: both
// the OpenAI and the Anthropic envelope at once.
type joinedEnvelope struct {
	Type  string `json:"type"`
	Error struct {
		Type    string  `json:"type"`
		Message string  `json:"message"`
		Param   *string `json:"param"`
		Code    *string `json:"code"`
	} `json:"error"`
}

// Requests net/http refuses before any handler runs get a JSON error both
// clients' SDKs read, not net/http's plain text: a bad request line, a header
// block over the limit (431), an unknown transfer coding (501), an HTTP version
// other than 1.x (505), an Expect other than 100-continue (417).
func TestNetHTTPErrorsInEnvelope(t *testing.T) {
	rt := newServedRouter(t, intakeConfig, "http://127.0.0.1:1", nil)
	body := `{"model":"cheap","messages":[{"role":"user","content":"hi"}]}`
	post := func(extra string) string {
		return fmt.Sprintf("POST /v1/chat/completions HTTP/1.1\r\nHost: router\r\n%sContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", extra, len(body), body)
	}
	tests := []struct {
		name, req string
		status    int
		message   string
	}{
		{"bad request line", "GARBAGE\r\n\r\n", 400, "Bad Request"},
		{"missing Host", "POST /v1/chat/completions HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 400, "missing required Host header"},
		{"malformed header", post("Bad Header Line\r\n"), 400, "Bad Request"},
		{"header block over the limit", post("X-Big: " + strings.Repeat("a", 100<<10) + "\r\n"), 431, "Request Header Fields Too Large"},
		{"unknown transfer coding", "POST /v1/chat/completions HTTP/1.1\r\nHost: router\r\nTransfer-Encoding: gzip\r\n\r\n", 501, "Unsupported transfer encoding"},
		{"HTTP/3.0 request line", "POST /v1/chat/completions HTTP/3.0\r\nHost: router\r\n\r\n", 505, "unsupported protocol version"},
		{"unsupported Expect", post("Expect: 102-processing\r\n"), 417, "Expect"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, rt)
			if _, err := c.Write([]byte(tt.req)); err != nil {
				t.Fatal(err)
			}
			wantJoinedError(t, c, tt.status, tt.message)
		})
	}

	// On a kept-alive connection, after a normal response, the next bad request
	// is rewritten too; the normal response is untouched.
	c := dial(t, rt)
	fmt.Fprint(c, "GET /healthz HTTP/1.1\r\nHost: router\r\n\r\n")
	resp, b := readResponse(t, c)
	if resp.StatusCode != 200 || string(b) != `{"status":"ok"}` {
		t.Fatalf("healthz: %d %s", resp.StatusCode, b)
	}
	fmt.Fprint(c, "GET /healthz HTTP/1.1\r\nHost: router\r\nX-Big: "+strings.Repeat("a", 100<<10)+"\r\n\r\n")
	wantJoinedError(t, c, 431, "Request Header Fields Too Large")
}

func dial(t *testing.T, rt *router) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", rt.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(30 * time.Second)) // a hung server fails the test instead of the run
	return c
}

// wantJoinedError reads one response from c: status, a JSON body that is a valid
// OpenAI and Anthropic error envelope, and a message containing message.
func wantJoinedError(t *testing.T, c net.Conn, status int, message string) {
	t.Helper()
	resp, b := readResponse(t, c)
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d: %s", resp.StatusCode, status, b)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json: %s", ct, b)
	}
	if resp.ContentLength != int64(len(b)) {
		t.Errorf("Content-Length %d for a body of %d bytes", resp.ContentLength, len(b))
	}
	var e joinedEnvelope
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("body is not JSON: %v: %s", err, b)
	}
	if e.Type != "error" || e.Error.Type != "invalid_request_error" || !strings.Contains(e.Error.Message, message) {
		t.Errorf("body %s: want type error, error.type invalid_request_error, a message with %q", b, message)
	}
	if !strings.Contains(string(b), `"param":null`) || !strings.Contains(string(b), `"code":null`) {
		t.Errorf("body %s lacks OpenAI's param and code", b)
	}
	if !resp.Close {
		t.Errorf("connection not closed after a request net/http could not parse")
	}
}
