package translate

// How every converter writes: one JSON encoding (the providers' own, without HTML
// escaping), one SSE event writer, and one source of times and ids (env), which
// tests replace to get deterministic output.

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/llmrouter/llmrouter/internal/sse"
)

// env is where a translator takes the current time and fresh ids.
type env struct {
	now   func() time.Time
	newID func(prefix string) string
}

// realEnv is the clock and random ids.
func realEnv() env { return env{now: time.Now, newID: randomID} }

// randomID returns prefix followed by 24 random hex digits, for ids an upstream did
// not send (e.g. a tool call without "id" from an OpenAI-compatible server). Ids
// are free strings on every protocol, so only uniqueness matters.
func randomID(prefix string) string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return prefix + hex.EncodeToString(b[:])
}

// id is the upstream's id, or a new one with prefix when it sent none: tool call
// ids, which a client sends back with the results, are kept as they are.
func (e *env) id(upstream, prefix string) string {
	if upstream != "" {
		return upstream
	}
	return e.newID(prefix)
}

// answerPrefixes are the prefixes of answer ids in every protocol: Chat
// Completions, legacy Completions, Anthropic Messages and the Responses API.
// chatcmpl- comes before cmpl-, which ends it.
var answerPrefixes = [...]string{"chatcmpl-", "cmpl-", "msg_", "resp_"}

// answerID is the id of an answer in the client's protocol, whose ids start with
// prefix (issue 9 item 8: a chat completion's id starts with chatcmpl-, not msg_).
// It is the upstream's id with its protocol's prefix replaced by prefix, so it
// stays stable and can be traced to the upstream's (chatcmpl-86 becomes msg_86,
// an id without a known prefix is kept whole after prefix), or a new id when the
// upstream sent none.
func (e *env) answerID(upstream, prefix string) string {
	rest := upstream
	for _, p := range answerPrefixes {
		if r, ok := strings.CutPrefix(upstream, p); ok {
			rest = r
			break
		}
	}
	if rest == "" {
		return e.newID(prefix)
	}
	return prefix + rest
}

// created is the upstream's creation time, or now when it gave none.
func (e *env) created(upstream int64) int64 {
	if upstream != 0 {
		return upstream
	}
	return e.now().Unix()
}

// newEncoder is the one JSON encoder configuration: the providers' own, without
// HTML escaping, so that "<" in generated code stays "<".
func newEncoder(b *bytes.Buffer) *json.Encoder {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	return enc
}

// marshal encodes a whole body, wrapping the (unexpected) error with what was
// encoded.
func marshal(what string, v any) ([]byte, error) {
	var b bytes.Buffer
	if err := newEncoder(&b).Encode(v); err != nil {
		return nil, fmt.Errorf("encoding %s: %w", what, err)
	}
	b.Truncate(b.Len() - 1) // Encode ends every value with a newline
	return b.Bytes(), nil
}

// jsonBuf encodes the events of a stream into one buffer, reused.
type jsonBuf struct {
	b   bytes.Buffer
	enc *json.Encoder
}

// encode returns v's JSON, valid until the next call.
func (j *jsonBuf) encode(v any) ([]byte, error) {
	if j.enc == nil {
		j.enc = newEncoder(&j.b)
	}
	j.b.Reset()
	if err := j.enc.Encode(v); err != nil {
		return nil, err
	}
	j.b.Truncate(j.b.Len() - 1)
	return j.b.Bytes(), nil
}

// out collects the client events of one upstream event. The first encoding error
// sticks and stops further writes; the caller then discards the whole event.
type out struct {
	buf []byte
	err error
	env *env
	js  *jsonBuf
}

// event appends one SSE event named name ("" for OpenAI's unnamed events) with
// v's JSON as its data.
func (o *out) event(name string, v any) {
	if o.err != nil {
		return
	}
	b, err := o.js.encode(v)
	if err != nil {
		o.err = fmt.Errorf("encoding %s event: %w", name, err)
		return
	}
	o.buf = sse.AppendEvent(o.buf, name, b)
}

// raw appends one unnamed SSE event with data as it is (OpenAI's [DONE]).
func (o *out) raw(data []byte) { o.buf = sse.AppendEvent(o.buf, "", data) }
