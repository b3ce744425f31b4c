package main

import (
	"os"
	"testing"
)

// TestMain lets the test binary stand in for llmbench when a run re-executes
// itself as the reference or the floor proxy (os.Executable is the test binary
// here).
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == referenceCommand {
		os.Exit(serveReference(os.Args[2:], os.Stderr))
	}
	if len(os.Args) > 1 && os.Args[1] == floorCommand {
		os.Exit(serveFloor(os.Args[2:], os.Stderr))
	}
	os.Exit(m.Run())
}
