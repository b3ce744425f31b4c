package wire

// Answer is what an upstream's answer says about itself, for traces: the model that
// answered and why it stopped (the GenAI conventions' gen_ai.response.model and
// gen_ai.response.finish_reasons). A dialect's ReadAnswer fills it from a whole
// body or from one stream event at a time.
type Answer struct {
	Model  string   // the model the upstream says answered; "" when it did not say
	Finish []string // the finish reasons, in the protocol's own words, at most MaxFinish
	// Content asks for the answer's text too (the first choice's), into Text: only
	// when traces capture content.
	Content bool
	Text    []byte // at most MaxText bytes
}

// MaxFinish bounds the finish reasons an Answer keeps: one per choice, and an
// upstream controls how many chunks carry one.
const MaxFinish = 16

// MaxText bounds the text an Answer keeps (a span's attribute is cut there too).
const MaxText = 64 << 10

// SetModel records the model an answer names; an empty name changes nothing.
func (a *Answer) SetModel(m string) {
	if m != "" {
		a.Model = m
	}
}

// AddFinish records a finish reason; an empty one, or one past MaxFinish, is
// ignored.
func (a *Answer) AddFinish(r string) {
	if r != "" && len(a.Finish) < MaxFinish {
		a.Finish = append(a.Finish, r)
	}
}

// AddText appends a piece of the answer's text, when Content asks for it, up to
// MaxText bytes (a piece past the bound is cut, not split inside a UTF-8 sequence).
func (a *Answer) AddText(s string) {
	if !a.Content || s == "" || len(a.Text) >= MaxText {
		return
	}
	if room := MaxText - len(a.Text); len(s) > room {
		for room > 0 && s[room]&0xC0 == 0x80 {
			room--
		}
		s = s[:room]
	}
	a.Text = append(a.Text, s...)
}
