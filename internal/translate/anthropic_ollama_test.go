package translate

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tidwall/gjson"
)

func TestOllamaAnthropicRequestGolden(t *testing.T) {
	goldenRequests(t, goldenSets["anthropic_ollama"])
}

func TestOllamaAnthropicRequest(t *testing.T) {
	ollRunRequestCases(t, "anthropic_ollama", []ollRequestCase{{
		name: "system string first, sampling options, stop sequences",
		in: `{"model":"claude","max_tokens":100,"system":"Be brief.","temperature":0.3,"top_p":0.8,"top_k":40,
			"stop_sequences":["END"],"messages":[{"role":"user","content":"Hi"}]}`,
		want: `{"model":"tiny","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}],
			"options":{"num_predict":100,"temperature":0.3,"top_p":0.8,"top_k":40,"stop":["END"]},"stream":false}`,
	}, {
		name: "system blocks joined, cache_control dropped",
		in: `{"max_tokens":1,"system":[{"type":"text","text":"a","cache_control":{"type":"ephemeral"}},{"type":"text","text":"b"}],
			"messages":[{"role":"user","content":[{"type":"text","text":"x"},{"type":"text","text":"y","cache_control":{"type":"ephemeral"}}]}]}`,
		want:        `{"model":"tiny","messages":[{"role":"system","content":"a\nb"},{"role":"user","content":"x\ny"}],"options":{"num_predict":1},"stream":false}`,
		wantDropped: []string{"system[0].cache_control", "messages[0].content[1].cache_control"},
	}, {
		name: "thinking disabled",
		in:   `{"max_tokens":1,"thinking":{"type":"disabled"},"messages":[]}`,
		want: `{"model":"tiny","messages":[],"options":{"num_predict":1},"think":false,"stream":false}`,
	}, {
		name:        "adaptive thinking with effort is think true for a model that takes no level",
		in:          `{"max_tokens":1,"thinking":{"type":"adaptive"},"output_config":{"effort":"medium"},"messages":[]}`,
		want:        `{"model":"tiny","messages":[],"options":{"num_predict":1},"think":true,"stream":false}`,
		wantDropped: []string{"output_config.effort"},
	}, {
		name:        "effort without thinking is dropped",
		in:          `{"max_tokens":1,"output_config":{"effort":"low"},"messages":[]}`,
		want:        `{"model":"tiny","messages":[],"options":{"num_predict":1},"stream":false}`,
		wantDropped: []string{"output_config.effort"},
	}, {
		name: "output_config json schema becomes format",
		in:   `{"max_tokens":1,"output_config":{"format":{"type":"json_schema","schema":{"type":"object"}}},"messages":[]}`,
		want: `{"model":"tiny","messages":[],"format":{"type":"object"},"options":{"num_predict":1},"stream":false}`,
	}, {
		name: "tool_choice none sends no tools, server tools dropped",
		in: `{"max_tokens":1,"tool_choice":{"type":"none"},"tools":[{"name":"f","input_schema":{"type":"object"}},
			{"type":"web_search_20250305","name":"web_search"}],"messages":[]}`,
		want:        `{"model":"tiny","messages":[],"options":{"num_predict":1},"stream":false}`,
		wantDropped: []string{"tools[1]"},
	}, {
		name: "tool_choice any and other fields dropped",
		in: `{"max_tokens":1,"tool_choice":{"type":"any"},"metadata":{"user_id":"u"},"service_tier":"auto",
			"tools":[{"name":"f","description":"d","input_schema":{"type":"object"},"cache_control":{"type":"ephemeral"}}],"messages":[]}`,
		want: `{"model":"tiny","messages":[],"tools":[{"type":"function","function":{"name":"f","description":"d","parameters":{"type":"object"}}}],
			"options":{"num_predict":1},"stream":false}`,
		wantDropped: []string{"tool_choice", "metadata", "service_tier", "tools[0].cache_control"},
	}, {
		name: "tool results come before the text of the same turn; errors folded into the text",
		in: `{"max_tokens":1,"messages":[{"role":"assistant","content":[{"type":"redacted_thinking","data":"x"},
			{"type":"tool_use","id":"t1","name":"f","input":{"a":1}}]},
			{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","is_error":true,"content":"boom"},{"type":"text","text":"and now?"}]}]}`,
		want: `{"model":"tiny","messages":[{"role":"assistant","content":"","tool_calls":[{"id":"t1","function":{"index":0,"name":"f","arguments":{"a":1}}}]},
			{"role":"tool","content":"Error: boom","tool_name":"f","tool_call_id":"t1"},{"role":"user","content":"and now?"}],
			"options":{"num_predict":1},"stream":false}`,
		wantDropped: []string{"messages[0].content[0]"},
	}, {
		name:      "image URL source is rejected",
		in:        `{"max_tokens":1,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"url","url":"https://x/y.png"}}]}]}`,
		wantParam: "messages[0].content[0].source.url",
		wantMsg:   "image URLs are not supported by ollama upstreams; send base64 data",
	}, {
		name:      "document blocks are not supported",
		in:        `{"max_tokens":1,"messages":[{"role":"user","content":[{"type":"document","source":{"type":"text","data":"x"}}]}]}`,
		wantParam: "messages[0].content[0].type",
	}, {
		name:      "unknown thinking type",
		in:        `{"max_tokens":1,"thinking":{"type":"sometimes"},"messages":[]}`,
		wantParam: "thinking.type",
	}, {
		name:      "stop_sequences must be an array",
		in:        `{"max_tokens":1,"stop_sequences":"END","messages":[]}`,
		wantParam: "stop_sequences",
	}})
}

