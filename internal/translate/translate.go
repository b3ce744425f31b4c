// Package translate converts requests, answers and streams between the wire
// protocols of package wire. Converters are pure: bytes in, bytes out, no I/O.
// One Translator value serves one request and holds its stream state.
//
// Requests are converted per pair of protocols (<client>_<upstream>.go). Answers
// go through a hub (hub.go): one decoder per upstream protocol (decode_*.go) reads
// a body or a stream event into deltas, and one encoder per client protocol
// (encode_*.go) writes them, so a new protocol adds one decoder or one encoder,
// not one converter per pair.
package translate

import (
	"errors"
	"fmt"

	"github.com/llmrouter/llmrouter/internal/anthropic"
	"github.com/llmrouter/llmrouter/internal/openai"
	"github.com/llmrouter/llmrouter/internal/sse"
	"github.com/llmrouter/llmrouter/internal/wire"
)

// Options carry what a converter needs beyond the bodies.
type Options struct {
	// Model is the upstream model name written into the upstream request.
	Model string
	// MaxTokens is used as max_tokens towards Anthropic when the client gave none.
	MaxTokens int
	// MaxTokensField is the request member that carries the client's output
	// token limit to an OpenAI upstream (issue 9 item 2): max_completion_tokens,
	// which OpenAI's reasoning models require and the zero value means, or
	// max_tokens, the only one Ollama's /v1, vLLM and other OpenAI-compatible
	// servers read. openai.LimitFieldFor tells them apart by endpoint.
	MaxTokensField openai.LimitField
	// Op is what the client asks for: its request and answer are converted by the
	// pair's translator for op (the zero value means wire.Generate).
	Op wire.Operation
}

// Translator converts one request between a client protocol and an upstream protocol.
type Translator interface {
	// Request converts the client's request body into the upstream's body. A client
	// error (a field that cannot be expressed upstream at all) is a *RequestError.
	Request(body []byte) ([]byte, error)
	// Dropped lists the JSON paths of client request fields that Request could not
	// carry, e.g. "logit_bias" or "messages[2].content[0].cache_control".
	Dropped() []string
	// Response converts a successful non-streaming upstream body into the client's.
	// A body that is not an answer of the upstream's protocol is a *ShapeError, an
	// error object is a *StreamError.
	Response(body []byte) ([]byte, error)
	// Stream converts one upstream stream event (an SSE event, or an NDJSON line for
	// Ollama) and appends the client's wire bytes (complete SSE events) to dst. An
	// in-band upstream error is returned as a *StreamError after appending nothing;
	// an event that is not one of the upstream's protocol is an error too.
	Stream(dst []byte, ev sse.Event) ([]byte, error)
	// End is called when the upstream body ends, or once Done. It appends the
	// client's closing events, or returns ErrTruncated when the upstream never sent
	// its terminal event.
	End(dst []byte) ([]byte, error)
	// Done reports whether the upstream's terminal event ([DONE], message_stop, an
	// Ollama done:true line) has been converted: the stream is complete, and what
	// the upstream sends after it, if anything, is not part of the answer.
	Done() bool
	// Usage is the request's token usage as far as the upstream has reported it:
	// final after Response, or once Done. It is read from the body or the events
	// that carry it as they are converted, so asking costs nothing.
	Usage() Usage
}

// Usage is a request's token usage in the terms every protocol shares (docs/protocols.md
// §12), ready for metrics and limits.
type Usage struct {
	Input      int64 // every prompt token, read from or written to the cache or not
	Output     int64 // every generated token, reasoning included
	CacheRead  int64 // the part of Input read from the provider's prompt cache
	CacheWrite int64 // the part of Input written to it
	Reasoning  int64 // the part of Output spent reasoning, when reported apart
}

// newUsage takes the results of a protocol usage type's Tokens method:
// newUsage(u.Tokens()).
func newUsage(input, output, cacheRead, cacheWrite, reasoning int64) Usage {
	return Usage{Input: input, Output: output, CacheRead: cacheRead, CacheWrite: cacheWrite, Reasoning: reasoning}
}

// ErrTruncated reports an upstream stream that ended without its terminal event.
var ErrTruncated = errors.New("upstream stream ended before its terminal event")

// RequestError is a client request that cannot be sent upstream: a 400 for the client.
type RequestError struct {
	Param   string // JSON path of the offending field, if any
	Message string
	// Details is the machine-readable cause an Anthropic client branches on, its
	// error's "details" (anthropic.ErrorBodyDetails); nil for none. Only requests
	// of Anthropic clients get them.
	Details *anthropic.ErrorDetails
}

func (e *RequestError) Error() string {
	if e.Param == "" {
		return e.Message
	}
	return fmt.Sprintf("%s: %s", e.Param, e.Message)
}

// StreamError is an error the upstream reported in a successful (HTTP 200) answer:
// an in-band stream event, or an error object as the whole body.
type StreamError struct {
	Type    string // provider error type, e.g. "overloaded_error"; may be empty
	Message string
}

func (e *StreamError) Error() string { return "upstream stream error: " + e.Message }

// ShapeError is an upstream answer, a body or a stream event, that is not one of
// its protocol's: not JSON, or JSON of another shape ({"unexpected":true} with
// status 200). The upstream misbehaved; it never becomes an empty answer.
type ShapeError struct {
	Protocol wire.Protocol // the upstream's
	Reason   string        // what is wrong, e.g. "no choices array"
}

func (e *ShapeError) Error() string {
	return fmt.Sprintf("not an %s answer: %s", e.Protocol, e.Reason)
}

type factory func(Options) Translator

// pair is a translation: between two protocols, for one operation.
type pair struct {
	client, upstream wire.Protocol
	op               wire.Operation
}

var registry = map[pair]factory{}

// register is called from the init function of each pair's file, for
// generation (an answer).
func register(client, upstream wire.Protocol, f factory) {
	registerOp(wire.Generate, client, upstream, f)
}

// registerOp registers the translator of one operation between two protocols.
func registerOp(op wire.Operation, client, upstream wire.Protocol, f factory) {
	registry[pair{client, upstream, op}] = f
}

// New returns the translator from client to upstream protocol for opt.Op, or nil
// when the two are the same (the gateway then passes bytes through) or the pair
// does not translate that operation.
func New(client, upstream wire.Protocol, opt Options) Translator {
	if opt.Op == 0 {
		opt.Op = wire.Generate
	}
	f, ok := registry[pair{client, upstream, opt.Op}]
	if !ok {
		return nil
	}
	return f(opt)
}
