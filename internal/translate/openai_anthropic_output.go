package translate

// OpenAI Chat Completions client, Anthropic Messages upstream: how the model
// answers. reasoning_effort becomes Anthropic's thinking (issue 9 item 4) and a
// json_schema response_format its output_config.format (issue 9 item 9).
//
// Decisions where the digest is silent:
//   - none is thinking {"type":"disabled"}. Other levels turn thinking on in the
//     form the model takes (anthropic.AdaptiveThinking): adaptive with the
//     matching output_config.effort (minimal is low; Anthropic has no lower), or
//     enabled with a budget of 1024 (minimal), 2048 (low), 8192 (medium), 16384
//     (high), 32768 (xhigh) or 65536 (max) tokens.
//   - A budget stays below max_tokens, which counts thinking as OpenAI's
//     max_completion_tokens counts reasoning: without a client limit, max_tokens
//     grows to the budget plus the default; with one, the budget shrinks to fit,
//     and when less than Anthropic's minimum (1024) is left no thinking is asked
//     for and reasoning_effort is recorded as dropped.
//   - Anthropic refuses thinking with a forced tool call (tool_choice any or
//     tool) and with a changed temperature or top_p: the forced call wins and
//     reasoning_effort is dropped; temperature and top_p are dropped when
//     thinking is on. Both are recorded.
//   - response_format json_schema sends its schema; name and description have
//     no place and are recorded, strict is what Anthropic always does. A
//     json_object format (JSON without a schema) has no Anthropic form: dropped.

import (
	"encoding/json"

	"github.com/tidwall/gjson"

	"github.com/llmrouter/llmrouter/internal/anthropic"
)

// thinkingBudgets are the budget_tokens of reasoning_effort levels, and
// anthropicEfforts their output_config.effort.
var (
	thinkingBudgets  = map[string]int64{"minimal": 1024, "low": 2048, "medium": 8192, "high": 16384, "xhigh": 32768, "max": 65536}
	anthropicEfforts = map[string]string{"minimal": "low", "low": "low", "medium": "medium", "high": "high", "xhigh": "xhigh", "max": "max"}
)

// reasoningEffort reads reasoning_effort (docs/protocols.md §1.1).
func (c *chatConv) reasoningEffort(v gjson.Result) error {
	s, err := wantString(v, "reasoning_effort")
	if err != nil {
		return err
	}
	if _, ok := thinkingBudgets[s]; !ok && s != "none" {
		return reqErr("reasoning_effort", "unsupported reasoning effort %q", s)
	}
	c.effort = s
	return nil
}

// thinking sets thinking and output_config from reasoning_effort and the
// response format, once max_tokens and tool_choice are known. clientLimit says
// whether max_tokens is the client's.
func (c *chatConv) thinking(clientLimit bool) {
	if c.format != nil {
		c.out.OutputConfig = &anthropic.OutputConfig{Format: c.format}
	}
	anthropicThinking(&c.out, c.effort, "reasoning_effort", clientLimit, c.drops)
}

// anthropicThinking sets out's thinking for a reasoning effort (see the file's
// comment), once its model, max_tokens and tool_choice are set; effortPath names
// the client's effort field when it must be dropped. The Chat and Responses
// conversions share it.
func anthropicThinking(out *anthropic.Request, effort, effortPath string, clientLimit bool, d *drops) {
	if effort == "" {
		return
	}
	if effort == "none" {
		out.Thinking = &anthropic.Thinking{Type: "disabled"}
		return
	}
	if tc := out.ToolChoice; tc != nil && (tc.Type == "any" || tc.Type == "tool") {
		d.add(effortPath)
		return
	}
	if anthropic.AdaptiveThinking(out.Model) {
		out.Thinking = &anthropic.Thinking{Type: "adaptive"}
		if out.OutputConfig == nil {
			out.OutputConfig = &anthropic.OutputConfig{}
		}
		out.OutputConfig.Effort = anthropicEfforts[effort]
	} else {
		budget := thinkingBudgets[effort]
		if !clientLimit && out.MaxTokens <= budget {
			out.MaxTokens = budget + defaultAnthropicMaxTokens
		}
		budget = min(budget, out.MaxTokens-1)
		if budget < anthropic.MinThinkingBudget {
			d.add(effortPath)
			return
		}
		out.Thinking = &anthropic.Thinking{Type: "enabled", BudgetTokens: budget}
	}
	for _, s := range []struct {
		name string
		v    *json.RawMessage
	}{{"temperature", &out.Temperature}, {"top_p", &out.TopP}} {
		if *s.v != nil {
			*s.v = nil
			d.add(s.name)
		}
	}
}

// responseFormat reads response_format: a json_schema format's schema is kept
// for output_config.format.
func (c *chatConv) responseFormat(v gjson.Result) error {
	if err := wantObject(v, "response_format"); err != nil {
		return err
	}
	switch typ := v.Get("type").String(); typ {
	case "text":
		c.drops.unknown("response_format", v, "type")
	case "json_object":
		c.drops.add("response_format")
	case "json_schema":
		js := v.Get("json_schema")
		if err := wantObject(js, "response_format.json_schema"); err != nil {
			return err
		}
		schema := js.Get("schema")
		if !schema.IsObject() {
			c.drops.add("response_format")
			return nil
		}
		c.drops.unknown("response_format", v, "type", "json_schema")
		c.drops.unknown("response_format.json_schema", js, "schema", "strict")
		c.format = &anthropic.OutputFormat{Type: "json_schema", Schema: json.RawMessage(schema.Raw)}
	default:
		return reqErr("response_format.type", "unsupported response format %q", typ)
	}
	return nil
}