func TestOllamaAnthropicResponseGolden(t *testing.T) {
	goldenResponses(t, goldenSets["anthropic_ollama"])
}

func TestOllamaAnthropicResponseFacts(t *testing.T) {
	tests := []struct {
		name string
		file string
		want map[string]string
	}{{
		name: "tool call",
		file: "ollama-real/api_chat_tools_nostream.body",
		want: map[string]string{
			"content":     `[{"type":"tool_use","id":"call_ehdreejx","name":"get_weather","input":{"city":"Paris"}}]`,
			"stop_reason": `"tool_use"`, // although done_reason is "stop"
			"usage":       `{"input_tokens":534,"output_tokens":10}`,
		},
	}, {
		name: "thinking first, with an empty signature",
		file: "ollama-real/api_chat_think_nostream.body",
		want: map[string]string{
			"content":     `[{"type":"thinking","thinking":"Let me think about it...","signature":""},{"type":"text","text":"Hello! I am a tiny test model."}]`,
			"stop_reason": `"end_turn"`,
			"usage":       `{"input_tokens":30,"output_tokens":19}`,
		},
	}, {
		name: "an empty answer is one empty text block",
		file: "ollama-real/api_generate_load.body", // a chat body would look the same: no content
		want: map[string]string{
			"content":     `[{"type":"text","text":""}]`,
			"stop_reason": `"end_turn"`,
			"usage":       `{"input_tokens":0,"output_tokens":0}`,
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := ollNew("anthropic_ollama").Response(readTestdata(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for k := range tt.want {
				got[k] = gjson.GetBytes(out, k).Raw
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestOllamaAnthropicStreamFacts(t *testing.T) {
	tests := []struct {
		name string
		file string
		want []string // event names, then selected data
	}{{
		name: "tool call as one whole block with an object input",
		file: "ollama-real/api_chat_tools_stream.body",
		want: []string{
			"message_start", "content_block_start", "content_block_delta", "content_block_stop", "message_delta", "message_stop",
			`{"type":"tool_use","id":"call_qbb4qm45","name":"get_weather","input":{}}`,
			`{"type":"input_json_delta","partial_json":"{\"city\":\"Paris\"}"}`,
			`{"stop_reason":"tool_use","stop_sequence":null}`,
			`{"input_tokens":534,"output_tokens":10}`,
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs := ollEvents(t, ollStreamOf(t, "anthropic_ollama", false, readTestdata(t, tt.file), nil))
			var got []string
			for _, ev := range evs {
				got = append(got, ev[0])
			}
			got = append(got,
				gjson.Get(evs[1][1], "content_block").Raw,
				gjson.Get(evs[2][1], "delta").Raw,
				gjson.Get(evs[4][1], "delta").Raw,
				gjson.Get(evs[4][1], "usage").Raw,
			)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			// The input_json_delta must carry an object, parseable as Anthropic input.
			if in := gjson.Get(gjson.Get(evs[2][1], "delta.partial_json").String(), "city").String(); in != "Paris" {
				t.Errorf("partial_json does not hold the object: %q", in)
			}
		})
	}
}

// TestOllamaAnthropicStreamBlocks checks block indexes and nesting on every body:
// each block starts, gets deltas, stops before the next starts, indexes count up.
func TestOllamaAnthropicStreamBlocks(t *testing.T) {
	for _, file := range ollChatStreams {
		t.Run(stem(file), func(t *testing.T) {
			evs := ollEvents(t, ollStreamOf(t, "anthropic_ollama", false, readTestdata(t, file), nil))
			open, next := -1, 0
			for _, ev := range evs {
				idx := int(gjson.Get(ev[1], "index").Int())
				if gjson.Get(ev[1], "type").String() != ev[0] {
					t.Errorf("event %s carries type %s", ev[0], gjson.Get(ev[1], "type"))
				}
				switch ev[0] {
				case "content_block_start":
					if open != -1 || idx != next {
						t.Errorf("start of %d while %d open, want index %d", idx, open, next)
					}
					open, next = idx, next+1
				case "content_block_delta":
					if idx != open {
						t.Errorf("delta for %d while %d open", idx, open)
					}
				case "content_block_stop":
					if idx != open {
						t.Errorf("stop for %d while %d open", idx, open)
					}
					open = -1
				case "message_delta", "message_stop":
					if open != -1 {
						t.Errorf("%s with block %d open", ev[0], open)
					}
				}
			}
		})
	}
}
