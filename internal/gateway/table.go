package gateway

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/llmrouter/llmrouter/internal/anthropic"
	"github.com/llmrouter/llmrouter/internal/config"
	"github.com/llmrouter/llmrouter/internal/logging"
	"github.com/llmrouter/llmrouter/internal/metrics"
	"github.com/llmrouter/llmrouter/internal/ollama"
	"github.com/llmrouter/llmrouter/internal/openai"
	"github.com/llmrouter/llmrouter/internal/policy"
	"github.com/llmrouter/llmrouter/internal/responses"
	"github.com/llmrouter/llmrouter/internal/wire"
)

// Everything the gateway knows of a protocol comes from its dialect package,
// reached through the rows below: the gateway, policy and logging ask a row's
// values the questions of the small interfaces they declare, and no code path
// names a protocol. A new client API or upstream dialect is a row in dialects (and
// endpoints or providers); a row left out stops New, never falls back to another
// protocol's rules. ARCHITECTURE.md has the checklist.

// dialects is the one table of protocols: each one's facts as a client's
// protocol and as an upstream's. A nil role is one the protocol never plays (no
// client speaks Ollama's native API).
var dialects = map[wire.Protocol]dialect{
	wire.OpenAIChat:        {client: openai.Chat, upstream: openai.Chat},
	wire.OpenAICompletions: {client: openai.Completions, upstream: openai.Completions, generates: metrics.OpTextCompletion},
	wire.AnthropicMessages: {client: anthropic.Messages, upstream: anthropic.Messages},
	wire.OllamaChat:        {upstream: ollama.Chat},
	wire.OllamaGenerate:    {upstream: ollama.Generate, generates: metrics.OpTextCompletion},
	wire.OpenAIResponses:   {client: responses.Responses, upstream: responses.Responses},
}

// providers maps a provider and a client's protocol to the protocol the provider
// is called with: the client's own where the provider speaks it (the bytes pass
// through), else one a translator reaches. An openai model says which of
// OpenAI's APIs its endpoint serves (apis): a client API it serves passes
// through, any other is translated to the first listed.
var providers = map[config.Provider]upstreamRule{
	config.ProviderOpenAI: byAPIs{},
	config.ProviderAnthropic: fixed{
		wire.OpenAIChat:        wire.AnthropicMessages,
		wire.OpenAICompletions: wire.AnthropicMessages,
		wire.AnthropicMessages: wire.AnthropicMessages,
		wire.OpenAIResponses:   wire.AnthropicMessages,
	},
	config.ProviderOllama: fixed{
		wire.OpenAIChat:        wire.OllamaChat,
		wire.OpenAICompletions: wire.OllamaGenerate,
		wire.AnthropicMessages: wire.OllamaChat,
		wire.OpenAIResponses:   wire.OllamaChat,
	},
}

// endpoints are the API endpoints, in the order requests no endpoint takes are
// matched against them (see clientOf): the first one's protocol answers what no
// protocol claims. A path with a wildcard ({id}) hands what follows its fixed
// part to the upstream, after the operation's path.
var endpoints = []endpoint{
	{path: "/v1/chat/completions", proto: wire.OpenAIChat, op: wire.Generate, api: metrics.APIChat},
	{path: "/v1/completions", proto: wire.OpenAICompletions, op: wire.Generate, api: metrics.APICompletions},
	{path: "/v1/messages", proto: wire.AnthropicMessages, op: wire.Generate, api: metrics.APIMessages},
	{path: "/v1/messages/count_tokens", proto: wire.AnthropicMessages, op: wire.CountTokens, api: metrics.APICountTokens},
	{path: "/v1/responses", proto: wire.OpenAIResponses, op: wire.Generate, api: metrics.APIResponses},
	{path: "/v1/responses/input_tokens", proto: wire.OpenAIResponses, op: wire.CountTokens, own: true, api: metrics.APIResponsesInputTokens},
	{method: http.MethodGet, path: "/v1/responses/{id}", proto: wire.OpenAIResponses, op: wire.Stored, own: true, api: metrics.APIResponsesStored},
	{method: http.MethodDelete, path: "/v1/responses/{id}", proto: wire.OpenAIResponses, op: wire.Stored, own: true, api: metrics.APIResponsesStored},
	{path: "/v1/responses/{id}/cancel", proto: wire.OpenAIResponses, op: wire.Stored, own: true, api: metrics.APIResponsesStored},
	{method: http.MethodGet, path: "/v1/responses/{id}/input_items", proto: wire.OpenAIResponses, op: wire.Stored, own: true, api: metrics.APIResponsesStored},
}

