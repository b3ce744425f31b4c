package policy

// Texts hands yield each text of a request body in protocol d, where the regex
// rules would find it, with the role it counts as: the system prompt ("system"),
// the prompt ("user"), then each message's texts in order, under the message's
// role ("tool" for the texts of an Anthropic tool_result; "" for a message
// without one), then a Responses request's instructions ("system") and input
// (a string, "user"; a message item's texts under its role; a tool call's
// output, "tool"). Images, tool calls and their arguments, thinking blocks and
// ids are not texts. A body that is not a JSON object has none. For traces that
// capture the prompt.
func Texts(body []byte, d Dialect, yield func(role string, text []byte)) {
	if d == nil || checkBody(body) != nil {
		return
	}
	w := walk{b: body, sh: d.Texts()}
	w.visit = func(s site) {
		text, ok := stringAt(body, s.value)
		if !ok {
			return
		}
		role := string(s.role)
		if s.toolResult {
			role = "tool"
		}
		yield(role, text)
	}
	w.all()
}
