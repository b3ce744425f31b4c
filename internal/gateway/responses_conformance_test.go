package gateway_test

// Conformance of the Responses API (issue 10), in the frame of conformance_test.go:
// the Responses client (openai-go/v3: Responses.New, Responses.NewStreaming) against
// every kind of upstream — an openai upstream serving the Responses API (the bytes
// pass through), an openai upstream serving only Chat Completions (apis: [chat,
// completions], as vLLM), anthropic and ollama — and the Chat, Completions and
// Anthropic clients against a Responses-only openai upstream (apis: [responses]),
// each through confRun's scenarios (text, parallel tools, the tool-result turn,
// upstream errors before and after the commit point, dropped, strict). The fakes
// replay the recorded transcripts of testdata/responses, testdata/fixtures and
// testdata/ollama-real; confReadResponses reads what a Responses transcript says,
// independently of the translators. responses_scenarios_test.go adds what only the
// Responses API has.
//
// Wire details decided here:
//   - The Responses client's untranslatable field is store:true (nothing is stored on
//     a translated route: dropped and listed).
//   - A Responses answer's finish is derived as the docs say (docs/protocols.md §15.2):
//     incomplete → "length", a function call in the output → "tool", else "stop".
//   - The Responses upstream's in-band error after content is the recorded text
//     stream's first events (created, in_progress, the message opened, its first
//     delta) followed by the recorded error and response.failed.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"
	"github.com/tidwall/gjson"
)

const responsesPath = "/v1/responses"

func TestResponsesConformance(t *testing.T) {
	client := confResponsesClient()
	respUp := confResponsesProvider()
	chatOnly := confOpenAIProvider()
	chatOnly.name = "openai-chat-api"
	chatOnly.config = confConfigAPIs(chatOnly.config, "[chat, completions]")
	anth, oll := confAnthropicProvider(), confOllamaProvider()
	chatOnly.paths["responses"] = "/v1/chat/completions"
	anth.paths["responses"] = "/v1/messages"
	oll.paths["responses"] = "/api/chat"
	runs := []struct {
		c *confClient
		p *confProvider
	}{
		{client, respUp}, {client, chatOnly}, {client, anth}, {client, oll},
	}
	for _, c := range confClients() {
		runs = append(runs, struct {
			c *confClient
			p *confProvider
		}{c, respUp})
	}
	for _, r := range runs {
		t.Run(r.c.name+"->"+r.p.name, func(t *testing.T) {
			for _, stream := range []bool{false, true} {
				t.Run(map[bool]string{false: "nonstream", true: "stream"}[stream], func(t *testing.T) {
					confRun(t, r.c, r.p, stream)
				})
			}
		})
	}
}

// confConfigAPIs gives every model of a conformance config an apis setting.
func confConfigAPIs(config, apis string) string {
	return strings.ReplaceAll(config, "    provider: openai\n", "    provider: openai\n    apis: "+apis+"\n")
}

// confResponsesProvider is an openai upstream that serves only the Responses API:
// a Responses client's bytes pass through, every other client is translated to it.
func confResponsesProvider() *confProvider {
	const path = responsesPath
	return &confProvider{
		name:       "openai-responses",
		upModel:    "gpt-4o-2024-08-06",
		config:     confConfigAPIs(confConfig("openai", "{{UP}}/v1", "gpt-4o-2024-08-06", "sk-conformance-0123456789abcdef"), "[responses]"),
		paths:      map[string]string{"chat": path, "completions": path, "messages": path, "responses": path},
		streamFlag: func(b []byte) bool { return gjson.GetBytes(b, "stream").Bool() },
		streamType: "text/event-stream; charset=utf-8",
		events:     confSSEEvents,
		read:       confReadResponses,
		text: func(t *testing.T) map[string]confPair {
			return map[string]confPair{path: {fixture(t, "responses/openai-responses-stream-text.sse"),
				fixture(t, "responses/openai-responses-response-text.json")}}
		},
		tools: func(t *testing.T) confPair {
			// The recorded body made other calls than the recorded stream: it
			// carries the stream's, as the openai provider's does (conformance_test.go).
			stream := fixture(t, "responses/openai-responses-stream-parallel-function-calls.sse")
			r := confReadResponses(t, path, stream, true)
			b := fixture(t, "responses/openai-responses-response-parallel-function-calls.json")
			for i, c := range r.ToolCalls {
				b = confSet(t, b, fmt.Sprintf("output.%d.call_id", i), c.ID)
				b = confSet(t, b, fmt.Sprintf("output.%d.name", i), c.Name)
				b = confSet(t, b, fmt.Sprintf("output.%d.arguments", i), confMarshal(t, c.Args))
			}
			b = confSet(t, b, "usage.input_tokens", r.Usage.Input)
			b = confSet(t, b, "usage.output_tokens", r.Usage.Output)
			b = confSet(t, b, "usage.total_tokens", r.Usage.Input+r.Usage.Output)
			return confPair{stream, b}
		},
		results:  []string{"5", "6"},
		followUp: confResponsesFollowUp,
		httpErr: func(t *testing.T) confReply {
			return confReply{status: 400, body: fixture(t, "responses/openai-responses-error-400.json")}
		},
		httpErrMsg: "Invalid 'temperature': decimal below minimum value.",
		inband: func(t *testing.T, first bool) map[string][]byte {
			failed := confSSEEvents(fixture(t, "responses/openai-responses-stream-error-failed.sse"))
			if first { // created, in_progress, error, response.failed
				return map[string][]byte{path: confJoin(failed...)}
			}
			text := confSSEEvents(fixture(t, "responses/openai-responses-stream-text.sse"))
			return map[string][]byte{path: confJoin(text[0], text[1], text[2], text[3], text[4], failed[2], failed[3])}
		},
		inbandMsg: "You exceeded your current quota",
		firstCode: http.StatusTooManyRequests, // insufficient_quota
	}
}

