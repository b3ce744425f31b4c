package metrics

// Label names. The gen_ai_* and error_type names are the OpenTelemetry GenAI
// attributes (gen_ai.operation.name, ...) with dots turned into underscores, as the
// OpenTelemetry-to-Prometheus conventions map them; the others are llmrouter's own.
// deployment_id is not "deployment" so that it never collides with the target label
// Kubernetes service discovery often attaches under that name.
const (
	labelOperation  = "gen_ai_operation_name"
	labelProvider   = "gen_ai_provider_name"
	labelModel      = "gen_ai_request_model"
	labelTokenType  = "gen_ai_token_type"
	labelErrorType  = "error_type"
	labelDeployment = "deployment_id"
	labelAPI        = "client_api"
	labelClass      = "status_class"
	labelStream     = "stream"
	labelCause      = "cause"
	labelFallbackTo = "fallback_model"
	labelKey        = "api_key_name"
	labelScope      = "scope"
	labelDecision   = "decision"
	labelResult     = "result"
)

// Fixed label values that stand for "not from the configuration".
const (
	// Other is the value of a model, deployment, provider or key label for any name
	// the active configuration does not list: a client-supplied model nobody
	// configured, a stale id. Every unknown name shares this one series.
	Other = "other"
	// None is the deployment and provider of a request that never reached an
	// upstream (rejected, unknown model, no deployment available).
	None = "none"
	// Unnamed is the key label of a request authenticated with a plain (unnamed) key.
	Unnamed = "unnamed"
)

// API is the client-facing API a request came in on.
type API uint8

// The client APIs. Their label values are the protocol names of the access log.
const (
	APIChat                 API = iota // POST /v1/chat/completions
	APICompletions                     // POST /v1/completions (legacy)
	APIMessages                        // POST /v1/messages (Anthropic)
	APIResponses                       // POST /v1/responses
	APIEmbeddings                      // POST /v1/embeddings
	APICountTokens                     // POST /v1/messages/count_tokens (Anthropic)
	APIResponsesInputTokens            // POST /v1/responses/input_tokens
	APIResponsesStored                 // a call on a stored response: GET, DELETE /v1/responses/{id}, cancel, input_items
	numAPI
)

var apiNames = [numAPI]string{"openai-chat", "openai-completions", "anthropic-messages", "openai-responses",
	"openai-embeddings", "anthropic-count-tokens", "openai-responses-input-tokens", "openai-responses-stored"}

// String returns the client_api label value.
func (a API) String() string { return apiNames[a%numAPI] }

// Operation returns the GenAI operation a client API performs: Chat Completions,
// Anthropic Messages and the Responses API are "chat" (the conventions describe the
// Responses API as a chat operation with openai.api.type=responses); legacy
// Completions are "text_completion", embeddings "embeddings"; counting a prompt's
// tokens, which the conventions do not name, is "count_tokens"; a call on a
// stored response (read, delete, cancel, list its input), which they do not
// name either, "stored_response".
func (a API) Operation() Operation {
	switch a % numAPI {
	case APICompletions:
		return OpTextCompletion
	case APIEmbeddings:
		return OpEmbeddings
	case APICountTokens, APIResponsesInputTokens:
		return OpCountTokens
	case APIResponsesStored:
		return OpStored
	}
	return OpChat
}

// Operation is a gen_ai.operation.name value, spelled as the conventions spell it.
type Operation uint8

// The operations llmrouter performs, client side or upstream side.
const (
	OpChat           Operation = iota // "chat"
	OpTextCompletion                  // "text_completion"
	OpEmbeddings                      // "embeddings"
	OpCountTokens                     // "count_tokens": not a conventions value (none applies)
	OpStored                          // "stored_response": not a conventions value (none applies)
	numOp
)

var opNames = [numOp]string{"chat", "text_completion", "embeddings", "count_tokens", "stored_response"}

// String returns the gen_ai_operation_name label value.
func (o Operation) String() string { return opNames[o%numOp] }

// Cause classifies why something failed: an attempt, a request (its error_type), a
// retry, a fallback or an ejection. The conventions let error.type be "another
// low-cardinality error identifier" and ask instrumentations to document the list:
// this is the list, and nothing else ever becomes a label value.
type Cause uint8

