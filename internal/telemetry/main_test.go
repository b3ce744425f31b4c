package telemetry

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if a test leaves a goroutine behind: the batch span
// processor and the exporter must stop on Shutdown.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
