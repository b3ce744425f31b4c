package gateway

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/llmrouter/llmrouter/internal/anthropic"
	"github.com/llmrouter/llmrouter/internal/config"
	"github.com/llmrouter/llmrouter/internal/logging"
	"github.com/llmrouter/llmrouter/internal/ollama"
	"github.com/llmrouter/llmrouter/internal/openai"
	"github.com/llmrouter/llmrouter/internal/translate"
	"github.com/llmrouter/llmrouter/internal/wire"
	"github.com/tidwall/gjson"
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
		x, aerr := g.prepare(r, p, k, rec)
		if aerr != nil {
			rec.errMsg = aerr.Error()
			writeError(w, p, aerr)
			return
		}
		if len(rec.dropped) > 0 {
			w.Header().Set("X-Llmrouter-Dropped", strings.Join(rec.dropped, ","))
		}
		g.run(w, r, x, rec)
	}
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
	x, aerr := g.prepare(r, p, k, rec)
	if aerr != nil {
		return nil, aerr
	}
	return &Prepared{URL: x.url, Header: x.header, Body: x.body, Dropped: rec.dropped, Secrets: x.creds}, nil
}

// prepare reads and validates the client request, routes it, and builds the exact
// upstream request: translated body, policy transforms, headers, credential, URL.
func (g *Gateway) prepare(r *http.Request, p wire.Protocol, k kind, rec *record) (*exchange, *apiError) {
	// What the client sent as credentials is masked in everything logged about
	// this request, from the first line on (its body may repeat a key).
	rec.secrets = logging.CredentialValues(r.Header, r.URL.RawQuery)
	body, aerr := g.readBody(r)
	if aerr != nil {
		return nil, aerr
	}
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
	x := &exchange{client: p, t: t, up: wire.Upstream(p, t.model.Provider), stream: stream}
	rec.provider, rec.stream = t.model.Provider, x.stream
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
	x.creds = append(rec.secrets, logging.CredentialValues(x.header, "")...)
	rec.secrets = x.creds
	g.logUpstreamHeaders(rec, x.header)
	return x, nil
}

func (g *Gateway) readBody(r *http.Request) ([]byte, *apiError) {
	limit := g.cfg.Server.MaxRequestBytes
	rd := http.MaxBytesReader(nil, r.Body, limit)
	var buf bytes.Buffer
	if n := r.ContentLength; n > 0 && n <= limit {
		buf.Grow(int(n) + bytes.MinRead) // one allocation: ReadFrom wants MinRead spare to read EOF
	}
	_, err := buf.ReadFrom(rd)
	body := buf.Bytes()
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errorf(http.StatusRequestEntityTooLarge,
				fmt.Sprintf("request body exceeds %d bytes", g.cfg.Server.MaxRequestBytes))
		}
		return nil, &apiError{Status: http.StatusBadRequest, Message: "reading request body failed", Err: err}
	}
	return body, nil
}

// validate checks the body is a JSON object with a model and the protocol's
// required content field, and returns the model and whether it asks for a stream.
func validate(body []byte, p wire.Protocol, k kind) (model string, stream bool, aerr *apiError) {
	if !nestingWithin(body, maxNesting) {
		return "", false, errorf(http.StatusBadRequest, fmt.Sprintf("request body nests deeper than %d levels", maxNesting))
	}
	if first := bytes.TrimLeft(body, " \t\r\n"); len(first) == 0 || first[0] != '{' || !gjson.ValidBytes(body) {
		return "", false, errorf(http.StatusBadRequest, "request body is not a valid JSON object")
	}
	field := "messages"
	if p == wire.OpenAICompletions {
		field = "prompt"
	}
	r := gjson.GetManyBytes(body, "model", field, "stream")
	if m := r[0]; m.Type != gjson.String || m.Str == "" {
		return "", false, &apiError{Status: http.StatusBadRequest, Param: "model", Message: "missing required field: model"}
	}
	if v := r[1]; !v.Exists() || v.Type == gjson.Null {
		return "", false, &apiError{Status: http.StatusBadRequest, Param: field, Message: "missing required field: " + field}
	}
	if k == kindGenerate && p == wire.AnthropicMessages && !r[1].IsArray() {
		return "", false, &apiError{Status: http.StatusBadRequest, Param: "messages", Message: "messages must be an array"}
	}
	return r[0].Str, r[2].Bool(), nil
}

// maxNesting bounds how deep a request's arrays and objects may nest. gjson's
// validator recurses once per level: unbounded, a body of a few MB of `[` would
// exhaust the goroutine stack, which is fatal to the process, not a panic.
const maxNesting = 512

// nestingWithin reports whether the arrays and objects of b nest at most max deep,
// ignoring brackets inside strings. One pass, no allocation; string contents, most
// of a request, are skipped with IndexByte.
func nestingWithin(b []byte, max int) bool {
	depth := 0
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '"':
			end := stringEnd(b, i+1)
			if end < 0 {
				return true // unterminated: the validator reports it
			}
			i = end
		case '[', '{':
			if depth++; depth > max {
				return false
			}
		case ']', '}':
			depth--
		}
	}
	return true
}

// stringEnd returns the index of the quote closing a JSON string whose contents
// start at i, or -1: a quote preceded by an odd run of backslashes is escaped.
func stringEnd(b []byte, i int) int {
	for {
		q := bytes.IndexByte(b[i:], '"')
		if q < 0 {
			return -1
		}
		q += i
		n := 0
		for k := q - 1; k >= i && b[k] == '\\'; k-- {
			n++
		}
		if n%2 == 0 {
			return q
		}
		i = q + 1
	}
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
