package translate

// OpenAI embeddings client (POST /v1/embeddings) → Ollama /api/embed upstream
// (issue 9 item 13; captured: ollama-real/api_embed, and Ollama's own OpenAI
// layer answering the same, ollama-real/v1_embeddings): the request and the
// whole answer (embeddings never stream).
//
//   - input: a string or an array of strings, as is. Token arrays (OpenAI
//     accepts arrays of token ids) have no Ollama form: a 400.
//   - dimensions: as is. encoding_format "float" is Ollama's own; "base64"
//     (the default of OpenAI's Node SDK) is written by the router: each vector's
//     float32 values, little-endian, base64-encoded, as OpenAI sends them.
//   - user and any other member: dropped.
//   - the answer: one embedding object per vector, index in order, the model
//     Ollama names, usage from prompt_eval_count (prompt and total tokens).

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"strconv"

	"github.com/tidwall/gjson"

	"github.com/llmrouter/llmrouter/internal/ollama"
	"github.com/llmrouter/llmrouter/internal/openai"
	"github.com/llmrouter/llmrouter/internal/sse"
	"github.com/llmrouter/llmrouter/internal/wire"
)

func init() {
	registerOp(wire.Embed, wire.OpenAIChat, wire.OllamaChat, func(o Options) Translator {
		return &embedToOllama{ollamaBase: ollamaBase{opt: o}}
	})
}

// embedToOllama translates one embeddings request and its answer.
type embedToOllama struct {
	ollamaBase
	base64 bool // the client asked for encoding_format "base64"
	usage  Usage
}

// errEmbedStream is a stream asked of an embeddings translator: nothing streams.
var errEmbedStream = errors.New("embeddings answers are never streamed")

// Request converts an OpenAI embeddings body to an Ollama /api/embed body.
func (t *embedToOllama) Request(body []byte) ([]byte, error) {
	t.dropped, t.base64 = nil, false
	req, err := parseObject(body)
	if err != nil {
		return nil, err
	}
	out := ollama.EmbedRequest{Model: t.model(req.Get("model"))}
	err = eachKey(req, func(k string, v gjson.Result) error {
		var err error
		switch k {
		case "model":
		case "input":
			out.Input, err = embedInput(v)
		case "dimensions":
			var n int64
			if n, err = wantPositive(v, k); err == nil {
				out.Dimensions = json.RawMessage(strconv.FormatInt(n, 10))
			}
		case "encoding_format":
			err = t.encodingFormat(v)
		default:
			t.dropped.add(jsonPath(k))
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if out.Input == nil {
		return nil, reqErr("input", "missing required field: input")
	}
	return marshal("Ollama embed request", out)
}

// embedInput reads input: a string or an array of strings, passed on as is.
func embedInput(v gjson.Result) (json.RawMessage, error) {
	if v.Type == gjson.String {
		return json.RawMessage(v.Raw), nil
	}
	if !v.IsArray() {
		return nil, reqErr("input", "must be a string or an array of strings")
	}
	err := eachElem(v, func(i int, e gjson.Result) error {
		if e.Type != gjson.String {
			return reqErr(jsonPath("input", i), "must be a string: token arrays are not supported by ollama upstreams; send the text")
		}
		return nil
	})
	return json.RawMessage(v.Raw), err
}

// encodingFormat reads encoding_format: float (Ollama's) or base64 (the
// router's to write).
func (t *embedToOllama) encodingFormat(v gjson.Result) error {
	s, err := wantString(v, "encoding_format")
	switch {
	case err != nil:
		return err
	case s == "base64":
		t.base64 = true
	case s != "float":
		return reqErr("encoding_format", "must be float or base64, got %q", s)
	}
	return nil
}

// Response converts an Ollama /api/embed answer to an OpenAI embeddings list.
func (t *embedToOllama) Response(body []byte) ([]byte, error) {
	if !json.Valid(body) {
		return nil, &ShapeError{Protocol: wire.OllamaChat, Reason: "not JSON"}
	}
	if msg, ok := ollama.ParseError(body); ok {
		return nil, &StreamError{Message: msg}
	}
	var in ollama.EmbedResponse
	if err := json.Unmarshal(body, &in); err != nil || !gjson.GetBytes(body, "embeddings").IsArray() {
		return nil, &ShapeError{Protocol: wire.OllamaChat, Reason: "no embeddings array"}
	}
	out := openai.EmbeddingList{Object: openai.ObjectList, Data: make([]openai.Embedding, 0, len(in.Embeddings)), Model: in.Model,
		Usage: openai.EmbeddingsUsage{PromptTokens: in.PromptEvalCount, TotalTokens: in.PromptEvalCount}}
	for i, vec := range in.Embeddings {
		if t.base64 {
			var err error
			if vec, err = base64Vector(vec); err != nil {
				return nil, &ShapeError{Protocol: wire.OllamaChat, Reason: err.Error()}
			}
		}
		out.Data = append(out.Data, openai.Embedding{Object: openai.ObjectEmbedding, Embedding: vec, Index: i})
	}
	t.usage = Usage{Input: in.PromptEvalCount}
	return marshal("embeddings answer", out)
}

// base64Vector encodes a JSON array of numbers as OpenAI's base64 embedding: the
// float32 values, little-endian, in standard base64, as a JSON string.
func base64Vector(vec json.RawMessage) (json.RawMessage, error) {
	arr := gjson.ParseBytes(vec)
	if !arr.IsArray() {
		return nil, errors.New("an embedding is not an array")
	}
	var err error
	raw := make([]byte, 0, 4*len(vec)/8)
	arr.ForEach(func(_, f gjson.Result) bool {
		if f.Type != gjson.Number {
			err = errors.New("an embedding holds a value that is not a number")
			return false
		}
		raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(float32(f.Float())))
		return true
	})
	if err != nil {
		return nil, err
	}
	return json.RawMessage(strconv.Quote(base64.StdEncoding.EncodeToString(raw))), nil
}

// Stream is never called: embeddings are not streamed.
func (t *embedToOllama) Stream(dst []byte, _ sse.Event) ([]byte, error) { return dst, errEmbedStream }

// End is never called: embeddings are not streamed.
func (t *embedToOllama) End(dst []byte) ([]byte, error) { return dst, errEmbedStream }

// Done reports false: an embeddings answer is whole or nothing.
func (t *embedToOllama) Done() bool { return false }

// Usage is the input tokens of the answer, once Response has read it.
func (t *embedToOllama) Usage() Usage { return t.usage }
