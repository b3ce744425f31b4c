package gateway

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/llmrouter/llmrouter/internal/anthropic"
	"github.com/llmrouter/llmrouter/internal/config"
	"github.com/llmrouter/llmrouter/internal/ollama"
	"github.com/llmrouter/llmrouter/internal/openai"
	"github.com/llmrouter/llmrouter/internal/redact"
	"github.com/llmrouter/llmrouter/internal/translate"
	"github.com/llmrouter/llmrouter/internal/wire"
	"github.com/tidwall/sjson"
)

type kind int

const (
	kindGenerate    kind = iota // chat, completions, messages
	kindCountTokens             // Anthropic's /v1/messages/count_tokens
)

// exchange is one client request on its way upstream: everything the attempts
// share. body is built once, so every attempt sends identical bytes.
type exchange struct {
	client     wire.Protocol
	up         wire.Protocol
	t          *target
	stream     bool
	body       []byte
	url        string
	header     http.Header
	tr         translate.Translator // nil: same protocol, bytes pass through
	creds      []string             // credentials sent upstream, scrubbed from relayed errors
	allSecrets []string             // g.secrets and creds, built once by secrets
}

// secrets lists every key that must never reach the client: the configured ones
// and every credential this request carries (x.creds).
func (x *exchange) secrets(g *Gateway) []string {
	if len(x.creds) == 0 {
		return g.secrets
	}
	if x.allSecrets == nil { // once per request: every relayed response asks
		x.allSecrets = append(append([]string(nil), g.secrets...), x.creds...)
	}
	return x.allSecrets
}

// proxy returns the handler of one inbound endpoint.
func (g *Gateway) proxy(p wire.Protocol, k kind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rec := recordOf(r.Context())
		body, aerr := g.readRequest(r, rec)
		if aerr != nil { // the body is not all read: the deadline stays, the connection closes
			rec.errMsg = aerr.Error()
			refuse(w, p, aerr)
			return
		}
		clearBodyDeadline(w)
		x, aerr := g.prepare(r, body, p, k, rec)
		if aerr != nil {
			rec.errMsg = aerr.Error()
			writeError(w, p, aerr)
			return
		}
		if len(rec.dropped) > 0 {
			w.Header().Set("X-Llmrouter-Dropped", droppedHeader(rec.dropped))
		}
		g.run(w, r, x, rec)
	}
}

// maxDroppedHeader bounds X-Llmrouter-Dropped, well under the 16 KiB Node's
// HTTP parser accepts for all response headers together; the access log keeps
// the full list.
const maxDroppedHeader = 4 << 10

// droppedHeader joins the dropped paths for X-Llmrouter-Dropped; past
// maxDroppedHeader it keeps what fits and ends with "+N more".
func droppedHeader(dropped []string) string {
	if joined := strings.Join(dropped, ","); len(joined) <= maxDroppedHeader {
		return joined
	}
	var b strings.Builder
	k := 0
	for ; k < len(dropped) && b.Len()+1+len(dropped[k]) <= maxDroppedHeader-len(",+9999999999 more"); k++ {
		if k > 0 {
			b.WriteByte(',')
		}
		b.WriteString(dropped[k])
	}
	if k > 0 {
		b.WriteByte(',')
	}
	fmt.Fprintf(&b, "+%d more", len(dropped)-k)
	return b.String()
}

// Prepared is the upstream request a client request causes (llmrouter explain).
type Prepared struct {
	URL     string
	Header  http.Header
	Body    []byte
	Dropped []string
	Secrets []string // the credentials in Header, for masking when printed
}

// Explain builds the upstream request for a client request without sending it.
func (g *Gateway) Explain(r *http.Request, p wire.Protocol) (*Prepared, error) {
	rec := &record{}
	k := kindGenerate
	if strings.HasSuffix(r.URL.Path, "/count_tokens") {
		k = kindCountTokens
	}
	body, aerr := g.readRequest(r, rec)
	if aerr != nil {
		return nil, aerr
	}
	x, aerr := g.prepare(r, body, p, k, rec)
	if aerr != nil {
		return nil, aerr
	}
	return &Prepared{URL: x.url, Header: x.header, Body: x.body, Dropped: rec.dropped, Secrets: x.creds}, nil
}

// readRequest reads the client's body, once its credentials are known to the
// record: they are masked in everything logged about this request, from the
// first line on (its body may repeat a key).
func (g *Gateway) readRequest(r *http.Request, rec *record) ([]byte, *apiError) {
	rec.secrets = redact.CredentialValues(r.Header, r.URL.RawQuery)
	return g.readBody(r)
}

