package translate

// The OpenAI Responses decoder (docs/protocols.md §15.2-15.3): a response object, or the SSE
// events of a stream, into the hub's reply and deltas, for Chat, Completions and
// Anthropic clients of an endpoint that serves only the Responses API.
//
// Items are addressed by output_index (OpenRouter changes item ids between
// events, docs/protocols.md §15.3). Reasoning summaries and reasoning text are reasoning;
// a custom tool call, which a client of another API never declared, becomes a
// call whose arguments are {"input": …} (the form a custom tool takes as a
// function, responses_request.go). An item said only in output_item.done (no
// deltas, which some servers do) is said there. Hosted tool items (web search,
// …) have no place in the hub and are left out; so are encrypted_content and
// annotations.

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/llmrouter/llmrouter/internal/responses"
	"github.com/llmrouter/llmrouter/internal/sse"
	"github.com/llmrouter/llmrouter/internal/wire"
)

// responsesDecoder holds the usage, the items open and the stream's state:
// constant memory however long the stream (at most maxToolIndex open items and
// started calls are remembered).
type responsesDecoder struct {
	counts  responses.Usage
	started bool
	stopped bool
	calls   int                        // tool calls started so far
	items   map[int64]*respDecodedItem // the items added and not yet done, by output_index
	tools   map[int64]int              // output_index → tool number, for the calls started
}

// respDecodedItem is what is known of an open item. Items are usually done one
// after the other, but not always (OpenRouter keeps a reasoning item open over
// the message after it).
type respDecodedItem struct {
	said   bool   // a delta of it was decoded
	source string // reasoning: "summary" or "text", whichever came first
	parts  int64  // reasoning: summary parts added
}

// item is the state of open item index: made when unknown (an event before its
// item's added), and not kept past maxToolIndex open items.
func (d *responsesDecoder) item(index int64) *respDecodedItem {
	if it, ok := d.items[index]; ok {
		return it
	}
	it := new(respDecodedItem)
	if d.items == nil {
		d.items = map[int64]*respDecodedItem{}
	}
	if len(d.items) < maxToolIndex {
		d.items[index] = it
	}
	return it
}

func responsesShape(format string, args ...any) error {
	return &ShapeError{Protocol: wire.OpenAIResponses, Reason: fmt.Sprintf(format, args...)}
}

// responsesObject checks that data is a JSON object and not an error: an error
// body, an `error` event or a failed response is a *StreamError.
func responsesObject(data []byte) (gjson.Result, error) {
	r, err := answerObject(wire.OpenAIResponses, data)
	if err != nil {
		return r, err
	}
	if e := r.Get("error"); e.IsObject() {
		return r, &StreamError{Type: cmpOr(e.Get("type").String(), e.Get("code").String()),
			Message: cmpOr(e.Get("message").String(), e.Raw)}
	}
	return r, nil
}

// reply implements decoder: the output's messages, reasoning and calls.
func (d *responsesDecoder) reply(body []byte) (reply, error) {
	r, err := responsesObject(body)
	if err != nil {
		return reply{}, err
	}
	output := r.Get("output")
	if !output.IsArray() {
		return reply{}, responsesShape("no output array")
	}
	var out reply
	var text, refusal, reasoning strings.Builder
	output.ForEach(func(_, it gjson.Result) bool {
		switch it.Get("type").String() {
		case responses.ItemMessage:
			out.hasText = true
			it.Get("content").ForEach(func(_, p gjson.Result) bool {
				text.WriteString(p.Get("text").String())
				refusal.WriteString(p.Get("refusal").String())
				return true
			})
		case responses.ItemReasoning:
			reasoning.WriteString(reasoningText(it))
		case responses.ItemFunctionCall, responses.ItemCustomToolCall:
			out.tools = append(out.tools, toolCall{id: it.Get("call_id").String(), name: it.Get("name").String(),
				args: callArguments(it)})
		}
		return true
	})
	if u := r.Get("usage"); u.IsObject() {
		d.counts = responses.ParseUsage(u.Raw)
	}
	out.id, out.model, out.created = r.Get("id").String(), r.Get("model").String(), r.Get("created_at").Int()
	out.text, out.refusal, out.reasoning = text.String(), refusal.String(), reasoning.String()
	out.finish = finishOfResponse(r, len(out.tools) > 0)
	out.usage, out.cache = d.usage(), true
	return out, nil
}

// reasoningText is a reasoning item's summary texts (else its reasoning
// texts), joined with a blank line.
func reasoningText(it gjson.Result) string {
	var texts []string
	for _, key := range []string{"summary", "content"} {
		it.Get(key).ForEach(func(_, p gjson.Result) bool {
			texts = append(texts, p.Get("text").String())
			return true
		})
		if len(texts) > 0 {
			break
		}
	}
	return strings.Join(texts, "\n\n")
}

