package translate

// The output items of a Responses stream (encode_responses.go): the one item
// open at a time, its events as fragments arrive, and its done events.

import (
	"strings"

	"github.com/llmrouter/llmrouter/internal/responses"
)

// respOpenItem is the output item being written; kind 0 when none is open.
type respOpenItem struct {
	kind  itemKind // itemMessage, itemReasoning or itemCall
	index int      // output_index
	id    string
	text  strings.Builder // the open part's text, the reasoning, the arguments
	// message
	part     string // type of the open part ("" when none): output_text or refusal
	parts    []any  // the message's done parts
	summary  bool   // reasoning: the summary part was added
	sig      string // reasoning: its signature
	tool     int    // call: the hub's tool number
	callID   string // call
	name     string // call
	custom   bool   // call: a custom tool's
	input    customInput
	streamed strings.Builder // custom call: the input sent in deltas
}

// open closes the open item and adds a new one of kind with item (its empty
// form) as output_item.added.
func (e *responsesEncoder) open(o *out, kind itemKind, prefix string, item func(id string) any) {
	e.close(o)
	it := &e.item
	*it = respOpenItem{kind: kind, index: len(e.output), id: o.env.newID(prefix), parts: it.parts[:0]}
	e.emit(o, responses.EventOutputItemAdded, &responses.ItemEvent{Type: responses.EventOutputItemAdded,
		OutputIndex: it.index, Item: item(it.id), SequenceNumber: e.seq})
}

// done closes the open item with its final form, as output_item.done.
func (e *responsesEncoder) done(o *out, item any) {
	e.emit(o, responses.EventOutputItemDone, &responses.ItemEvent{Type: responses.EventOutputItemDone,
		OutputIndex: e.item.index, Item: item, SequenceNumber: e.seq})
	e.output = append(e.output, item)
	e.item.kind = 0
}

// status is a done message's or call's status: incomplete when the output
// token limit cut it.
func (e *responsesEncoder) status() string {
	if e.finish == finishLength {
		return responses.StatusIncomplete
	}
	return responses.StatusCompleted
}

// close closes the open item, if any.
func (e *responsesEncoder) close(o *out) {
	switch e.item.kind {
	case itemMessage:
		e.closePart(o)
		e.done(o, responses.OutputMessage{ID: e.item.id, Type: responses.ItemMessage, Status: e.status(),
			Content: append([]any(nil), e.item.parts...), Role: "assistant"})
	case itemReasoning:
		e.closeReasoning(o)
	case itemCall:
		e.closeCall(o)
	}
}

// text appends a fragment of output_text or refusal (typ) to the message,
// opening the message and the part when needed.
func (e *responsesEncoder) text(o *out, typ, s string) {
	if s == "" || !e.keep(o, len(s)) {
		return
	}
	it := &e.item
	if it.kind != itemMessage {
		e.open(o, itemMessage, "msg_", func(id string) any {
			return responses.OutputMessage{ID: id, Type: responses.ItemMessage, Status: responses.StatusInProgress,
				Content: []any{}, Role: "assistant"}
		})
	}
	if it.part != typ {
		e.closePart(o)
		it.part = typ
		var part any = outputText("")
		if typ == responses.PartRefusal {
			part = responses.Refusal{Type: typ}
		}
		e.emit(o, responses.EventContentPartAdded, &responses.PartEvent{Type: responses.EventContentPartAdded,
			ItemID: it.id, OutputIndex: it.index, ContentIndex: len(it.parts), Part: part, SequenceNumber: e.seq})
	}
	it.text.WriteString(s)
	if typ == responses.PartRefusal {
		e.emit(o, responses.EventRefusalDelta, &responses.RefusalDeltaEvent{Type: responses.EventRefusalDelta,
			ItemID: it.id, OutputIndex: it.index, ContentIndex: len(it.parts), Delta: s, SequenceNumber: e.seq})
		return
	}
	e.emit(o, responses.EventOutputTextDelta, &responses.TextDeltaEvent{Type: responses.EventOutputTextDelta,
		ItemID: it.id, OutputIndex: it.index, ContentIndex: len(it.parts), Delta: s, Logprobs: []any{}, SequenceNumber: e.seq})
}

