package gateway

import (
	"bytes"
	"io"
	"net"
	"testing"
)

// conn rewrites only net/http's own error, written while no handler runs: the
// same bytes written by a handler's response pass untouched.
func TestConnRewritesOnlyOutsideHandlers(t *testing.T) {
	plain := []byte("HTTP/1.1 400 Bad Request: missing required Host header" + plainHeaders + "400 Bad Request: missing required Host header")
	for _, inHandler := range []bool{false, true} {
		server, client := net.Pipe()
		c := &conn{Conn: server, release: func() {}}
		c.handling.Store(inHandler)
		go func() {
			_, _ = c.Write(plain)
			c.Close()
		}()
		got, _ := io.ReadAll(client)
		if rewritten := !bytes.Equal(got, plain); rewritten == inHandler {
			t.Errorf("handler running %v: wrote %q", inHandler, got)
		}
		if !inHandler && !bytes.Contains(got, []byte(`"message":"Bad Request: missing required Host header"`)) {
			t.Errorf("rewritten to %q", got)
		}
	}
}