// callArguments is a call item's arguments: a function call's as they are ({}
// when empty), a custom tool call's input as {"input": …}.
func callArguments(it gjson.Result) string {
	if it.Get("type").String() == responses.ItemCustomToolCall {
		return customArgs(it.Get("input").String())
	}
	return cmpOr(it.Get("arguments").String(), "{}")
}

// finishOfResponse reads why a response stopped (docs/protocols.md §15.2: it must be
// derived): incomplete for the output limit or a filter, else tool calls when
// the output has some, else a stop.
func finishOfResponse(r gjson.Result, tools bool) finish {
	if r.Get("status").String() == responses.StatusIncomplete {
		if r.Get("incomplete_details.reason").String() == responses.ReasonContentFilter {
			return finishContentFilter
		}
		return finishLength
	}
	if tools {
		return finishToolCalls
	}
	return finishStop
}

// done implements decoder.
func (d *responsesDecoder) done() bool { return d.stopped }

// usage implements decoder.
func (d *responsesDecoder) usage() Usage { return newUsage(d.counts.Tokens()) }

// next implements decoder. An `error` event or response.failed is a
// *StreamError; events of types it does not know carry nothing.
func (d *responsesDecoder) next(ds []delta, ev sse.Event) ([]delta, error) {
	data := bytes.TrimSpace(ev.Data)
	if d.stopped || len(data) == 0 || bytes.Equal(data, doneData) { // OpenRouter's [DONE]
		return ds, nil
	}
	r, err := responsesObject(data) // {"error": {…}}, as the recorded error event has it
	if err != nil {
		return ds, err
	}
	typ := cmpOr(r.Get("type").String(), ev.Name)
	switch typ {
	case "":
		return ds, responsesShape("event without a type")
	case responses.EventError, responses.EventFailed: // the spec's error event, response.failed
		code, msg, _ := responses.ParseEventError(typ, data)
		return ds, &StreamError{Type: code, Message: msg}
	}
	if !d.started {
		d.started = true
		resp := r.Get("response")
		ds = append(ds, delta{kind: kindStart, id: resp.Get("id").String(), model: resp.Get("model").String(),
			created: resp.Get("created_at").Int(), cache: true})
	}
	return d.event(ds, typ, r)
}

// event decodes one event of type typ.
func (d *responsesDecoder) event(ds []delta, typ string, r gjson.Result) ([]delta, error) {
	switch typ {
	case responses.EventOutputItemAdded:
		return d.added(ds, r.Get("output_index").Int(), r.Get("item")), nil
	case responses.EventOutputItemDone:
		return d.itemDone(ds, r.Get("output_index").Int(), r.Get("item")), nil
	case responses.EventOutputTextDelta:
		return d.said(ds, kindText, d.item(r.Get("output_index").Int()), r), nil
	case responses.EventRefusalDelta:
		return d.said(ds, kindRefusal, d.item(r.Get("output_index").Int()), r), nil
	case responses.EventSummaryTextDelta, responses.EventReasoningTextDelta:
		return d.reasoning(ds, typ, r), nil
	case responses.EventSummaryPartAdded:
		return d.summaryPart(ds, r), nil
	case responses.EventArgumentsDelta, responses.EventCustomInputDelta:
		return d.arguments(ds, typ, r), nil
	case responses.EventCompleted, responses.EventIncomplete:
		return d.end(ds, r.Get("response")), nil
	}
	return ds, nil
}

// said appends a text, refusal or reasoning fragment of item it.
func (d *responsesDecoder) said(ds []delta, k kind, it *respDecodedItem, r gjson.Result) []delta {
	s := r.Get("delta").String()
	if s == "" {
		return ds
	}
	it.said = true
	return append(ds, delta{kind: k, text: s})
}

// reasoning appends a fragment of reasoning: summary text, or reasoning text,
// whichever the item said first (a server may say both).
func (d *responsesDecoder) reasoning(ds []delta, typ string, r gjson.Result) []delta {
	source := "text"
	if typ == responses.EventSummaryTextDelta {
		source = "summary"
	}
	it := d.item(r.Get("output_index").Int())
	if it.source != "" && it.source != source {
		return ds
	}
	it.source = source
	return d.said(ds, kindReasoning, it, r)
}

// summaryPart separates the parts of a summary with a blank line.
func (d *responsesDecoder) summaryPart(ds []delta, r gjson.Result) []delta {
	it := d.item(r.Get("output_index").Int())
	it.parts++
	if it.parts > 1 && it.source == "summary" {
		return append(ds, delta{kind: kindReasoning, text: "\n\n"})
	}
	return ds
}

