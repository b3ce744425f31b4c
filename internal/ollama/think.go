package ollama

// Relaxing think for models that cannot take it (issue 9 item 1). Ollama refuses
// a truthy `think` for a model without the thinking capability (400 `"tiny" does
// not support thinking`, captured as ollama-real/api_chat_think_unsupported) and
// a level ("high") for any model but gpt-oss (400 `think value "high" is not
// supported for this model`, the message of ollama-real/v1_chat_reasoning_stream).
// Ollama's own Anthropic endpoint answers the same requests (captured:
// v1_messages_thinking_unsupported), so a router translating for clients that
// always ask for thinking (Claude Code) must relax think the same way: a level
// becomes true for models that take no level, and think goes away for models
// that cannot think. The router learns which is which from the refusals
// themselves: no extra request, no name table, and the same knowledge whatever
// the model is called.

import (
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/llmrouter/llmrouter/internal/wire"
)

// TakesThinkLevel reports whether model is known to take a think level ("low",
// "medium", "high"): Ollama accepts levels only from gpt-oss models (README §4.1),
// and other models refuse them. A model of another name gets think true instead.
func TakesThinkLevel(model string) bool {
	return strings.Contains(strings.ToLower(model), "gpt-oss")
}

// Thinking is what a model is known to accept as think.
type Thinking uint8

const (
	// ThinkingUnknown: nothing was learned; think goes as the request has it.
	ThinkingUnknown Thinking = iota
	// ThinksWithoutLevels: the model thinks, but a level is refused; true is not.
	ThinksWithoutLevels
	// CannotThink: the model has no thinking capability; only false, or no
	// think at all, is accepted.
	CannotThink
)

// Messages of Ollama's think refusals, around the %q-quoted model or value.
const (
	noThinkingSuffix = " does not support thinking"
	levelPrefix      = "think value "
	levelSuffix      = " is not supported for this model"
)

// ReadThinkRefusal reads Ollama's answer to req, an /api/chat or /api/generate
// body: when it is the 400 by which Ollama refuses req's think, it returns what
// the model accepts. ok is false for any other answer.
func ReadThinkRefusal(req []byte, status int, answer []byte) (t Thinking, ok bool) {
	think := gjson.GetBytes(req, "think")
	if status != 400 || !thinks(think) {
		return ThinkingUnknown, false
	}
	msg, ok := ParseError(answer)
	if !ok {
		return ThinkingUnknown, false
	}
	if name, found := strings.CutSuffix(msg, noThinkingSuffix); found && quoted(name) {
		return CannotThink, true
	}
	value, found := strings.CutPrefix(msg, levelPrefix)
	if value, found2 := strings.CutSuffix(value, levelSuffix); found && found2 && quoted(value) && think.Type == gjson.String {
		return ThinksWithoutLevels, true
	}
	return ThinkingUnknown, false
}

// thinks reports whether think asks for thinking: true, or a level.
func thinks(think gjson.Result) bool {
	return think.Type == gjson.True || think.Type == gjson.String
}

// quoted reports whether s is a Go-quoted string, as Ollama's %q writes one.
func quoted(s string) bool {
	_, err := strconv.Unquote(s)
	return err == nil && strings.HasPrefix(s, `"`)
}

// FitThink returns req with its think made acceptable to a model that accepts
// t: CannotThink removes a truthy think (false stays), ThinksWithoutLevels turns
// a level into true. It returns req itself, unchanged, when nothing needs to
// change, and never writes into req.
func FitThink(req []byte, t Thinking) []byte {
	think := gjson.GetBytes(req, "think")
	var out []byte
	var err error
	switch {
	case t == CannotThink && thinks(think):
		out, err = sjson.DeleteBytes(req, "think")
	case t == ThinksWithoutLevels && think.Type == gjson.String:
		out, err = sjson.SetRawBytes(req, "think", []byte("true"))
	default:
		return req
	}
	if err != nil { // a request the router wrote is an object: not reached
		return req
	}
	return out
}

