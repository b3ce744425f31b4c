package translate

// The judge of every Responses stream and body the encoder writes: each event
// must parse as the official SDK's ResponseStreamEventUnion (and feed its
// ResponseAccumulator), the whole must follow the lifecycle of the API's own
// streams, and the terminal response must parse as the SDK's Response and agree
// with what the events said.

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	sdk "github.com/openai/openai-go/v3/responses"
	"github.com/tidwall/gjson"

	"github.com/llmrouter/llmrouter/internal/responses"
)

// lifecycle is the state checkResponsesStream keeps: the open item and part,
// and what their deltas said.
type lifecycle struct {
	t        testing.TB
	seq      int64
	items    []string // ids of the items added, by output_index
	open     int      // output_index of the open item; -1 when none
	openType string
	part     int // content_index (or summary_index) of the open part; -1 when none
	said     strings.Builder
	done     []json.RawMessage // items of output_item.done, by output_index
	terminal string
	final    *sdk.Response
	acc      sdk.ResponseAccumulator
}

// checkResponsesStream checks a Responses stream's bytes and returns its
// terminal response (nil when the stream ended without one: a failure).
func checkResponsesStream(t testing.TB, out []byte) *sdk.Response {
	t.Helper()
	l := &lifecycle{t: t, open: -1, part: -1}
	evs := sseEvents(t, out)
	if len(evs) < 2 {
		t.Fatalf("a Responses stream of %d events:\n%s", len(evs), out)
	}
	for i, ev := range evs {
		var u sdk.ResponseStreamEventUnion
		if err := json.Unmarshal(ev.Data, &u); err != nil {
			t.Fatalf("event %d does not parse as the SDK's ResponseStreamEventUnion: %v\n%s", i, err, ev.Data)
		}
		if ev.Name != u.Type {
			t.Errorf("event %d: event: %s, data type %s", i, ev.Name, u.Type)
		}
		l.accumulate(ev.Data)
		l.event(i, &u, ev.Data)
	}
	if l.terminal != "" && l.terminal != responses.EventFailed && l.open >= 0 {
		t.Errorf("item %d still open at %s", l.open, l.terminal) // a failure may cut an item short
	}
	return l.final
}

// accumulate feeds the SDK's accumulator, which refuses events out of place.
func (l *lifecycle) accumulate(data []byte) {
	var e sdk.ResponsesServerEventUnion
	if err := json.Unmarshal(data, &e); err != nil {
		l.t.Fatalf("event does not parse as ResponsesServerEventUnion: %v", err)
	}
	if err := l.acc.AddEvent(e); err != nil && e.Type != responses.EventError {
		l.t.Errorf("the SDK's accumulator refused %s: %v", e.Type, err)
	}
}

func (l *lifecycle) event(i int, u *sdk.ResponseStreamEventUnion, data []byte) {
	t := l.t
	t.Helper()
	if u.SequenceNumber != l.seq {
		t.Errorf("event %d (%s): sequence_number %d, want %d", i, u.Type, u.SequenceNumber, l.seq)
	}
	l.seq = u.SequenceNumber + 1
	if l.terminal != "" {
		t.Errorf("event %d (%s) after the terminal %s", i, u.Type, l.terminal)
	}
	switch {
	case i < 2:
		want := []string{responses.EventCreated, responses.EventInProgress}[i]
		if u.Type != want || u.Response.Status != "in_progress" || len(u.Response.Output) != 0 {
			t.Errorf("event %d: %s status %s, want %s in_progress with no output", i, u.Type, u.Response.Status, want)
		}
	case u.Type == responses.EventOutputItemAdded:
		l.added(u)
	case u.Type == responses.EventOutputItemDone:
		l.itemDone(u, data)
	case responses.IsTerminal(u.Type):
		l.end(u, data)
	case u.Type == responses.EventError:
		if u.Message == "" {
			t.Errorf("error event without a message: %s", data)
		}
	default:
		l.inItem(u)
	}
}

func (l *lifecycle) added(u *sdk.ResponseStreamEventUnion) {
	t := l.t
	if l.open >= 0 {
		t.Errorf("item %d added while item %d is open", u.OutputIndex, l.open)
	}
	if int(u.OutputIndex) != len(l.items) {
		t.Errorf("item added at output_index %d, want %d", u.OutputIndex, len(l.items))
	}
	for _, id := range l.items {
		if id == u.Item.ID {
			t.Errorf("item id %s added twice", id)
		}
	}
	if u.Item.ID == "" {
		t.Errorf("item %d added without an id", u.OutputIndex)
	}
	l.items = append(l.items, u.Item.ID)
	l.open, l.openType, l.part = int(u.OutputIndex), u.Item.Type, -1
	l.said.Reset()
}

