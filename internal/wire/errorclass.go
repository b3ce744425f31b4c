package wire

// ErrorClass is what an upstream's error says about where else the same request
// could succeed, as its dialect package reads the provider's error type or code:
// the router's fallback chains follow it (see the dialects' ErrorClass methods).
type ErrorClass uint8

// The classes.
const (
	// ErrorOther is any error the class of which the status alone decides: a
	// client error (400, 401, 404…) fails the same way everywhere.
	ErrorOther ErrorClass = iota
	// ErrorRetryable is the upstream's own trouble: overloaded, rate limited, a
	// server error. Another deployment, or a fallback model, may answer.
	ErrorRetryable
	// ErrorContextWindow is a prompt (with its output budget) too long for the
	// model: a model with a larger window may answer.
	ErrorContextWindow
	// ErrorContentPolicy is a refusal by the provider's content policy or filter.
	ErrorContentPolicy
)

var errorClassNames = [...]string{"other", "retryable", "context_window", "content_policy"}

// String returns the class's snake_case name, as logs and headers show it.
func (c ErrorClass) String() string {
	if int(c) < len(errorClassNames) {
		return errorClassNames[c]
	}
	return "unknown"
}

// PromptBound reports whether the class fails the same prompt on every
// deployment of the model alike (a context window too small, a content
// policy): the call moves to the class's fallback chain at once.
func (c ErrorClass) PromptBound() bool {
	return c == ErrorContextWindow || c == ErrorContentPolicy
}

// StatusClass is the class of an HTTP status when the body says nothing more:
// 429 and 5xx (529 included) are ErrorRetryable, anything else ErrorOther.
func StatusClass(status int) ErrorClass {
	if status == 429 || (status >= 500 && status <= 599) {
		return ErrorRetryable
	}
	return ErrorOther
}