func confResponsesClient() *confClient {
	return &confClient{
		name: "responses", tools: true,
		finish:    map[string]string{"stop": "stop", "length": "length", "tool": "tool"},
		dropped:   "store",
		extraPath: "store",
		send:      confResponsesSend,
		apiError:  confOpenAIError,
	}
}

// confResponsesParams is the Responses request of a conformance ask.
func confResponsesParams(a confAsk) responses.ResponseNewParams {
	input := responses.ResponseInputParam{responses.ResponseInputItemParamOfMessage(confPrompt, responses.EasyInputMessageRoleUser)}
	params := responses.ResponseNewParams{Model: a.Model}
	for _, n := range a.Tools {
		params.Tools = append(params.Tools, responses.ToolUnionParam{OfFunction: &responses.FunctionToolParam{
			Name: n, Parameters: map[string]any{"type": "object", "properties": map[string]any{}}, Strict: openai.Bool(false)}})
	}
	if p := a.Prior; p != nil {
		if p.Text != "" {
			input = append(input, responses.ResponseInputItemParamOfMessage(p.Text, responses.EasyInputMessageRoleAssistant))
		}
		for _, c := range p.Calls {
			args, _ := json.Marshal(c.Args)
			input = append(input, responses.ResponseInputItemParamOfFunctionCall(string(args), c.ID, c.Name))
		}
		for i, c := range p.Calls {
			out := responses.ResponseInputItemParamOfFunctionCallOutput(p.Results[i])
			out.OfFunctionCallOutput.CallID = openai.String(c.ID)
			input = append(input, out)
		}
	}
	params.Input = responses.ResponseNewParamsInputUnion{OfInputItemList: input}
	if a.Extra {
		params.Store = openai.Bool(true)
	}
	return params
}

func confResponsesSend(t *testing.T, base string, a confAsk) confAnswer {
	t.Helper()
	params := confResponsesParams(a)
	var resp *http.Response
	client := openAIClient(base)
	ctx := context.Background()
	if !a.Stream {
		r, err := client.Responses.New(ctx, params, option.WithResponseInto(&resp))
		ans := confAnswer{Err: err, Header: confHeader(resp)}
		if err == nil {
			ans.confResult = confResponseResult(t, r)
		}
		return ans
	}
	stream := client.Responses.NewStreaming(ctx, params, option.WithResponseInto(&resp))
	defer stream.Close()
	l := newRespLifecycle(t)
	for stream.Next() {
		l.event(stream.Current())
	}
	ans := confAnswer{Err: stream.Err(), Header: confHeader(resp)}
	r, failure := l.result()
	ans.confResult = r
	if ans.Err == nil {
		ans.Err = failure
	}
	return ans
}