// upstreamRule says which protocol a provider is called with for a client's
// protocol, for one of its models (nil: the provider's default).
type upstreamRule interface {
	upstreamFor(client wire.Protocol, m *config.Model) (wire.Protocol, bool)
}

// fixed is a provider that speaks the same protocols for every model.
type fixed map[wire.Protocol]wire.Protocol

func (f fixed) upstreamFor(client wire.Protocol, _ *config.Model) (wire.Protocol, bool) {
	p, ok := f[client]
	return p, ok
}

// byAPIs is a provider whose models list the APIs their endpoints serve
// (config.Model.APIs, resolved by wire.OpenAIUpstream; none: all of them).
type byAPIs struct{}

func (byAPIs) upstreamFor(client wire.Protocol, m *config.Model) (wire.Protocol, bool) {
	var apis []string
	if m != nil {
		apis = m.APIs
	}
	p := wire.OpenAIUpstream(client, apis)
	return p, p != 0
}

// moreEndpoints are the endpoints of the other operations (issue 9), matched
// after those above. An embeddings client speaks OpenAI's API; the providers
// rows of OpenAI Chat say where it goes, and whether its upstream serves
// embeddings is the upstream dialect's Path (Anthropic has none: a 400).
var moreEndpoints = []endpoint{
	{path: "/v1/embeddings", proto: wire.OpenAIChat, op: wire.Embed, api: metrics.APIEmbeddings},
}

// dialect is one row of the table: a protocol's facts, by role.
type dialect struct {
	client   clientDialect
	upstream upstreamDialect
	// generates is the GenAI operation an upstream called with this protocol
	// performs when asked for an answer (gen_ai.operation.name of its attempts):
	// chat unless set.
	generates metrics.Operation
}

// clientDialect is what the gateway needs of the protocol a client speaks.
type clientDialect interface {
	envelope        // errors.go: the error envelope, and which error types it keeps
	requestShape    // intake.go: the member a request must carry
	lister          // models.go: GET /v1/models[/{id}], and whose request is whose
	headerOwner     // headers.go: the protocol's own headers, for its own upstreams
	thinkAsker      // capability.go: the members asking for thinking, listed when relaxed
	logging.Dialect // the stream transcript of the response-body log
}

// upstreamDialect is what the gateway needs of the protocol an upstream is
// called with.
type upstreamDialect interface {
	caller         // call.go: the path, the credential
	policy.Dialect // transforms: where a request keeps its texts
	answerReader   // deliver.go, errors.go: answers and error bodies
	eventReader    // commit.go: what a raw stream event is
	metered        // usage.go: the answer's token usage
	answered       // observe.go: the model that answered and why it stopped, for traces
}

// endpoint is one API endpoint: the protocol its clients speak and what they ask.
type endpoint struct {
	method string // "" is POST
	path   string // a ServeMux pattern
	proto  wire.Protocol
	op     wire.Operation
	api    metrics.API // the client API in metrics and traces; one per endpoint
	// own: only an upstream of the client's protocol answers (a call on a
	// stored response, a token count only the API itself makes); a model
	// routed to a translated upstream gets a 400 (stored.go).
	own    bool
	client clientDialect // dialects[proto].client, filled by New
	// base is the path before its first wildcard; the rest of a request's path
	// follows the operation's upstream path. Filled by New.
	base string
	// servedBy names the providers whose upstreams serve op, for the error of a
	// model on another provider ("count_tokens is only available for ...").
	servedBy string
}