// prepare validates the client request (its body already read), routes it, and
// builds the exact upstream request: translated body, policy transforms, headers,
// credential, URL.
func (g *Gateway) prepare(r *http.Request, body []byte, p wire.Protocol, k kind, rec *record) (*exchange, *apiError) {
	g.logRequest(rec, r, body)
	model, stream, aerr := validate(body, p, k)
	if aerr != nil {
		return nil, aerr
	}
	rec.model = model
	i, ok := g.routes.Lookup(model)
	if !ok {
		return nil, &apiError{Status: http.StatusNotFound, Param: "model",
			Message: fmt.Sprintf("model %q is not configured on this router", model)}
	}
	t := &g.targets[i]
	x := &exchange{client: p, t: t, up: wire.Upstream(p, string(t.model.Provider)), stream: stream}
	rec.provider, rec.stream = string(t.model.Provider), x.stream
	if k == kindCountTokens && x.up != wire.AnthropicMessages {
		return nil, errorf(http.StatusBadRequest, "count_tokens is only available for models on anthropic upstreams")
	}
	if aerr := x.buildBody(body, model, rec); aerr != nil {
		return nil, aerr
	}
	x.url = upstreamURL(t.model.Endpoint, x.up, k, r.URL.RawQuery)
	x.buildHeader(r.Header, len(g.cfg.Server.APIKeys) > 0)
	// Scrubbed from relayed errors and the log: the client's credentials and every
	// secret the upstream request carries (its key, secret-named header rule values).
	x.creds = append(rec.secrets, redact.CredentialValues(x.header, "")...)
	rec.secrets = x.creds
	g.logUpstreamHeaders(rec, x.header)
	return x, nil
}

// buildBody translates (or, for the same protocol, only renames the model) and
// applies the model's transforms to the result, in the upstream's format.
func (x *exchange) buildBody(body []byte, model string, rec *record) *apiError {
	m := x.t.model
	upModel := m.UpstreamModel
	if upModel == "" {
		upModel = model
	}
	var err error
	if x.client == x.up {
		if upModel != model {
			body, err = sjson.SetBytes(body, "model", upModel)
		}
	} else {
		x.tr = translate.New(x.client, x.up, translate.Options{Model: upModel, MaxTokens: m.MaxTokens})
		if x.tr == nil {
			return errorf(http.StatusBadRequest, fmt.Sprintf("no translation from %s to %s", x.client, x.up))
		}
		body, err = x.tr.Request(body)
		rec.dropped = x.tr.Dropped()
	}
	if err != nil {
		return requestError(err)
	}
	if m.StrictTranslation && len(rec.dropped) > 0 {
		return &apiError{Status: http.StatusBadRequest, Param: rec.dropped[0], Message: fmt.Sprintf(
			"strict_translation: fields cannot be carried to the %s upstream: %s", m.Provider, strings.Join(rec.dropped, ", "))}
	}
	if x.body, err = x.t.policy.Body(body, x.up); err != nil {
		return &apiError{Status: http.StatusBadRequest, Message: "applying transforms failed", Err: err}
	}
	return nil
}

func requestError(err error) *apiError {
	var re *translate.RequestError
	if errors.As(err, &re) {
		return &apiError{Status: http.StatusBadRequest, Param: re.Param, Message: re.Error()}
	}
	return &apiError{Status: http.StatusBadRequest, Message: "request cannot be translated: " + err.Error()}
}

// buildHeader applies the header rules to the client's end-to-end headers, then
// sets what the router owns: the credential and the content type.
func (x *exchange) buildHeader(in http.Header, routerKeys bool) {
	h := clientHeaders(in)
	x.t.policy.Headers(h)
	m := x.t.model
	h.Set("Content-Type", "application/json")
	switch {
	case m.APIKey != "":
		setCredential(h, m.Provider, m.APIKey.Reveal())
	case !routerKeys:
		x.forwardCredential(h, in)
	}
	if m.Provider == config.ProviderAnthropic {
		anthropic.SetVersion(h)
	}
	x.header = h
}

// forwardCredential passes the client's own key on: unchanged when the client
// speaks the upstream's protocol, else moved into the upstream's header kind.
func (x *exchange) forwardCredential(h, in http.Header) {
	if x.client == x.up {
		copyCredentials(h, in)
		return
	}
	if key, _ := clientCredential(in); key != "" {
		setCredential(h, x.t.model.Provider, key)
	}
}

func upstreamURL(endpoint string, up wire.Protocol, k kind, query string) string {
	path := ""
	switch up {
	case wire.OpenAIChat:
		path = openai.ChatPath
	case wire.OpenAICompletions:
		path = openai.CompletionsPath
	case wire.AnthropicMessages:
		path = anthropic.MessagesPath
		if k == kindCountTokens {
			path = anthropic.CountTokensPath
		}
	case wire.OllamaChat:
		path = ollama.ChatPath
	case wire.OllamaGenerate:
		path = ollama.GeneratePath
	}
	u := strings.TrimRight(endpoint, "/") + path
	if query != "" {
		u += "?" + query
	}
	return u
}
