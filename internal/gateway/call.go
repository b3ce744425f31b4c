package gateway

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/llmrouter/llmrouter/internal/config"
	"github.com/llmrouter/llmrouter/internal/redact"
	"github.com/llmrouter/llmrouter/internal/translate"
	"github.com/llmrouter/llmrouter/internal/wire"
	"github.com/tidwall/sjson"
)

// call is one client request on its way through the gateway: what was read from
// the client, once, and what every attempt shares. Its methods read and check the
// request and build the upstream request of each target on first use (this
// file), run the attempts (retry.go), and deliver the answer or relay its stream
// (deliver.go, stream.go).
type call struct {
	g   *Gateway
	w   http.ResponseWriter
	r   *http.Request
	rec *record // the access log's record; also holds the request's credentials
	ep  *endpoint

	body   []byte // the client's body as it sent it
	model  string // the model it asked for
	stream bool   // whether it asked for a stream
	start  time.Time
	group  *config.Group // the deployments that serve model
	// noLimitToFit: validate found no member for FitLimit to move (buildBody).
	noLimitToFit bool

	plan plan    // the model being tried and its deployments (plan.go)
	cur  current // the attempt in progress (health.go)

	// first and more are the upstream requests built so far, one per target:
	// every attempt to a target sends its request's bytes.
	first outbound
	more  []*outbound
	// allSecrets is g.secrets and the request's credentials (rec.secrets), built
	// once by secrets; reset when a target adds credentials.
	allSecrets []string
	lim        admission // the limits' reservations (limits.go)
	// relaxations counts the relaxed resends of this request (capability.go).
	relaxations int
	dw          deadlineWriter // the answer's writer (clientWriter, deliver.go)
	inFlight    inFlight       // its entry among the requests in flight, ended by Stop or the total timeout (shutdown.go)
}

// handle returns the handler of one endpoint.
func (g *Gateway) handle(e *endpoint) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		x := exchangeOf(w)
		c := &x.call
		*c = call{g: g, w: w, r: r, rec: &x.rec, ep: e, start: time.Now()}
		if aerr := c.read(); aerr != nil { // the body is not all read: the deadline stays, the connection closes
			c.rec.errMsg = aerr.Error()
			refuse(w, e.client, aerr)
			return
		}
		clearBodyDeadline(w, r)
		if aerr := c.accept(); aerr != nil {
			c.reject(aerr)
			return
		}
		if aerr := c.admit(); aerr != nil { // limits.go: the key may use the model, its limits admit it
			c.reject(aerr)
			return
		}
		defer c.settleLimits() // limits.go: every reservation is charged what the request used
		c.rec.obs.routed(c)    // in flight from here (observe.go)
		if c.answerLocally() { // an operation none of the model's upstreams serves (capability.go)
			return
		}
		c.run()
	}
}

// read reads the client's body, once its credentials are known to the record:
// they are masked in everything logged about this request, from the first line
// on (its body may repeat a key).
func (c *call) read() *apiError {
	c.rec.secrets = redact.AppendCredentialValues(c.rec.secretsArr[:0], c.r.Header, c.r.URL.RawQuery)
	var aerr *apiError
	c.body, aerr = c.g.readBody(c.r)
	return aerr
}

// accept validates the body and routes the request by its model; a request
// that may come without one (a call on a stored response) is routed by
// unnamed (stored.go).
func (c *call) accept() *apiError {
	c.g.logRequest(c.rec, c.r, c.body)
	var aerr *apiError
	if c.ep.onStored() {
		aerr = c.stored()
	} else {
		var req request
		req, aerr = validate(c.body, c.ep.client, c.ep.op, !c.ep.own)
		c.model, c.stream, c.noLimitToFit = req.model, req.stream, req.noLimitToFit
	}
	if aerr != nil {
		return aerr
	}
	if c.stream && !c.ep.op.Streams() {
		return &apiError{Status: http.StatusBadRequest, Param: "stream", Message: fmt.Sprintf("stream: %s answers are never streamed", c.ep.op)}
	}
	if c.model == "" {
		return c.unnamed()
	}
	return c.routeModel()
}

// routeModel finds the deployments of the model the request names.
func (c *call) routeModel() *apiError {
	c.rec.model = c.model
	grp, ok := c.g.lookup(c.model)
	if !ok {
		return unknownModel(c.model, nil)
	}
	c.group = grp.cfg
	c.startPlan(grp)
	return nil
}