// confResponseResult reads a response as a client sees it; the finish is
// derived (incomplete → length, a function call → tool, else stop).
func confResponseResult(t *testing.T, r *responses.Response) confResult {
	t.Helper()
	out := confResult{Usage: confUsage{r.Usage.InputTokens, r.Usage.OutputTokens}}
	for _, item := range r.Output {
		switch item.Type {
		case "message":
			for _, c := range item.Content {
				if c.Type == "output_text" {
					out.Text += c.Text
				}
			}
		case "function_call":
			c := confCall{ID: item.CallID, Name: item.Name}
			if args := item.Arguments.OfString; r.Status != "incomplete" || json.Valid([]byte(args)) {
				c.Args = confObject(t, args) // a call cut by the output limit may end mid-arguments
			}
			out.ToolCalls = append(out.ToolCalls, c)
		}
	}
	switch {
	case r.Status == "incomplete":
		out.Finish = "length"
	case len(out.ToolCalls) > 0:
		out.Finish = "tool"
	case r.Status == "completed":
		out.Finish = "stop"
	}
	return out
}

// respLifecycle follows a Responses stream as a client reads it: sequence
// numbers from 0 without gaps, every item added before its events and done
// before the next is added, the deltas of an item agreeing with its done
// event, the SDK's ResponseAccumulator taking every event, and exactly one
// terminal event whose output lists the items done.
type respLifecycle struct {
	t        *testing.T
	seq      int64
	open     int64 // output_index of the open item; -1 when none
	openID   string
	said     strings.Builder // deltas of the open item
	text     strings.Builder // every output_text delta
	done     []responses.ResponseOutputItemUnion
	terminal *responses.Response
	failure  error
	acc      responses.ResponseAccumulator
	types    []string
}

func newRespLifecycle(t *testing.T) *respLifecycle { return &respLifecycle{t: t, open: -1} }

func (l *respLifecycle) event(ev responses.ResponseStreamEventUnion) {
	t := l.t
	t.Helper()
	l.types = append(l.types, ev.Type)
	if ev.SequenceNumber != l.seq {
		t.Errorf("%s: sequence_number %d, want %d (events %v)", ev.Type, ev.SequenceNumber, l.seq, l.types)
	}
	l.seq = ev.SequenceNumber + 1
	if l.terminal != nil || l.failure != nil && ev.Type != "response.failed" {
		t.Errorf("%s after the end of the stream", ev.Type)
	}
	var server responses.ResponsesServerEventUnion
	if err := json.Unmarshal([]byte(ev.RawJSON()), &server); err != nil {
		t.Errorf("%s does not parse as a server event: %v", ev.Type, err)
	} else if err := l.acc.AddEvent(server); err != nil && ev.Type != "error" {
		t.Errorf("the SDK's ResponseAccumulator refused %s: %v", ev.Type, err)
	}
	switch ev.Type {
	case "response.output_item.added":
		if l.open >= 0 {
			t.Errorf("item %d added while item %d is open", ev.OutputIndex, l.open)
		}
		l.open, l.openID = ev.OutputIndex, ev.Item.ID
		l.said.Reset()
	case "response.output_item.done":
		l.itemDone(ev)
	case "response.output_text.delta", "response.function_call_arguments.delta", "response.custom_tool_call_input.delta",
		"response.reasoning_summary_text.delta":
		if ev.OutputIndex != l.open || ev.ItemID != l.openID {
			t.Errorf("%s for item %d %s, open %d %s", ev.Type, ev.OutputIndex, ev.ItemID, l.open, l.openID)
		}
		l.said.WriteString(ev.Delta)
		if ev.Type == "response.output_text.delta" {
			l.text.WriteString(ev.Delta)
		}
	case "response.completed", "response.incomplete":
		r := ev.Response
		l.terminal = &r
	case "error":
		l.failure = fmt.Errorf("stream failed: %s (code %s)", ev.Message, ev.Code)
	case "response.failed":
		if l.failure == nil {
			t.Errorf("response.failed without an error event before it")
			l.failure = fmt.Errorf("stream failed: %s", ev.Response.Error.Message)
		}
	}
}

func (l *respLifecycle) itemDone(ev responses.ResponseStreamEventUnion) {
	t := l.t
	if ev.OutputIndex != l.open || ev.Item.ID != l.openID {
		t.Errorf("output_item.done for item %d %s, open %d %s", ev.OutputIndex, ev.Item.ID, l.open, l.openID)
	}
	var whole string
	switch ev.Item.Type {
	case "function_call":
		whole = ev.Item.Arguments.OfString
	case "custom_tool_call":
		whole = ev.Item.Input
	case "message":
		for _, c := range ev.Item.Content {
			whole += c.Text
		}
	case "reasoning":
		for _, s := range ev.Item.Summary {
			whole += s.Text
		}
	}
	if whole != l.said.String() {
		t.Errorf("output_item.done %s holds %q, its deltas said %q", ev.Item.Type, whole, l.said.String())
	}
	l.done = append(l.done, ev.Item)
	l.open = -1
}

