package translate

// OpenAI legacy Completions client → Ollama /api/generate upstream (README §2, §4.2).

import (
	"encoding/json"
	"strconv"

	"github.com/tidwall/gjson"

	"github.com/llmrouter/llmrouter/internal/sse"
	"github.com/llmrouter/llmrouter/internal/wire"
)

func init() {
	register(wire.OpenAICompletions, wire.OllamaGenerate, func(o Options) Translator { return newCompletionsToOllama(o) })
}

// completionsDefaultMaxTokens is the legacy API's max_tokens default (README §2). A
// client that sends none expects 16 tokens, not Ollama's unbounded default.
const completionsDefaultMaxTokens = 16

// completionsToOllama translates one legacy Completions request to /api/generate and
// its answer back. The prompt is sent without "raw", so Ollama applies the model's
// template, as Ollama's own /v1/completions does; a route can set $.raw to change that.
type completionsToOllama struct {
	ollamaBase
	st ollamaStreamState
}

func newCompletionsToOllama(o Options) *completionsToOllama {
	return &completionsToOllama{ollamaBase: newOllamaBase(o)}
}

// Request converts a Completions body to an Ollama /api/generate body.
func (t *completionsToOllama) Request(body []byte) ([]byte, error) {
	t.dropped, t.includeUsage = nil, false
	req, err := parseObject(body)
	if err != nil {
		return nil, err
	}
	if !req.Get("prompt").Exists() {
		return nil, reqErr("prompt", "is required")
	}
	out := ollamaGenerateRequest{Model: t.model(req.Get("model"))}
	opts := ollamaOptions{NumPredict: json.RawMessage(strconv.Itoa(completionsDefaultMaxTokens))}
	err = eachKey(req, func(key string, v gjson.Result) error {
		return t.field(key, v, &out, &opts)
	})
	if err != nil {
		return nil, err
	}
	out.Options = &opts
	return ollamaMarshal(out)
}

// field converts one top-level member of the client request.
func (t *completionsToOllama) field(key string, v gjson.Result, out *ollamaGenerateRequest, opts *ollamaOptions) error {
	var err error
	switch key {
	case "model":
	case "prompt":
		out.Prompt, err = completionsPrompt(v)
	case "suffix":
		out.Suffix, err = wantString(v, key)
	case "max_tokens":
		opts.NumPredict, err = wantNumber(v, key)
	case "temperature", "top_p", "seed", "frequency_penalty", "presence_penalty":
		err = opts.setNumber(key, v, key)
	case "stop":
		opts.Stop, err = stringList(v, key)
	case "stream":
		out.Stream, err = wantBool(v, key)
	case "stream_options":
		err = t.streamOptions(v)
	case "n":
		err = ollamaN(v, key)
	case "echo":
		if v.Type == gjson.True {
			t.dropped.add(key)
		}
	default: // best_of, logprobs, logit_bias, user, …
		t.dropped.add(jsonPath(key))
	}
	return err
}

// completionsPrompt accepts a string or an array of exactly one string; Ollama
// takes one string prompt, and token-id prompts cannot be expressed (README §2).
func completionsPrompt(v gjson.Result) (string, error) {
	if v.Type == gjson.String {
		return v.Str, nil
	}
	if arr := v.Array(); v.IsArray() && len(arr) == 1 && arr[0].Type == gjson.String {
		return arr[0].Str, nil
	}
	return "", reqErr("prompt", "ollama upstreams accept one string prompt only")
}

// Response converts a non-streaming Ollama /api/generate body to a text_completion.
// Ollama's separate "thinking" text has no place in it and is not returned.
func (t *completionsToOllama) Response(body []byte) ([]byte, error) {
	l, err := decodeOllamaLine(body)
	if err != nil {
		return nil, err
	}
	reason := ollamaOpenAIFinish(l.DoneReason, false)
	return ollamaMarshal(textCompletion{
		ID: t.newID("cmpl-"), Object: "text_completion", Created: t.created(l.CreatedAt), Model: t.modelOf(l),
		Choices: []completionChoice{{Text: l.Response, Logprobs: json.RawMessage("null"), FinishReason: &reason}},
		Usage:   ollamaUsage(l),
	})
}

// Stream converts one Ollama NDJSON line into text_completion chunks: one per
// non-empty response delta; the done line gives the last chunk, which carries its
// own text (possibly "") and the finish_reason, then the usage chunk when the client
// asked for include_usage, then [DONE].
func (t *completionsToOllama) Stream(dst []byte, ev sse.Event) ([]byte, error) {
	l, skip, err := ollamaNext(&t.st, ev.Data)
	if skip || err != nil {
		return dst, err
	}
	if !t.st.started {
		t.st.start(&t.ollamaBase, l, "cmpl-")
	}
	w := ollamaSSE{buf: dst}
	if !l.Done {
		if l.Response != "" {
			t.chunk(&w, []completionChoice{{Text: l.Response, Logprobs: json.RawMessage("null")}}, nil)
		}
		return w.result(dst)
	}
	t.st.done = true
	reason := ollamaOpenAIFinish(l.DoneReason, false)
	t.chunk(&w, []completionChoice{{Text: l.Response, Logprobs: json.RawMessage("null"), FinishReason: &reason}}, nil)
	if t.includeUsage {
		t.chunk(&w, []completionChoice{}, ollamaUsage(l))
	}
	w.done()
	return w.result(dst)
}

// chunk appends one text_completion chunk. With include_usage, chunks other than
// the usage chunk say "usage": null.
func (t *completionsToOllama) chunk(w *ollamaSSE, choices []completionChoice, usage *openAIUsage) {
	c := textCompletion{
		ID: t.st.id, Object: "text_completion", Created: t.st.created, Model: t.st.model, Choices: choices,
	}
	switch {
	case usage != nil:
		c.Usage = usage
	case t.includeUsage:
		c.Usage = json.RawMessage("null")
	}
	w.event("", c)
}

// End reports a stream that never sent its done line.
func (t *completionsToOllama) End(dst []byte) ([]byte, error) { return t.st.end(dst) }

// Done implements Translator.
func (t *completionsToOllama) Done() bool { return t.st.isDone() }