// reject answers a request the router refuses before any attempt.
func (c *call) reject(aerr *apiError) {
	c.rec.errMsg = aerr.Error()
	writeError(c.w, c.ep.client, aerr)
}

// secrets lists every key that must never reach the client: the configured ones
// and every credential this request carries or sent upstream.
func (c *call) secrets() []string {
	if len(c.rec.secrets) == 0 {
		return c.g.secrets
	}
	if c.allSecrets == nil { // once per request: every relayed response asks
		c.allSecrets = append(slices.Clip(c.g.secrets), c.rec.secrets...)
	}
	return c.allSecrets
}

// A request is bound to a target lazily, when an attempt is about to go there:
// the client's request was read and checked once (above), and what an upstream
// receives is built here for the target at hand, once per target, so that every
// retry to it sends identical bytes and a move to another target costs only its
// own build.

// caller is what building an upstream request needs of the upstream's protocol.
type caller interface {
	// Path is the upstream path of an operation for a model and streaming; ok is
	// false when the protocol does not serve the operation.
	Path(op wire.Operation, model string, stream bool) (path string, ok bool)
	// SetAuth puts key (when not empty) where the protocol reads a credential, and
	// sets the headers it requires on every request.
	SetAuth(h http.Header, key string)
}

// outbound is the upstream request of one target: URL, headers and body, built
// once; the translator that built the body, when the protocols differ, and the
// options to make another.
type outbound struct {
	t       *target
	model   string // the model name it serves: the client's, or a fallback's
	proto   wire.Protocol
	up      upstreamDialect
	url     string
	keepURL bool // url comes from the configuration and the operation only (urlCache)
	header  http.Header
	body    []byte
	tr      translate.Translator // nil: same protocol, the bytes pass through
	opts    translate.Options
	issued  bool     // tr was given to an attempt
	dropped []string // request fields its translation dropped
}

// bind returns the upstream request of target t for the model being tried,
// built on first use. (A target is reached under two names when a glob model and
// its fallback are served by one deployment.)
func (c *call) bind(t *target) (*outbound, *apiError) {
	model := c.plan.model
	if c.first.t == t && c.first.model == model {
		return &c.first, nil
	}
	for _, o := range c.more {
		if o.t == t && o.model == model {
			return o, nil
		}
	}
	o := &c.first
	if c.first.t != nil {
		o = new(outbound)
	}
	if aerr := c.build(o, t); aerr != nil {
		*o = outbound{}
		return nil, aerr
	}
	if o != &c.first {
		c.more = append(c.more, o)
	}
	return o, nil
}

// build makes the upstream request for t: the body translated (or only its model
// renamed) and transformed, the headers with the credential, the URL.
func (c *call) build(o *outbound, t *target) *apiError {
	up := t.upstreams[c.ep.proto]
	*o = outbound{t: t, model: c.plan.model, proto: up.proto, up: up.dialect}
	upModel := cmp.Or(t.model.UpstreamModel, o.model)
	path, ok := o.up.Path(c.ep.op, upModel, c.stream)
	switch {
	case c.ep.own && o.proto != c.ep.proto:
		return c.notOwn(t.model, o.proto)
	case !ok || !c.serves(t):
		return errorf(http.StatusBadRequest, fmt.Sprintf("%s is only available for models on %s upstreams", c.ep.op, c.ep.servedBy))
	case c.ep.onStored():
		o.body = c.body // a call on a stored response: no request to rename or transform
	default:
		if aerr := c.buildBody(o, upModel); aerr != nil {
			return aerr
		}
	}
	tail := c.tail()
	o.url = strings.TrimRight(t.model.Endpoint, "/") + path + tail
	o.keepURL = tail == ""
	// The query string is the client's API's (Claude Code's ?beta=true): an
	// upstream of another API gets none.
	if q := c.r.URL.RawQuery; q != "" && c.ep.proto == o.proto {
		o.url += "?" + q
		o.keepURL = false
	}
	o.header = c.buildHeader(o)
	// Scrubbed from relayed errors and the log: the client's credentials and every
	// secret the upstream request carries (its key, secret-named header rule values).
	c.rec.secrets = redact.AppendCredentialValues(c.rec.secrets, o.header, "")
	c.allSecrets = nil
	c.g.logUpstreamHeaders(c.rec, o.header)
	return nil
}

