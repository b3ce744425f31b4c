//go:build unix

package main

import (
	"math"
	"syscall"
)

// openFileLimit is the process's open-file limit (RLIMIT_NOFILE), 0 if unknown;
// unlimited reads as MaxInt32.
func openFileLimit() uint64 {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0
	}
	return min(uint64(l.Cur), math.MaxInt32)
}
