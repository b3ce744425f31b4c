package redistest

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// ping sends PING (after AUTH when a password is given) over a raw connection and returns the
// reply lines, so this package's test needs no client library.
func ping(t *testing.T, addr, password string) []string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dialing %s: %v", addr, err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	var cmds []string
	if password != "" {
		cmds = append(cmds, fmt.Sprintf("*2\r\n$4\r\nAUTH\r\n$%d\r\n%s\r\n", len(password), password))
	}
	cmds = append(cmds, "*1\r\n$4\r\nPING\r\n")
	if _, err := c.Write([]byte(strings.Join(cmds, ""))); err != nil {
		t.Fatalf("writing: %v", err)
	}
	r := bufio.NewReader(c)
	var replies []string
	for range cmds {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("reading: %v", err)
		}
		replies = append(replies, strings.TrimSpace(line))
	}
	return replies
}

func TestStartAnswersAndStopRefuses(t *testing.T) {
	s := Start(t)
	if got := ping(t, s.Addr, ""); got[0] != "+PONG" {
		t.Fatalf("PING answered %q, want +PONG", got)
	}
	s.Stop()
	if c, err := net.DialTimeout("tcp", s.Addr, 5*time.Second); err == nil {
		c.Close()
		t.Fatalf("%s still accepts connections after Stop", s.Addr)
	}
	s.Restart()
	if got := ping(t, s.Addr, ""); got[0] != "+PONG" {
		t.Fatalf("PING after Restart answered %q, want +PONG", got)
	}
}

func TestPasswordIsRequired(t *testing.T) {
	s := Start(t, WithPassword("redistest-secret"))
	if got := ping(t, s.Addr, ""); !strings.HasPrefix(got[0], "-NOAUTH") {
		t.Fatalf("PING without AUTH answered %q, want -NOAUTH", got)
	}
	if got := ping(t, s.Addr, "redistest-secret"); got[0] != "+OK" || got[1] != "+PONG" {
		t.Fatalf("AUTH, PING answered %q, want +OK, +PONG", got)
	}
	if want := "redis://:redistest-secret@" + s.Addr + "/0"; s.URL() != want {
		t.Fatalf("URL() = %q, want %q", s.URL(), want)
	}
}