// result is what the stream said: the terminal response's answer, checked
// against the items done and the text deltas, or the failure that ended it
// (with the text said before it).
func (l *respLifecycle) result() (confResult, error) {
	t := l.t
	if l.failure != nil {
		if last := l.types[len(l.types)-1]; last != "response.failed" {
			t.Errorf("a failed stream ends with %s, want response.failed after the error event", last)
		}
		return confResult{Text: l.text.String()}, l.failure
	}
	if l.terminal == nil {
		return confResult{Text: l.text.String()}, nil // the SDK's error says why
	}
	if len(l.terminal.Output) != len(l.done) {
		t.Errorf("terminal response lists %d items, %d were done", len(l.terminal.Output), len(l.done))
	}
	for i := range min(len(l.done), len(l.terminal.Output)) {
		if a, b := l.done[i], l.terminal.Output[i]; a.ID != b.ID || a.Type != b.Type {
			t.Errorf("terminal output[%d] is %s %s, done was %s %s", i, b.Type, b.ID, a.Type, a.ID)
		}
	}
	if _, err := l.acc.ReconstructedResponse(); err != nil {
		t.Errorf("the SDK's accumulator: %v", err)
	}
	r := confResponseResult(t, l.terminal)
	if r.Text != l.text.String() {
		t.Errorf("terminal text %q, deltas %q", r.Text, l.text.String())
	}
	return r, nil
}

// confReadResponses reads a recorded Responses body or stream, as the client
// should see it: a stream's text is its output_text deltas, its calls and
// finish come from the items done and the terminal event.
func confReadResponses(t *testing.T, _ string, body []byte, stream bool) confResult {
	t.Helper()
	read := func(resp gjson.Result, r *confResult) {
		for _, item := range resp.Get("output").Array() {
			if item.Get("type").String() == "function_call" {
				r.ToolCalls = append(r.ToolCalls, confCall{ID: item.Get("call_id").String(), Name: item.Get("name").String(),
					Args: confObject(t, item.Get("arguments").String())})
			}
		}
		r.Usage = confUsage{resp.Get("usage.input_tokens").Int(), resp.Get("usage.output_tokens").Int()}
		switch {
		case resp.Get("status").String() == "incomplete":
			r.Finish = "length"
		case len(r.ToolCalls) > 0:
			r.Finish = "tool"
		case resp.Get("status").String() == "completed":
			r.Finish = "stop"
		}
	}
	var r confResult
	if !stream {
		v := gjson.ParseBytes(body)
		read(v, &r)
		for _, item := range v.Get("output").Array() {
			for _, c := range item.Get("content").Array() {
				if c.Get("type").String() == "output_text" {
					r.Text += c.Get("text").String()
				}
			}
		}
		return r
	}
	for _, line := range strings.Split(string(body), "\n") {
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			continue
		}
		v := gjson.Parse(data)
		switch v.Get("type").String() {
		case "response.output_text.delta":
			r.Text += v.Get("delta").String()
		case "response.completed", "response.incomplete":
			read(v.Get("response"), &r)
		}
	}
	return r
}

// confResponsesFollowUp wants [user, assistant message?, function_call…,
// function_call_output…]: the calls by call_id with JSON-string arguments, each
// output answering one.
func confResponsesFollowUp(t *testing.T, body []byte) confFollowUp {
	var f confFollowUp
	items := gjson.GetBytes(body, "input").Array()
	if len(items) < 3 || items[0].Get("role").String() != "user" {
		t.Errorf("want [user, assistant?, function_call…, function_call_output…], got: %s", gjson.GetBytes(body, "input").Raw)
		return f
	}
	names := map[string]string{}
	for _, item := range items[1:] {
		switch typ := item.Get("type").String(); {
		case typ == "function_call":
			args := item.Get("arguments")
			if args.Type != gjson.String {
				t.Errorf("function_call arguments are %s, want a JSON string", args.Raw)
			}
			c := confCall{ID: item.Get("call_id").String(), Name: item.Get("name").String(), Args: confObject(t, args.String())}
			names[c.ID] = c.Name
			f.Calls = append(f.Calls, c)
		case typ == "function_call_output":
			id := item.Get("call_id").String()
			f.Results = append(f.Results, confToolResult{ID: id, Name: names[id], Content: confText(item.Get("output"))})
		case item.Get("role").String() == "assistant" && len(f.Calls) == 0:
			f.Text += confText(item.Get("content"))
		default:
			t.Errorf("unexpected input item %s", item.Raw)
		}
	}
	return f
}
