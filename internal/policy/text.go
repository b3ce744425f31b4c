package policy

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/llmrouter/llmrouter/internal/wire"
)

// errProtocol reports a regex rule asked to find texts in a body without a
// protocol to say where they are: a bug in the caller, not in the request.
var errProtocol = errors.New("no text locations known for the protocol")

// regexRule rewrites the texts of a request. It never changes anything but the
// JSON strings that hold message text, so ids, tool arguments, image data and
// thinking signatures cannot be corrupted by a broad pattern.
type regexRule struct {
	re    *regexp.Regexp
	repl  []byte   // with $1 / ${name} references, expanded as by Regexp.Expand
	roles []string // lower-cased; empty: every role
}

func compileRegex(pattern, replace, flags string, roles []string) (*regexRule, error) {
	if strings.Trim(flags, "imsU") != "" {
		return nil, fmt.Errorf("regex flags %q: only i, m, s and U are allowed", flags)
	}
	if flags != "" {
		pattern = "(?" + flags + ")" + pattern
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("regex: %w", err)
	}
	r := &regexRule{re: re, repl: []byte(replace)}
	for _, role := range roles {
		r.roles = append(r.roles, strings.ToLower(role))
	}
	return r, nil
}

// apply replaces every match in every text the rule's roles select. Texts the
// pattern does not change are not edited, so a body nothing matches keeps its
// bytes (and costs no allocation).
func (r *regexRule) apply(d *document, proto Dialect) error {
	if proto == nil {
		return errProtocol
	}
	w := walk{b: d.b, sh: proto.Texts(), rule: r}
	w.all()
	// Texts are visited field by field (Anthropic's system before its messages),
	// which need not be their order in the body: apply sorts.
	d.apply(w.edits)
	return nil
}

// rewrite returns the edit for one text, or false when the rule leaves it as is.
func (r *regexRule) rewrite(b []byte, s site) (edit, bool) {
	if !r.selects(s) {
		return edit{}, false
	}
	text, ok := stringAt(b, s.value)
	if !ok || !r.re.Match(text) {
		return edit{}, false
	}
	out := r.re.ReplaceAll(text, r.repl)
	if bytes.Equal(out, text) {
		return edit{}, false
	}
	return edit{s.value.start, s.value.end, appendString(nil, out)}, true
}

// selects reports whether the rule applies to the text at s.
func (r *regexRule) selects(s site) bool {
	if len(r.roles) == 0 {
		return true
	}
	for _, role := range r.roles {
		if string(s.role) == role || (s.toolResult && role == "tool") {
			return true
		}
	}
	return false
}

// site is one text of a request: the JSON string that holds it, and the role it
// counts as for a rule's roles filter.
type site struct {
	value      span
	role       []byte // as written in the body; nil when absent
	toolResult bool   // inside an Anthropic tool_result block: roles [tool] match it too
}

var (
	roleSystem = []byte("system")
	roleUser   = []byte("user")
	roleTool   = []byte("tool")
)

// walk visits the texts of one body in one protocol and collects the rule's
// edits. It calls the rule directly, not through a func value, so that a body
// without matches is walked without allocating.
type walk struct {
	b     []byte
	sh    wire.Texts
	rule  *regexRule
	visit func(site) // instead of a rule, every text is handed to visit (texts.go)
	edits []edit
}

func (w *walk) system(root int) {
	if w.sh.System == wire.NoText {
		return
	}
	if sp, ok := field(w.b, root, "system"); ok {
		w.content(sp, w.sh.System, roleSystem, false)
	}
}

func (w *walk) prompt(root int) {
	if !w.sh.Prompt {
		return
	}
	sp, ok := field(w.b, root, "prompt")
	switch {
	case !ok:
	case w.b[sp.start] == '[':
		for e := range entries(w.b, sp.start) {
			w.str(e.value, roleUser, false)
		}
	default:
		w.str(sp, roleUser, false)
	}
}

