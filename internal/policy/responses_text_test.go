package policy

import (
	"testing"

	"github.com/llmrouter/llmrouter/internal/config"
	"github.com/llmrouter/llmrouter/internal/openai"
	"github.com/llmrouter/llmrouter/internal/responses"
)

// A Responses request keeps its texts in instructions (role system), in input as a
// string (role user), in message items (a string or input_text / output_text parts,
// with the item's role; an item without a type is a message) and in the output of
// function and custom tool calls (role tool). Call arguments, custom tool input,
// ids, reasoning and images are never touched.
func TestRegexResponses(t *testing.T) {
	const items = `{"instructions":"acme","input":[` +
		`{"role":"developer","content":"acme"},` +
		`{"type":"message","role":"user","id":"msg_acme","content":[{"type":"input_text","text":"acme"},{"type":"input_image","image_url":"https://acme.example/a.png"}]},` +
		`{"type":"reasoning","id":"rs_acme","summary":[{"type":"summary_text","text":"acme"}],"encrypted_content":"acme"},` +
		`{"type":"message","role":"assistant","content":[{"type":"output_text","text":"acme","annotations":[]}]},` +
		`{"type":"function_call","call_id":"acme","name":"acme","arguments":"{\"q\":\"acme\"}"},` +
		`{"type":"function_call_output","call_id":"acme","output":"acme"},` +
		`{"type":"custom_tool_call","call_id":"acme","name":"acme","input":"acme"},` +
		`{"type":"custom_tool_call_output","call_id":"acme","output":[{"type":"input_text","text":"acme"}]}` +
		`],"tools":[{"type":"function","name":"acme","description":"acme"}]}`
	edited := func(instructions, developer, user, assistant, output, custom string) string {
		return `{"instructions":"` + instructions + `","input":[` +
			`{"role":"developer","content":"` + developer + `"},` +
			`{"type":"message","role":"user","id":"msg_acme","content":[{"type":"input_text","text":"` + user + `"},{"type":"input_image","image_url":"https://acme.example/a.png"}]},` +
			`{"type":"reasoning","id":"rs_acme","summary":[{"type":"summary_text","text":"acme"}],"encrypted_content":"acme"},` +
			`{"type":"message","role":"assistant","content":[{"type":"output_text","text":"` + assistant + `","annotations":[]}]},` +
			`{"type":"function_call","call_id":"acme","name":"acme","arguments":"{\"q\":\"acme\"}"},` +
			`{"type":"function_call_output","call_id":"acme","output":"` + output + `"},` +
			`{"type":"custom_tool_call","call_id":"acme","name":"acme","input":"acme"},` +
			`{"type":"custom_tool_call_output","call_id":"acme","output":[{"type":"input_text","text":"` + custom + `"}]}` +
			`],"tools":[{"type":"function","name":"acme","description":"acme"}]}`
	}
	runBodyTests(t, []bodyTest{
		{
			name: "every text of every role", proto: responses.Responses, in: items,
			rules: []config.Transform{re("acme", "ACME")},
			want:  edited("ACME", "ACME", "ACME", "ACME", "ACME", "ACME"),
		},
		{
			name: "roles: system is instructions", proto: responses.Responses, in: items,
			rules: []config.Transform{re("acme", "ACME", "system", "developer")},
			want:  edited("ACME", "ACME", "acme", "acme", "acme", "acme"),
		},
		{
			name: "roles: tool is the output of calls", proto: responses.Responses, in: items,
			rules: []config.Transform{re("acme", "ACME", "tool")},
			want:  edited("acme", "acme", "acme", "acme", "ACME", "ACME"),
		},
		{
			name: "roles: user, assistant", proto: responses.Responses, in: items,
			rules: []config.Transform{re("acme", "ACME", "user", "assistant")},
			want:  edited("acme", "acme", "ACME", "ACME", "acme", "acme"),
		},
		{
			name: "input as a string is the user's", proto: responses.Responses,
			rules: []config.Transform{re("acme", "ACME", "user")},
			in:    `{"instructions":"acme","input":"acme acme"}`,
			want:  `{"instructions":"acme","input":"ACME ACME"}`,
		},
		{
			name: "Chat bodies keep their own rules: input_text parts are not Chat's", proto: openai.Chat,
			rules: []config.Transform{re("acme", "ACME")},
			in:    `{"instructions":"acme","input":"acme","messages":[{"role":"user","content":[{"type":"input_text","text":"acme"}]}]}`,
			want:  `{"instructions":"acme","input":"acme","messages":[{"role":"user","content":[{"type":"input_text","text":"acme"}]}]}`,
		},
	})
}
