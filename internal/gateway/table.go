package gateway

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/llmrouter/llmrouter/internal/anthropic"
	"github.com/llmrouter/llmrouter/internal/config"
	"github.com/llmrouter/llmrouter/internal/logging"
	"github.com/llmrouter/llmrouter/internal/metrics"
	"github.com/llmrouter/llmrouter/internal/ollama"
	"github.com/llmrouter/llmrouter/internal/openai"
	"github.com/llmrouter/llmrouter/internal/policy"
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
}

// providers maps a provider and a client's protocol to the protocol the provider
// is called with: the client's own where the provider speaks it (the bytes pass
// through), else one a translator reaches.
var providers = map[config.Provider]map[wire.Protocol]wire.Protocol{
	config.ProviderOpenAI: {
		wire.OpenAIChat:        wire.OpenAIChat,
		wire.OpenAICompletions: wire.OpenAICompletions,
		wire.AnthropicMessages: wire.OpenAIChat,
	},
	config.ProviderAnthropic: {
		wire.OpenAIChat:        wire.AnthropicMessages,
		wire.OpenAICompletions: wire.AnthropicMessages,
		wire.AnthropicMessages: wire.AnthropicMessages,
	},
	config.ProviderOllama: {
		wire.OpenAIChat:        wire.OllamaChat,
		wire.OpenAICompletions: wire.OllamaGenerate,
		wire.AnthropicMessages: wire.OllamaChat,
	},
}

// endpoints are the API endpoints, in the order requests no endpoint takes are
// matched against them (see clientOf): the first one's protocol answers what no
// protocol claims.
var endpoints = []endpoint{
	{path: "/v1/chat/completions", proto: wire.OpenAIChat, op: wire.Generate, api: metrics.APIChat},
	{path: "/v1/completions", proto: wire.OpenAICompletions, op: wire.Generate, api: metrics.APICompletions},
	{path: "/v1/messages", proto: wire.AnthropicMessages, op: wire.Generate, api: metrics.APIMessages},
	{path: "/v1/messages/count_tokens", proto: wire.AnthropicMessages, op: wire.CountTokens, api: metrics.APICountTokens},
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
	lister          // models.go: GET /v1/models, and whose request is whose
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
	path   string
	proto  wire.Protocol
	op     wire.Operation
	api    metrics.API   // the client API in metrics and traces; one per endpoint
	client clientDialect // dialects[proto].client, filled by New
	// servedBy names the providers whose upstreams serve op, for the error of a
	// model on another provider ("count_tokens is only available for ...").
	servedBy string
}

// table is the gateway's copy of the three tables above (a test may change it).
type table struct {
	dialects  map[wire.Protocol]dialect
	providers map[config.Provider]map[wire.Protocol]wire.Protocol
	endpoints []endpoint
}

func defaultTable() table {
	return table{dialects: dialects, providers: providers, endpoints: endpoints}
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
		if other, dup := apis[e.api]; dup { // a row that left api out says it is chat
			return nil, fmt.Errorf("%w: endpoints %s and %s have one metrics API (%s)", errTable, other, e.path, e.api)
		}
		apis[e.api] = e.path
		d := t.dialects[e.proto]
		if d.client == nil {
			return nil, fmt.Errorf("%w: %s (endpoint %s) has no client row", errTable, e.proto, e.path)
		}
		e.client = d.client
		var served []string
		for _, p := range config.Providers {
			up, err := t.upstream(p, e.proto)
			if err != nil {
				return nil, err
			}
			if _, ok := up.dialect.Path(e.op, "", false); ok {
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

// upstream looks up the upstream protocol of provider p for client protocol c.
func (t table) upstream(p config.Provider, c wire.Protocol) (upstreamOf, error) {
	proto, ok := t.providers[p][c]
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