// The causes. CauseNone is success: error_type is then empty, which Prometheus
// shows as the label being absent (the conventions set error.type only on errors).
const (
	CauseNone           Cause = iota // ""
	CauseTimeout                     // "timeout": connect, first-byte, idle or total timeout
	CauseConnection                  // "connection": refused, reset, DNS or TLS failure before a response
	CauseRateLimited                 // "rate_limited": the upstream answered 429
	CauseServerError                 // "server_error": the upstream answered 5xx (529 included)
	CauseClientError                 // "client_error": the upstream answered another 4xx
	CauseContextWindow               // "context_window": the prompt is too long for the model
	CauseContentPolicy               // "content_policy": refused by the provider's content filter
	CauseStream                      // "stream_error": the stream broke or was truncated after the first byte
	CauseCanceled                    // "canceled": the client went away
	CauseUnavailable                 // "unavailable": no deployment left to try (ejected, exhausted)
	CauseLimited                     // "limited": denied by a router limit (rpm, tpm, budget)
	CauseUnauthorized                // "unauthorized": missing or wrong router key, or a model the key may not use
	CauseInvalidRequest              // "invalid_request": the router rejected the request (400, 413, 415)
	CauseNotFound                    // "not_found": no configured model matches
	CauseInternal                    // "internal": a router bug (a recovered panic)
	CauseBadResponse                 // "bad_response": the upstream answered what the router cannot use (a 3xx, not an answer)
	CauseHealthCheck                 // "health_check": an active health check failed (ejections only)
	CauseOther                       // "_OTHER": the conventions' fallback value
	numCause
)

var causeNames = [numCause]string{
	"", "timeout", "connection", "rate_limited", "server_error", "client_error",
	"context_window", "content_policy", "stream_error", "canceled", "unavailable",
	"limited", "unauthorized", "invalid_request", "not_found", "internal",
	"bad_response", "health_check", "_OTHER",
}

// String returns the error_type / cause label value ("" for CauseNone).
func (c Cause) String() string {
	if c >= numCause {
		return causeNames[CauseOther]
	}
	return causeNames[c]
}

func (c Cause) index() Cause {
	if c >= numCause {
		return CauseOther
	}
	return c
}

// Scope is what a limit decision was about.
type Scope uint8

// The limit scopes.
const (
	ScopeNone          Scope = iota // "none": an admitted request passed every limit
	ScopeRPM                        // "rpm": the key's requests per minute
	ScopeTPM                        // "tpm": the key's tokens per minute
	ScopeBudget                     // "budget": the key's token budget for the period
	ScopeModel                      // "model": the key may not use the model
	ScopeDeploymentRPM              // "deployment_rpm": a deployment's requests per minute
	ScopeDeploymentTPM              // "deployment_tpm": a deployment's tokens per minute
	numScope
)

var scopeNames = [numScope]string{"none", "rpm", "tpm", "budget", "model", "deployment_rpm", "deployment_tpm"}

// String returns the scope label value.
func (s Scope) String() string { return scopeNames[s%numScope] }

// The decision label values.
const (
	decisionAdmitted   = "admitted"    // within every limit
	decisionDenied     = "denied"      // over a limit (429) or not allowed (403)
	decisionFailOpen   = "fail_open"   // the limit store failed; admitted by on_store_error
	decisionFailClosed = "fail_closed" // the limit store failed; denied by on_store_error
)

// Token types of llmrouter_tokens_total. input and output are the conventions'
// gen_ai.token.type values; the others are custom values, which the conventions allow.
const (
	tokInput = iota
	tokOutput
	tokCacheRead
	tokCacheWrite
	tokReasoning
	numTok
)

var tokNames = [numTok]string{"input", "output", "cache_read", "cache_write", "reasoning"}

// statusClasses are the status_class values: index status/100, 0 for anything else.
var statusClasses = [6]string{"other", "1xx", "2xx", "3xx", "4xx", "5xx"}

func statusClass(code int) int {
	if c := code / 100; c >= 1 && c <= 5 {
		return c
	}
	return 0
}

func boolIndex(b bool) int {
	if b {
		return 1
	}
	return 0
}

var boolNames = [2]string{"false", "true"}
