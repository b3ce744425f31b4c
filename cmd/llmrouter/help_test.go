package main

import (
	"bytes"
	"strings"
	"testing"
)

// llmrouter -h lists the commands (it used to print serve's flags under "Usage of
// serve"); each command's -h prints its own line and flags, and succeeds.
func TestHelpListsCommandsAndEachCommandsFlags(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"--help"}, {"help"}} {
		var stdout, stderr bytes.Buffer
		if code := run(args, nil, &stdout, &stderr); code != 0 {
			t.Errorf("llmrouter %s: exit %d, want 0", args[0], code)
		}
		for _, cmd := range []string{"serve", "check", "explain", "version"} {
			if !strings.Contains(stdout.String(), cmd) {
				t.Errorf("llmrouter %s does not list %s:\n%s", args[0], cmd, stdout.String())
			}
		}
		if strings.Contains(stdout.String()+stderr.String(), "Usage of") {
			t.Errorf("llmrouter %s prints a flag set's default usage:\n%s%s", args[0], stdout.String(), stderr.String())
		}
	}
	for _, tc := range []struct {
		cmd   string
		flags []string
	}{
		{"serve", []string{"-config"}},
		{"check", []string{"-config"}},
		{"explain", []string{"-config", "-endpoint", "-H"}},
	} {
		var stdout, stderr bytes.Buffer
		if code := run([]string{tc.cmd, "-h"}, nil, &stdout, &stderr); code != 0 {
			t.Errorf("llmrouter %s -h: exit %d, want 0", tc.cmd, code)
		}
		out := stderr.String()
		if !strings.Contains(out, "llmrouter "+tc.cmd) && !strings.Contains(out, "["+tc.cmd+"]") {
			t.Errorf("llmrouter %s -h does not show its usage line:\n%s", tc.cmd, out)
		}
		for _, f := range tc.flags {
			if !strings.Contains(out, "  "+f+" ") {
				t.Errorf("llmrouter %s -h does not list %s:\n%s", tc.cmd, f, out)
			}
		}
		for _, other := range []string{"version", "print the version"} {
			if strings.Contains(out, other) {
				t.Errorf("llmrouter %s -h shows another command (%q):\n%s", tc.cmd, other, out)
			}
		}
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"check", "-nosuchflag"}, nil, &stdout, &stderr); code != 2 {
		t.Errorf("llmrouter check -nosuchflag: exit %d, want 2", code)
	}
}
