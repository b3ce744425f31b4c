package gateway_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests when a goroutine outlives them: every
// stream, attempt and timer the gateway starts ends with its request.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// idle keep-alive connections of the test clients' transports (the SDKs'
		// and http.DefaultClient) outlive a test until closed; nothing else may
		goleak.IgnoreAnyFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreAnyFunction("net/http.(*persistConn).writeLoop"),
	)
}
