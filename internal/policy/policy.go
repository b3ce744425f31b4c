// Package policy applies a model's header rules and content transforms to the
// request sent upstream, compiled once from the configuration.
package policy

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/llmrouter/llmrouter/internal/config"
	"github.com/llmrouter/llmrouter/internal/wire"
)

// Dialect is what a transform needs of the protocol of the body it rewrites:
// where a request keeps its texts, for regex rules. The dialect packages implement
// it (openai.Chat, anthropic.Messages, ollama.Generate, ...).
type Dialect interface {
	Texts() wire.Texts
}

// ErrInvalidBody is wrapped by Body's error when the request body is not one JSON
// object: the client's fault, a 400. Any error from Body that wraps neither it nor
// ErrTooComplex is a bug in the caller (no protocol).
var ErrInvalidBody = errors.New("request body is not a JSON object")

// ErrTooComplex is wrapped by Body's error when a JSONPath rule would select or
// test more nodes of the body than any real request holds (100,000 at one step of
// its path), or would have to decode a body of more than 200,000 values: the
// client's fault, a 400, refused rather than paid for in memory.
var ErrTooComplex = errors.New("request body is too complex for the configured transforms")

// Policy is a model's compiled header rules and transforms; safe for concurrent use.
// A nil or zero Policy changes nothing.
type Policy struct {
	headers headerRules
	rules   []rule
}

// rule is one compiled transform and the YAML line it came from.
type rule struct {
	line int
	op   any // *regexRule, *dropRule, *setRule or *appendRule
}

// apply runs the rule. A type switch rather than an interface method: through
// an interface, d would escape to the heap on every request.
func (r rule) apply(d *document, proto Dialect) error {
	switch o := r.op.(type) {
	case *regexRule:
		return o.apply(d, proto)
	case *dropRule:
		return o.apply(d)
	case *setRule:
		return o.apply(d)
	case *appendRule:
		return o.apply(d)
	}
	return fmt.Errorf("unknown rule type %T", r.op)
}

// Compile compiles a model's header rules and transforms: regexes, globs, JSONPaths
// and set/append values are parsed and encoded here, once. Errors name the YAML
// line of the offending transform ("transform at line N: ..."); header errors
// start with "headers: " (invalid names, values with line breaks).
func Compile(h config.Headers, ts []config.Transform) (*Policy, error) {
	hr, err := compileHeaders(h)
	if err != nil {
		return nil, fmt.Errorf("headers: %w", err)
	}
	p := &Policy{headers: hr}
	for _, t := range ts {
		r, err := compileTransform(t)
		if err != nil {
			return nil, fmt.Errorf("transform at line %d: %w", t.Line, err)
		}
		p.rules = append(p.rules, r)
	}
	return p, nil
}

func compileTransform(t config.Transform) (rule, error) {
	r := rule{line: t.Line}
	kinds := 0
	var err error
	for _, s := range []string{t.Regex, t.Drop, t.Set, t.Append} {
		if s != "" {
			kinds++
		}
	}
	switch {
	case kinds != 1:
		return r, errors.New("exactly one of regex, drop, set and append must be given")
	case t.Regex != "":
		r.op, err = compileRegex(t.Regex, t.Replace, t.Flags, t.Roles)
	case t.Drop != "":
		r.op, err = compileDrop(t.Drop)
	case t.Set != "":
		r.op, err = compileSet(t.Set, t.Value)
	default:
		r.op, err = compileAppend(t.Append, t.Value)
	}
	return r, err
}

// Headers applies keep_only, then drop, then add, then force to h, the header set
// derived from the client's request, and mutates it.
//
// Names match case-insensitively and `*` globs any run of characters
// (`x-stainless-*`, `anthropic-*`). keep_only, when non-empty, removes every header
// it does not list; add sets a header only when h lacks it; force sets it always,
// replacing every value.
//
// h must hold client headers only: the gateway strips hop-by-hop and credential
// headers before calling Headers, and sets authentication, Content-Type and
// anthropic-version itself afterwards. So keep_only never removes those, and a rule
// cannot forward a client credential the gateway withholds, nor override the
// credential the gateway sends.
func (p *Policy) Headers(h http.Header) {
	if p != nil {
		p.headers.apply(h)
	}
}

// Body applies the transforms in order to body, an upstream request body in
// protocol proto (the upstream's own format: JSONPaths and text locations are
// written for it), and returns the result. A nil proto is an error when a regex
// rule needs to know where the texts are.
//
// body is never modified. With no transform, or when no rule changes anything, Body
// returns body itself (same slice, not re-encoded). Otherwise only the bytes of the
// nodes a rule changes are rewritten: key order, spacing and numbers elsewhere stay
// exactly as the client sent them.
//
// Regex rules rewrite texts only, the JSON strings where proto.Texts() says a
// request keeps them (wire.Texts; each dialect package documents its own):
// messages[].content, a string or (where the protocol has them) its "text" parts or
// blocks, with the message's role; a top-level system (role "system") or prompt
// (role "user"); and the text of Anthropic tool_result blocks, which counts as its
// message's role (user) and also matches roles [tool].
//
// Thinking blocks (their signatures would break), tool calls and their arguments,
// ids, names and images are never touched. A text whose message has no role only
// matches rules without roles.
//
// JSONPath rules (RFC 9535): drop removes every node matched, object members and
// array elements. set replaces every node matched; when the path ends in names
// (`$.temperature`, `$.options.num_ctx`) it also creates them, with any missing
// objects on the way, in every object the path before those names selects. append
// adds to every array matched; a match that is not an array, or no match, changes
// nothing. Values are written as encoding/json writes them (object keys sorted).
//
// A body that is not a JSON object yields an error wrapping ErrInvalidBody.
func (p *Policy) Body(body []byte, proto Dialect) ([]byte, error) {
	if !p.HasTransforms() {
		return body, nil
	}
	if err := checkBody(body); err != nil {
		return nil, err
	}
	d := document{b: body}
	for _, r := range p.rules {
		if err := r.apply(&d, proto); err != nil {
			return nil, fmt.Errorf("transform at line %d: %w", r.line, err)
		}
	}
	return d.b, nil
}

// HasTransforms reports whether Body can change anything.
func (p *Policy) HasTransforms() bool { return p != nil && len(p.rules) > 0 }

// checkBody checks that body is exactly one JSON object, which the byte-level
// scanner relies on.
func checkBody(body []byte) error {
	if !json.Valid(body) {
		return fmt.Errorf("%w: malformed JSON", ErrInvalidBody)
	}
	if c := body[skipSpace(body, 0)]; c != '{' {
		return fmt.Errorf("%w: top-level value starts with %q", ErrInvalidBody, c)
	}
	return nil
}