// buildBody translates (or, for the same protocol, only renames the model) and
// applies the target's transforms to the result, in the upstream's format.
func (c *call) buildBody(o *outbound, upModel string) *apiError {
	m := o.t.model
	body := c.body
	var err error
	if c.ep.proto == o.proto {
		if upModel != c.model {
			body, err = sjson.SetBytesOptions(body, "model", upModel, renameModel)
		}
		if f, ok := o.up.(limitFitter); ok && err == nil && !c.noLimitToFit {
			body, err = f.FitLimit(body, string(o.t.limitField))
		}
	} else {
		o.opts = translate.Options{Model: upModel, MaxTokens: m.MaxTokens, MaxTokensField: o.t.limitField, Op: c.ep.op}
		if o.tr = translate.New(c.ep.proto, o.proto, o.opts); o.tr == nil {
			return errorf(http.StatusBadRequest, fmt.Sprintf("no translation from %s to %s", c.ep.proto, o.proto))
		}
		body, err = o.tr.Request(body)
		o.dropped = o.tr.Dropped()
	}
	if err != nil {
		return requestError(err)
	}
	if m.StrictTranslation && len(o.dropped) > 0 {
		c.rec.dropped = o.dropped
		return &apiError{Status: http.StatusBadRequest, Param: o.dropped[0], Message: fmt.Sprintf(
			"strict_translation: fields cannot be carried to the %s upstream: %s", m.Provider, strings.Join(o.dropped, ", "))}
	}
	if o.body, err = o.t.policy.Body(body, o.up); err != nil {
		return &apiError{Status: http.StatusBadRequest, Message: "applying transforms failed", Err: err}
	}
	if f, ok := o.tr.(translate.Finisher); ok { // a count of the transformed request (capability.go)
		if o.body, err = f.Finish(o.body); err != nil {
			return requestError(err)
		}
	}
	c.fit(o)
	return nil
}

// renameModel has sjson replace the model's value where gjson finds it, in one
// copy of the body the size of the result, rather than re-walking the body's
// path as it copies it into a growing buffer. The body is never written into.
var renameModel = &sjson.Options{Optimistic: true}

// limitFitter is an upstream protocol whose servers read a client's output limit
// from one of two members (OpenAI Chat: max_tokens or max_completion_tokens).
type limitFitter interface {
	// FitLimit returns a client's request with its limit in field, the member the
	// server reads, when it is in the other; never writing into body. Only a
	// max_completion_tokens is ever moved: a request without one (noLimitToFit)
	// is not given to it.
	FitLimit(body []byte, field string) ([]byte, error)
}

func requestError(err error) *apiError {
	var re *translate.RequestError
	if errors.As(err, &re) {
		e := &apiError{Status: http.StatusBadRequest, Param: re.Param, Message: re.Error()}
		if re.Details != nil { // a nil *ErrorDetails is no details
			e.Details = re.Details
		}
		return e
	}
	return &apiError{Status: http.StatusBadRequest, Message: "request cannot be translated: " + err.Error()}
}

// buildHeader applies the header rules to the client's end-to-end headers (the
// client protocol's own only when the upstream speaks it, see headerOwner), then
// sets what the router owns: the content type and the credential. The target's
// key wins; without one the client's own is forwarded (unless it was a router key):
// as it came to an upstream of the client's protocol (Claude Code's OAuth Bearer
// token must reach Anthropic as Authorization, not x-api-key), else moved into the
// header the upstream's protocol reads.
func (c *call) buildHeader(o *outbound) http.Header {
	in := c.r.Header
	var owner headerOwner // the client protocol's own headers stay with it
	if c.ep.proto != o.proto {
		owner = c.ep.client
	}
	h := clientHeaders(in, owner, o.proto)
	o.t.policy.Headers(h)
	h.Set("Content-Type", "application/json")
	var key string
	switch m := o.t.model; {
	case m.APIKey != "":
		key = m.APIKey.Reveal()
	case len(c.g.cfg.Server.APIKeys) > 0: // the client's key is the router's
	case c.ep.proto == o.proto:
		copyCredentials(h, in)
	default:
		key, _ = clientCredential(in)
	}
	o.up.SetAuth(h, key)
	return h
}

// translator returns the translator of an attempt to o's target: the one that
// built the request, the first time, and then a new one given the same request,
// since an attempt may leave stream state in its translator. The body sent stays
// the one built first.
func (c *call) translator(o *outbound) translate.Translator {
	switch {
	case o.tr == nil:
		return nil
	case !o.issued:
		o.issued = true
		return o.tr
	}
	tr := translate.New(c.ep.proto, o.proto, o.opts)
	if _, err := tr.Request(c.body); err != nil {
		return o.tr // unreachable: the same request was translated before
	}
	return tr
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