// all visits every text of the body, field by field.
func (w *walk) all() {
	root := skipSpace(w.b, 0)
	w.system(root)
	w.prompt(root)
	w.messages(root)
	w.instructions(root)
	w.input(root)
}

func (w *walk) messages(root int) {
	if w.sh.Messages == wire.NoText {
		return
	}
	sp, ok := field(w.b, root, "messages")
	if !ok || w.b[sp.start] != '[' {
		return
	}
	for e := range entries(w.b, sp.start) {
		role, content := fields2(w.b, e.value.start, "role", "content")
		if content == (span{}) {
			continue
		}
		var name []byte
		if role != (span{}) {
			name, _ = stringAt(w.b, role)
		}
		w.content(content, w.sh.Messages, name, false)
	}
}

func (w *walk) instructions(root int) {
	if !w.sh.Instructions {
		return
	}
	if sp, ok := field(w.b, root, "instructions"); ok {
		w.str(sp, roleSystem, false)
	}
}

// input visits a Responses input: a string (role user), or items.
func (w *walk) input(root int) {
	if !w.sh.Input {
		return
	}
	sp, ok := field(w.b, root, "input")
	switch {
	case !ok:
	case w.b[sp.start] == '[':
		for e := range entries(w.b, sp.start) {
			w.item(e.value)
		}
	default:
		w.str(sp, roleUser, false)
	}
}

// item visits one Responses input item: a message's content, with its role (an
// item without a type is a message), or the output of a function or custom tool
// call, role tool. Other items (calls, reasoning, references) hold no text.
func (w *walk) item(sp span) {
	if w.b[sp.start] != '{' {
		return
	}
	var typ, role, content, output span
	for e := range entries(w.b, sp.start) {
		k, _ := stringAt(w.b, e.key)
		switch string(k) {
		case "type":
			typ = e.value
		case "role":
			role = e.value
		case "content":
			content = e.value
		case "output":
			output = e.value
		}
	}
	kind := []byte("message")
	if typ != (span{}) {
		kind, _ = stringAt(w.b, typ)
	}
	switch string(kind) {
	case "message":
		if content != (span{}) {
			var name []byte
			if role != (span{}) {
				name, _ = stringAt(w.b, role)
			}
			w.content(content, wire.Content, name, false)
		}
	case "function_call_output", "custom_tool_call_output":
		if output != (span{}) {
			w.content(output, wire.Content, roleTool, false)
		}
	}
}

// content visits a value of shape sh: a string, or (wire.Content) an array of
// blocks.
func (w *walk) content(sp span, sh wire.Shape, role []byte, toolResult bool) {
	if w.b[sp.start] != '[' {
		w.str(sp, role, toolResult)
		return
	}
	if sh != wire.Content {
		return
	}
	for e := range entries(w.b, sp.start) {
		w.block(e.value, role, toolResult)
	}
}

// block visits a text block's text (a Responses input_text or output_text part
// too), or the texts of an Anthropic tool_result. Every other block type
// (images, tool_use, thinking, ...) is left alone.
func (w *walk) block(sp span, role []byte, toolResult bool) {
	t, text := fields2(w.b, sp.start, "type", "text")
	if t == (span{}) {
		return
	}
	switch typ, _ := stringAt(w.b, t); {
	case string(typ) == "text" || w.sh.Input && (string(typ) == "input_text" || string(typ) == "output_text"):
		if text != (span{}) {
			w.str(text, role, toolResult)
		}
	case string(typ) == "tool_result" && w.sh.ToolResults && !toolResult:
		if v, ok := field(w.b, sp.start, "content"); ok {
			w.content(v, wire.Content, role, true)
		}
	}
}

// str hands the value at sp to the rule when it is a string.
func (w *walk) str(sp span, role []byte, toolResult bool) {
	if w.b[sp.start] != '"' {
		return
	}
	if w.visit != nil {
		w.visit(site{value: sp, role: role, toolResult: toolResult})
		return
	}
	if e, ok := w.rule.rewrite(w.b, site{value: sp, role: role, toolResult: toolResult}); ok {
		w.edits = append(w.edits, e)
	}
}