// ThinkMemory remembers what models accept as think, per endpoint and model,
// learned from Ollama's refusals. It holds at most a fixed number of models,
// each for a fixed time (a model pulled again may have changed). It is safe for
// concurrent use.
type ThinkMemory struct {
	limit int
	ttl   time.Duration
	mu    sync.Mutex
	known map[thinkKey]thinkEntry
}

type thinkKey struct{ endpoint, model string }

type thinkEntry struct {
	t       Thinking
	learned time.Time
}

// NewThinkMemory returns a memory of at most limit models (at least 1), each
// remembered for ttl.
func NewThinkMemory(limit int, ttl time.Duration) *ThinkMemory {
	return &ThinkMemory{limit: max(limit, 1), ttl: ttl, known: map[thinkKey]thinkEntry{}}
}

// Fit returns req, a body for the Ollama server at endpoint, with its think
// made acceptable to its model as far as the memory knows (FitThink); req itself
// when nothing is known or nothing needs to change.
func (m *ThinkMemory) Fit(endpoint string, req []byte) []byte {
	k := thinkKey{endpoint, gjson.GetBytes(req, "model").String()}
	m.mu.Lock()
	e, ok := m.known[k]
	if ok && time.Since(e.learned) >= m.ttl {
		delete(m.known, k)
		ok = false
	}
	m.mu.Unlock()
	if !ok {
		return req
	}
	return FitThink(req, e.t)
}

// Refused reads the answer of the Ollama server at endpoint to req. When it is a
// think refusal (ReadThinkRefusal), the memory learns what the model accepts and
// returns the body to send instead, with ok true. ok is false for any other
// answer, and when relaxing changes nothing. Each retry relaxes think strictly
// (a level, then true, then none), so a caller that sends retries while ok
// sends at most two.
func (m *ThinkMemory) Refused(endpoint string, req []byte, status int, answer []byte) (retry []byte, ok bool) {
	t, ok := ReadThinkRefusal(req, status, answer)
	if !ok {
		return nil, false
	}
	m.learn(thinkKey{endpoint, gjson.GetBytes(req, "model").String()}, t)
	retry = FitThink(req, t)
	if len(retry) == len(req) && string(retry) == string(req) {
		return nil, false
	}
	return retry, true
}

// learn remembers t for k, making room by forgetting one model when full.
func (m *ThinkMemory) learn(k thinkKey, t Thinking) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.known[k]; !ok && len(m.known) >= m.limit {
		for old := range m.known {
			delete(m.known, old)
			break
		}
	}
	m.known[k] = thinkEntry{t: t, learned: time.Now()}
}

// Bounds of the memory NewRelaxer returns: the models a router remembers (a few
// bytes each) and for how long (a model pulled again may have changed).
const (
	relaxModels = 1024
	relaxFor    = time.Hour
)

// NewRelaxer returns a memory of what think each model accepts, for one router:
// a ThinkMemory that also says what each relaxation gave up.
func (API) NewRelaxer() wire.Relaxer {
	return thinkRelaxer{NewThinkMemory(relaxModels, relaxFor)}
}

// thinkRelaxer is a ThinkMemory as a wire.Relaxer.
type thinkRelaxer struct{ m *ThinkMemory }

func (r thinkRelaxer) Fit(endpoint string, req []byte) ([]byte, wire.Relaxed) {
	out := r.m.Fit(endpoint, req)
	return out, relaxation(req, out)
}

func (r thinkRelaxer) Refused(endpoint string, req []byte, status int, answer []byte) ([]byte, wire.Relaxed) {
	retry, ok := r.m.Refused(endpoint, req, status, answer)
	if !ok {
		return nil, wire.RelaxedNothing
	}
	return retry, relaxation(req, retry)
}

// relaxation says what out, req relaxed by FitThink, gave up: think itself, its
// level, or nothing.
func relaxation(req, out []byte) wire.Relaxed {
	before, after := gjson.GetBytes(req, "think"), gjson.GetBytes(out, "think")
	switch {
	case before.Raw == after.Raw:
		return wire.RelaxedNothing
	case !after.Exists():
		return wire.RelaxedReasoning
	}
	return wire.RelaxedLevel
}