// table is the gateway's copy of the three tables above (a test may change it).
type table struct {
	dialects  map[wire.Protocol]dialect
	providers map[config.Provider]upstreamRule
	endpoints []endpoint
}

func defaultTable() table {
	return table{dialects: dialects, providers: providers, endpoints: slices.Concat(endpoints, moreEndpoints)}
}

// errTable is wrapped by the error of a table with a row missing.
var errTable = errors.New("protocol table")

// compile checks that every protocol in use has the row it needs, and returns the
// endpoints with their client dialects: every endpoint's protocol must have a
// client row, every provider an upstream protocol for it, and that protocol an
// upstream row. Nothing is inferred for a row left out.
func (t table) compile() ([]endpoint, error) {
	if len(t.endpoints) == 0 {
		return nil, fmt.Errorf("%w: no endpoints", errTable)
	}
	eps := make([]endpoint, len(t.endpoints))
	apis := map[metrics.API]string{}
	for i, e := range t.endpoints {
		// A row that left api out says it is chat; the calls on a stored
		// response share one.
		if other, dup := apis[e.api]; dup && e.op != wire.Stored {
			return nil, fmt.Errorf("%w: endpoints %s and %s have one metrics API (%s)", errTable, other, e.path, e.api)
		}
		apis[e.api] = e.path
		d := t.dialects[e.proto]
		if d.client == nil {
			return nil, fmt.Errorf("%w: %s (endpoint %s) has no client row", errTable, e.proto, e.path)
		}
		e.client = d.client
		if i := strings.Index(e.path, "/{"); i >= 0 {
			e.base = e.path[:i]
		}
		var served []string
		for _, p := range config.Providers {
			up, err := t.upstream(p, e.proto, nil)
			if err != nil {
				return nil, err
			}
			if _, ok := up.dialect.Path(e.op, "", false); ok && (!e.own || up.proto == e.proto) {
				served = append(served, string(p))
			}
		}
		e.servedBy = strings.Join(served, " or ")
		eps[i] = e
	}
	return eps, nil
}

// upstreamOf is the protocol a provider is called with for a client protocol,
// and its dialect.
type upstreamOf struct {
	proto     wire.Protocol
	dialect   upstreamDialect
	generates metrics.Operation // dialects[proto].generates
}

// upstream looks up the upstream protocol of provider p for client protocol c,
// for model m (nil: the provider's default).
func (t table) upstream(p config.Provider, c wire.Protocol, m *config.Model) (upstreamOf, error) {
	rule, ok := t.providers[p]
	if !ok {
		return upstreamOf{}, fmt.Errorf("%w: provider %s has no row", errTable, p)
	}
	proto, ok := rule.upstreamFor(c, m)
	if !ok {
		return upstreamOf{}, fmt.Errorf("%w: provider %s has no upstream protocol for %s clients", errTable, p, c)
	}
	d := t.dialects[proto].upstream
	if d == nil {
		return upstreamOf{}, fmt.Errorf("%w: %s (provider %s) has no upstream row", errTable, proto, p)
	}
	return upstreamOf{proto: proto, dialect: d, generates: t.dialects[proto].generates}, nil
}

// clientOf guesses the protocol of a request no endpoint took, for the envelope
// of its error: the one its headers claim (anthropic-version), else the one of
// the endpoint its path is under (/v1/messages/batches), else the first
// endpoint's (OpenAI's envelope, which most clients read).
func (g *Gateway) clientOf(h http.Header, path string) clientDialect {
	for _, e := range g.endpoints {
		if e.client.Claims(h) {
			return e.client
		}
	}
	for _, e := range g.endpoints {
		if path == e.path || strings.HasPrefix(path, e.path+"/") {
			return e.client
		}
	}
	return g.endpoints[0].client
}