// closePart closes the message's open part: its text or refusal done event,
// then content_part.done.
func (e *responsesEncoder) closePart(o *out) {
	it := &e.item
	if it.part == "" {
		return
	}
	s, ci := it.text.String(), len(it.parts)
	var part any
	if it.part == responses.PartRefusal {
		part = responses.Refusal{Type: it.part, Refusal: s}
		e.emit(o, responses.EventRefusalDone, &responses.RefusalDoneEvent{Type: responses.EventRefusalDone,
			ItemID: it.id, OutputIndex: it.index, ContentIndex: ci, Refusal: s, SequenceNumber: e.seq})
	} else {
		part = outputText(s)
		e.emit(o, responses.EventOutputTextDone, &responses.TextDoneEvent{Type: responses.EventOutputTextDone,
			ItemID: it.id, OutputIndex: it.index, ContentIndex: ci, Text: s, Logprobs: []any{}, SequenceNumber: e.seq})
	}
	e.emit(o, responses.EventContentPartDone, &responses.PartEvent{Type: responses.EventContentPartDone,
		ItemID: it.id, OutputIndex: it.index, ContentIndex: ci, Part: part, SequenceNumber: e.seq})
	it.parts = append(it.parts, part)
	it.part = ""
	it.text.Reset()
}

// openReasoning adds a reasoning item.
func (e *responsesEncoder) openReasoning(o *out) {
	e.open(o, itemReasoning, "rs_", func(id string) any {
		return responses.ReasoningItem{ID: id, Type: responses.ItemReasoning, Summary: []responses.SummaryText{}}
	})
}

// reasoning appends a fragment of reasoning to the open reasoning item, as its
// summary; a signed block is done, so the next fragment opens another item.
func (e *responsesEncoder) reasoning(o *out, s string) {
	it := &e.item
	if it.kind != itemReasoning || it.sig != "" {
		e.openReasoning(o)
	}
	if s == "" || !e.keep(o, len(s)) {
		return
	}
	if !it.summary {
		it.summary = true
		e.emit(o, responses.EventSummaryPartAdded, &responses.SummaryPartEvent{Type: responses.EventSummaryPartAdded,
			ItemID: it.id, OutputIndex: it.index, Part: responses.SummaryText{Type: responses.PartSummaryText}, SequenceNumber: e.seq})
	}
	it.text.WriteString(s)
	e.emit(o, responses.EventSummaryTextDelta, &responses.SummaryDeltaEvent{Type: responses.EventSummaryTextDelta,
		ItemID: it.id, OutputIndex: it.index, Delta: s, SequenceNumber: e.seq})
}

// signature records the signature of the open reasoning (a lone signature gets
// an item of its own).
func (e *responsesEncoder) signature(o *out, sig string) {
	if e.item.kind != itemReasoning || e.item.sig != "" {
		e.openReasoning(o)
	}
	if e.keep(o, len(sig)) {
		e.item.sig += sig
	}
}

// redacted adds an encrypted block of reasoning as an item of its own, whole,
// when it can be carried back; otherwise the client has no use for it.
func (e *responsesEncoder) redacted(o *out, data string) {
	e.close(o)
	if !e.carry || data == "" || !e.keep(o, len(data)) {
		return
	}
	e.openReasoning(o)
	e.done(o, e.reasoningItem(e.item.id, data, "", true))
}

