package reload

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if a test leaves a goroutine behind (the fsnotify
// reader must stop when Run returns).
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