// added starts an item: a call starts a tool call.
func (d *responsesDecoder) added(ds []delta, index int64, it gjson.Result) []delta {
	typ := it.Get("type").String()
	d.item(index)
	if typ != responses.ItemFunctionCall && typ != responses.ItemCustomToolCall {
		return ds
	}
	return d.startCall(ds, index, it, false)
}

// startCall starts tool call it; whole says it is done (its arguments are all
// there).
func (d *responsesDecoder) startCall(ds []delta, index int64, it gjson.Result, whole bool) []delta {
	if _, dup := d.tools[index]; dup || len(d.tools) >= maxToolIndex {
		return ds
	}
	if d.tools == nil {
		d.tools = map[int64]int{}
	}
	tool := d.calls
	d.calls++
	d.tools[index] = tool
	args := it.Get("arguments").String()
	if it.Get("type").String() == responses.ItemCustomToolCall {
		args = `{"` + customParam + `":"` // the input's escaped fragments follow, then "}
	}
	if whole {
		args = callArguments(it)
	}
	st := d.item(index)
	st.said = st.said || whole || args != "" && it.Get("type").String() == responses.ItemFunctionCall
	return append(ds, delta{kind: kindToolCall, tool: tool, id: it.Get("call_id").String(), name: it.Get("name").String(), text: args})
}

// arguments appends a fragment of a call's arguments, or of a custom call's
// input, escaped as a JSON string's content.
func (d *responsesDecoder) arguments(ds []delta, typ string, r gjson.Result) []delta {
	index := r.Get("output_index").Int()
	tool, ok := d.tools[index]
	s := r.Get("delta").String()
	if !ok || s == "" {
		return ds
	}
	d.item(index).said = true
	if typ == responses.EventCustomInputDelta {
		s = jsonStringContent(s)
	}
	return append(ds, delta{kind: kindToolArgs, tool: tool, text: s})
}

// jsonStringContent is s as the content of a JSON string, without the quotes.
func jsonStringContent(s string) string {
	b, _ := marshal("string", s) // a string always encodes
	return string(b[1 : len(b)-1])
}

// itemDone ends an item: what was not said in deltas is said now, and a custom
// call's arguments are closed.
func (d *responsesDecoder) itemDone(ds []delta, index int64, it gjson.Result) []delta {
	typ := it.Get("type").String()
	st, ok := d.items[index]
	said := ok && st.said
	delete(d.items, index)
	switch typ {
	case responses.ItemMessage:
		if !said {
			ds = d.wholeMessage(ds, it)
		}
	case responses.ItemReasoning:
		if s := reasoningText(it); !said && s != "" {
			ds = append(ds, delta{kind: kindReasoning, text: s})
		}
	case responses.ItemFunctionCall, responses.ItemCustomToolCall:
		ds = d.callDone(ds, index, it, said)
	}
	return ds
}

// wholeMessage says a message that came without deltas.
func (d *responsesDecoder) wholeMessage(ds []delta, it gjson.Result) []delta {
	it.Get("content").ForEach(func(_, p gjson.Result) bool {
		if s := p.Get("text").String(); s != "" {
			ds = append(ds, delta{kind: kindText, text: s})
		}
		if s := p.Get("refusal").String(); s != "" {
			ds = append(ds, delta{kind: kindRefusal, text: s})
		}
		return true
	})
	return ds
}

// callDone says a call's arguments that came without deltas, and closes a
// custom call's {"input": "….
func (d *responsesDecoder) callDone(ds []delta, index int64, it gjson.Result, said bool) []delta {
	tool, ok := d.tools[index]
	if !ok {
		return d.startCall(ds, index, it, true)
	}
	custom := it.Get("type").String() == responses.ItemCustomToolCall
	switch {
	case custom && !said:
		ds = append(ds, delta{kind: kindToolArgs, tool: tool, text: jsonStringContent(it.Get("input").String()) + `"}`})
	case custom:
		ds = append(ds, delta{kind: kindToolArgs, tool: tool, text: `"}`})
	case !said:
		ds = append(ds, delta{kind: kindToolArgs, tool: tool, text: it.Get("arguments").String()})
	}
	return ds
}

// end reads the terminal response: the finish and the usage.
func (d *responsesDecoder) end(ds []delta, resp gjson.Result) []delta {
	d.stopped = true
	if u := resp.Get("usage"); u.IsObject() {
		d.counts = responses.ParseUsage(u.Raw)
	}
	return append(ds, delta{kind: kindFinish, finish: finishOfResponse(resp, d.calls > 0)},
		delta{kind: kindDone, usage: d.usage(), cache: true})
}