// inItem checks an event inside the open item: its address, and that a done
// event repeats what the deltas said.
func (l *lifecycle) inItem(u *sdk.ResponseStreamEventUnion) {
	t := l.t
	if l.open < 0 || int(u.OutputIndex) != l.open || u.ItemID != l.items[l.open] {
		t.Errorf("%s for item %d (%s) outside the open item %d", u.Type, u.OutputIndex, u.ItemID, l.open)
		return
	}
	index := u.ContentIndex
	if strings.Contains(u.Type, "reasoning_summary") {
		index = u.SummaryIndex
	}
	switch u.Type {
	case responses.EventContentPartAdded, responses.EventSummaryPartAdded:
		if l.part >= 0 {
			t.Errorf("part %d added while part %d is open", index, l.part)
		}
		l.part = int(index)
		l.said.Reset()
		return
	case responses.EventContentPartDone, responses.EventSummaryPartDone:
		if int(index) != l.part {
			t.Errorf("part %d done, open part %d", index, l.part)
		}
		l.part = -1
		return
	}
	if strings.HasSuffix(u.Type, ".delta") {
		l.said.WriteString(u.Delta)
		return
	}
	got := map[string]string{responses.EventOutputTextDone: u.Text, responses.EventSummaryTextDone: u.Text,
		responses.EventRefusalDone: u.Refusal, responses.EventArgumentsDone: u.Arguments, responses.EventCustomInputDone: u.Input}
	if s, ok := got[u.Type]; !ok {
		t.Errorf("unexpected event %s", u.Type)
	} else if s != l.said.String() {
		t.Errorf("%s says %q, its deltas %q", u.Type, s, l.said.String())
	}
}

func (l *lifecycle) itemDone(u *sdk.ResponseStreamEventUnion, data []byte) {
	t := l.t
	if int(u.OutputIndex) != l.open || u.Item.ID != l.items[l.open] || u.Item.Type != l.openType {
		t.Errorf("output_item.done for item %d %s, open item %d %s", u.OutputIndex, u.Item.ID, l.open, l.openType)
	}
	if l.part >= 0 {
		t.Errorf("item %d done with part %d open", u.OutputIndex, l.part)
	}
	switch u.Item.Type {
	case responses.ItemFunctionCall:
		l.sameAsSaid("arguments", u.Item.Arguments.OfString)
	case responses.ItemCustomToolCall:
		l.sameAsSaid("input", u.Item.Input)
	}
	l.done = append(l.done, json.RawMessage(gjson.GetBytes(data, "item").Raw))
	l.open = -1
}

func (l *lifecycle) sameAsSaid(what, s string) {
	if s != l.said.String() {
		l.t.Errorf("output_item.done %s %q, its deltas %q", what, s, l.said.String())
	}
}

// end checks the terminal event: its response lists the items done, in order,
// with a status that agrees with the event.
func (l *lifecycle) end(u *sdk.ResponseStreamEventUnion, data []byte) {
	t := l.t
	l.terminal = u.Type
	r := u.Response
	l.final = &r
	want := map[string]string{responses.EventCompleted: "completed", responses.EventIncomplete: "incomplete",
		responses.EventFailed: "failed"}[u.Type]
	if string(r.Status) != want {
		t.Errorf("%s with status %s", u.Type, r.Status)
	}
	switch want {
	case "completed":
		if r.CompletedAt == 0 || r.Usage.TotalTokens != r.Usage.InputTokens+r.Usage.OutputTokens {
			t.Errorf("completed_at %v, usage %+v", r.CompletedAt, r.Usage)
		}
	case "incomplete":
		if r.IncompleteDetails.Reason == "" {
			t.Errorf("incomplete without a reason")
		}
	case "failed":
		if r.Error.Message == "" {
			t.Errorf("failed without an error message")
		}
	}
	var output []json.RawMessage
	if err := json.Unmarshal([]byte(gjson.GetBytes(data, "response.output").Raw), &output); err != nil {
		t.Fatal(err)
	}
	if want != "failed" || len(output) > 0 {
		if diff := cmp.Diff(rawStrings(l.done), rawStrings(output)); diff != "" {
			t.Errorf("terminal output differs from the items done (-done +output):\n%s", diff)
		}
	}
	if want != "failed" {
		if _, err := l.acc.ReconstructedResponse(); err != nil {
			t.Errorf("the SDK's accumulator: %v", err)
		}
	}
}

func rawStrings(rs []json.RawMessage) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = string(r)
	}
	return out
}

// checkResponseBody parses a non-streaming answer as the SDK's Response.
func checkResponseBody(t testing.TB, body []byte) *sdk.Response {
	t.Helper()
	var r sdk.Response
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("body does not parse as the SDK's Response: %v\n%s", err, body)
	}
	if r.Object != "response" || !strings.HasPrefix(r.ID, "resp_") {
		t.Errorf("object %q id %q", r.Object, r.ID)
	}
	for i, it := range r.Output {
		if it.ID == "" {
			t.Errorf("output[%d] without an id", i)
		}
	}
	return &r
}

// describe is a short form of a response's output, for assertions.
func describe(r *sdk.Response) []string {
	var out []string
	for _, it := range r.Output {
		switch it.Type {
		case responses.ItemMessage:
			var texts []string
			for _, c := range it.Content {
				texts = append(texts, c.Type+":"+c.Text+c.Refusal)
			}
			out = append(out, fmt.Sprintf("message %s %v", it.Status, texts))
		case responses.ItemFunctionCall:
			out = append(out, fmt.Sprintf("function_call %s %s(%s) %s", it.CallID, it.Name, it.Arguments.OfString, it.Status))
		case responses.ItemCustomToolCall:
			out = append(out, fmt.Sprintf("custom_tool_call %s %s(%q) %s", it.CallID, it.Name, it.Input, it.Status))
		case responses.ItemReasoning:
			var texts []string
			for _, s := range it.Summary {
				texts = append(texts, s.Text)
			}
			out = append(out, fmt.Sprintf("reasoning %q encrypted=%v", strings.Join(texts, "|"), it.EncryptedContent != ""))
		default:
			out = append(out, it.Type)
		}
	}
	return out
}
