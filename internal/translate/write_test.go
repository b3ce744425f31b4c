package translate

import (
	"testing"
	"time"
)

// An answer's id starts with the prefix of the client's protocol (issue 9 item 8),
// and keeps the upstream id's own part, so that it is stable across a stream and
// can be traced to the upstream's.
func TestAnswerIDTakesTheClientsPrefix(t *testing.T) {
	e := env{now: time.Now, newID: func(prefix string) string { return prefix + "new" }}
	tests := []struct {
		upstream, prefix, want string
	}{
		{"chatcmpl-86", "msg_", "msg_86"}, // Ollama's /v1 to an Anthropic client
		{"chatcmpl-DuLdCoxuLDs8HRMlOuz0Bi4wgi4XJ", "msg_", "msg_DuLdCoxuLDs8HRMlOuz0Bi4wgi4XJ"},
		{"msg_01KrnBffuzxt8ttHq7iiZe7n", "chatcmpl-", "chatcmpl-01KrnBffuzxt8ttHq7iiZe7n"},
		{"msg_01KrnBffuzxt8ttHq7iiZe7n", "cmpl-", "cmpl-01KrnBffuzxt8ttHq7iiZe7n"},
		{"cmpl-7", "chatcmpl-", "chatcmpl-7"},
		{"chatcmpl-7", "cmpl-", "cmpl-7"}, // chatcmpl- is not read as "chat" + cmpl-
		{"resp_68af", "msg_", "msg_68af"},
		{"msg_1", "msg_", "msg_1"},                                                                             // already the client's
		{"930c60df-bf64-41c9-a88e-3ec75f81e00e", "chatcmpl-", "chatcmpl-930c60df-bf64-41c9-a88e-3ec75f81e00e"}, // no known prefix
		{"", "msg_", "msg_new"},
		{"chatcmpl-", "msg_", "msg_new"}, // a prefix and nothing else
	}
	for _, tt := range tests {
		if got := e.answerID(tt.upstream, tt.prefix); got != tt.want {
			t.Errorf("answerID(%q, %q) = %q, want %q", tt.upstream, tt.prefix, got, tt.want)
		}
	}
}