// closeReasoning closes the open reasoning item: the summary part's done
// events when it has text, then the item.
func (e *responsesEncoder) closeReasoning(o *out) {
	it := &e.item
	s := it.text.String()
	if it.summary {
		e.emit(o, responses.EventSummaryTextDone, &responses.SummaryDoneEvent{Type: responses.EventSummaryTextDone,
			ItemID: it.id, OutputIndex: it.index, Text: s, SequenceNumber: e.seq})
		e.emit(o, responses.EventSummaryPartDone, &responses.SummaryPartEvent{Type: responses.EventSummaryPartDone,
			ItemID: it.id, OutputIndex: it.index, Part: responses.SummaryText{Type: responses.PartSummaryText, Text: s},
			SequenceNumber: e.seq})
	}
	e.done(o, e.reasoningItem(it.id, s, it.sig, false))
	it.text.Reset()
}

// openCall adds a function call, or a custom tool call for a custom tool's name.
func (e *responsesEncoder) openCall(o *out, d *delta) {
	custom := e.customs[d.name]
	callID := o.env.id(d.id, "call_")
	prefix := "fc_"
	if custom {
		prefix = "ctc_"
	}
	e.open(o, itemCall, prefix, func(id string) any {
		if custom {
			return responses.CustomToolCall{ID: id, Type: responses.ItemCustomToolCall, Status: responses.StatusInProgress,
				CallID: callID, Name: d.name}
		}
		return responses.FunctionCall{ID: id, Type: responses.ItemFunctionCall, Status: responses.StatusInProgress,
			CallID: callID, Name: d.name}
	})
	it := &e.item
	it.tool, it.callID, it.name, it.custom = d.tool, callID, d.name, custom
	e.arguments(o, d.text)
}

// arguments appends a fragment of the open call's arguments: as they are for a
// function, as the input they carry for a custom tool.
func (e *responsesEncoder) arguments(o *out, s string) {
	it := &e.item
	if s == "" || !e.keep(o, len(s)) {
		return
	}
	it.text.WriteString(s)
	if !it.custom {
		e.emit(o, responses.EventArgumentsDelta, &responses.DeltaEvent{Type: responses.EventArgumentsDelta,
			ItemID: it.id, OutputIndex: it.index, Delta: s, SequenceNumber: e.seq})
		return
	}
	e.inputDelta(o, it.input.feed(s))
}

// inputDelta sends a fragment of a custom tool call's input.
func (e *responsesEncoder) inputDelta(o *out, s string) {
	it := &e.item
	if s == "" {
		return
	}
	it.streamed.WriteString(s)
	e.emit(o, responses.EventCustomInputDelta, &responses.DeltaEvent{Type: responses.EventCustomInputDelta,
		ItemID: it.id, OutputIndex: it.index, Delta: s, SequenceNumber: e.seq})
}

// closeCall closes the open call: what its deltas said is what its done events
// say. Empty arguments are {} (a client parses them); a custom call's input read
// at the end, when its arguments were not {"input": "…"}, goes in one delta.
func (e *responsesEncoder) closeCall(o *out) {
	it := &e.item
	if !it.custom {
		if it.text.Len() == 0 {
			e.arguments(o, "{}")
		}
		args := it.text.String()
		e.emit(o, responses.EventArgumentsDone, &responses.ArgumentsDoneEvent{Type: responses.EventArgumentsDone,
			ItemID: it.id, OutputIndex: it.index, Arguments: args, SequenceNumber: e.seq})
		e.done(o, responses.FunctionCall{ID: it.id, Type: responses.ItemFunctionCall, Status: e.status(),
			Arguments: args, CallID: it.callID, Name: it.name})
		return
	}
	if !it.input.streamed() {
		e.inputDelta(o, customInputOf(it.text.String()))
	}
	input := it.streamed.String()
	e.emit(o, responses.EventCustomInputDone, &responses.InputDoneEvent{Type: responses.EventCustomInputDone,
		ItemID: it.id, OutputIndex: it.index, Input: input, SequenceNumber: e.seq})
	e.done(o, responses.CustomToolCall{ID: it.id, Type: responses.ItemCustomToolCall, Status: e.status(),
		CallID: it.callID, Input: input, Name: it.name})
}
